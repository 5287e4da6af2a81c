/**
 * Tap schedules as EventBridge Scheduler writes them, `rate(1 hour)` or `cron(0/15 * * * ? *)`,
 * turned into "when next" for `trib schedule`. EventBridge cron has six fields (minutes hours
 * day-of-month month day-of-week year) and counts weekdays from SUN=1; croner takes five and SUN=0.
 */
import { Cron } from 'croner';

export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

export interface Schedule {
  /** The next time at or after `from` (epoch ms) the tap is due. */
  next(from: number): number;
}

/** Refuses a time zone name the runtime does not know (croner would fail only at the first run). */
export function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new ScheduleError(
      `timezone ${JSON.stringify(timezone)} is not an IANA time zone; e.g. Europe/Berlin, America/New_York, UTC`,
    );
  }
}

export function parseSchedule(expression: string, timezone = 'UTC'): Schedule {
  checkTimezone(timezone);
  const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(expression.trim());
  if (rate !== null) {
    const every = Number(rate[1]) * UNIT_MS[(rate[2] ?? 'minute').replace(/s$/, '') as keyof typeof UNIT_MS];
    if (every <= 0) throw new ScheduleError(`${expression}: a rate must be at least 1`);
    return { next: (from) => from + every };
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (cron?.[1] !== undefined) {
    const fields = cron[1].trim().split(/\s+/);
    if (fields.length !== 6)
      throw new ScheduleError(
        `${expression}: expected 6 cron fields (minutes hours day-of-month month day-of-week year)`,
      );
    const [minutes, hours, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
    const weekday =
      dayOfWeek === '?' ? '*' : dayOfWeek.replace(/\d+/g, (day) => String((Number(day) + 6) % 7));
    // EventBridge's "0/15" (from 0, every 15) is croner's "0-59/15".
    const stepFrom = (field: string, max: number) => field.replace(/^(\d+)\/(\d+)$/, `$1-${max}/$2`);
    const pattern = [
      stepFrom(minutes, 59),
      stepFrom(hours, 23),
      dayOfMonth === '?' ? '*' : stepFrom(dayOfMonth, 31),
      stepFrom(month, 12),
      weekday,
    ].join(' ');
    let job: Cron;
    try {
      job = new Cron(pattern, { timezone, paused: true, legacyMode: false });
      job.nextRun(); // an impossible field (minute 99) shows here, not at the first scheduled run
    } catch (error) {
      throw new ScheduleError(`${expression}: ${(error as Error).message}`, { cause: error });
    }
    return {
      next: (from) => {
        const next = job.nextRun(new Date(from));
        if (next === null) throw new ScheduleError(`${expression}: never runs again`);
        return next.getTime();
      },
    };
  }
  throw new ScheduleError(`${expression}: expected rate(<n> minute[s]|hour[s]|day[s]) or cron(<6 fields>)`);
}

/** The longest gap between two runs over the next few (a rate's interval; a cron's widest gap). */
export function longestInterval(schedule: Schedule, from = Date.now()): number {
  let longest = 0;
  let at = schedule.next(from);
  for (let i = 0; i < 12; i += 1) {
    let next = schedule.next(at);
    if (next <= at) next = schedule.next(at + 1); // a cron's "at or after" gives `at` itself
    longest = Math.max(longest, next - at);
    at = next;
  }
  return longest;
}
