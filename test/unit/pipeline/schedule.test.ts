import { describe, expect, it } from 'vitest';
import { parseSchedule, ScheduleError } from '../../../lib/pipeline/schedule.ts';

const at = (iso: string) => Date.parse(iso);

describe('parseSchedule', () => {
  it('rates: the next run is one interval later', () => {
    expect(parseSchedule('rate(15 minutes)').next(at('2026-01-01T00:00:00Z'))).toBe(
      at('2026-01-01T00:15:00Z'),
    );
    expect(parseSchedule('rate(1 day)').next(at('2026-01-01T10:00:00Z'))).toBe(at('2026-01-02T10:00:00Z'));
  });

  it('EventBridge cron: six fields, ? for "any", weekdays counted from SUN=1, in the given time zone', () => {
    expect(parseSchedule('cron(0/15 * * * ? *)').next(at('2026-01-01T00:07:00Z'))).toBe(
      at('2026-01-01T00:15:00Z'),
    );
    // 2026-01-01 is a Thursday; weekday 2 in EventBridge is Monday
    expect(parseSchedule('cron(0 8 ? * 2 *)').next(at('2026-01-01T00:00:00Z'))).toBe(
      at('2026-01-05T08:00:00Z'),
    );
    expect(parseSchedule('cron(0 8 ? * MON-FRI *)').next(at('2026-01-03T00:00:00Z'))).toBe(
      at('2026-01-05T08:00:00Z'),
    );
    expect(parseSchedule('cron(0 9 * * ? *)', 'Europe/Berlin').next(at('2026-01-01T00:00:00Z'))).toBe(
      at('2026-01-01T08:00:00Z'),
    );
  });

  it('refuses what EventBridge would refuse, saying what is allowed', () => {
    expect(() => parseSchedule('every hour')).toThrow(ScheduleError);
    expect(() => parseSchedule('cron(0 8 * * *)')).toThrow(/expected 6 cron fields/);
  });
});
