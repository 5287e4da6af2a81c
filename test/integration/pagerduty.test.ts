/** The PagerDuty connector against the fake PagerDuty API, with the SDK's connector test kit. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamerFatalError } from '../../lib/streamer/define-streamer.ts';
import type { StreamerRunOptions } from '../../lib/streamer/streamer.ts';
import { pagerdutyStreamer } from '../../lib/streamers/pagerduty/pagerduty-streamer.ts';
import {
  checkResumeWithoutGaps,
  checkSchemaConformance,
  runStreamer,
} from '../../lib/testing/connector-test-kit.ts';
import { PagerdutyApi } from '../fakes/pagerduty-api.ts';

let api: PagerdutyApi;
let waits: number[];
beforeEach(async () => {
  api = await new PagerdutyApi().start();
  waits = [];
});
afterEach(() => api.stop());

const options = (extra: Partial<StreamerRunOptions> = {}): StreamerRunOptions => ({
  config: { api_token: api.token, start_date: '2024-12-01T00:00:00Z', base_url: api.baseUrl },
  http: {
    sleep: async (ms) => {
      waits.push(ms);
    },
  },
  ...extra,
});
const ids = (run: Awaited<ReturnType<typeof runStreamer>>, stream: string) =>
  (run.records.get(stream) ?? []).map((record) => record.id);

describe('pagerduty connector', () => {
  it('a full sync equals the fake dataset, in bounded windows, every record valid', async () => {
    const run = await runStreamer(pagerdutyStreamer, options());
    expect(run.error).toBeUndefined();
    checkSchemaConformance(run);
    expect(ids(run, 'incidents')).toEqual(api.incidents.map((incident) => incident.id));
    expect(ids(run, 'log_entries').sort()).toEqual(api.logEntries.map((entry) => entry.id).sort());
    for (const name of ['services', 'users', 'escalation_policies', 'teams'])
      expect(ids(run, name)).toEqual(api.lists[name]?.map((row) => row.id));
    const incidentRequests = api.requests.filter((path) => path.startsWith('/incidents'));
    for (const path of incidentRequests) {
      const query = new URL(path, 'http://x').searchParams;
      expect(Date.parse(query.get('until') ?? '') - Date.parse(query.get('since') ?? '')).toBeLessThanOrEqual(
        30 * 86_400_000,
      );
      expect(query.get('time_zone')).toBe('UTC');
    }
  });

  it('the next run re-reads only incidents inside the lookback, and picks up one resolved since', async () => {
    // incidents over the last 20 days, one every 12 hours: the bookmark ends at the run's own time
    await api.stop();
    api = new PagerdutyApi(0);
    const now = Date.now();
    for (let hours = 20 * 24; hours > 0; hours -= 12) api.addIncident(now - hours * 3_600_000);
    await api.start();
    const first = await runStreamer(
      pagerdutyStreamer,
      options({ config: { ...options().config, start_date: new Date(now - 25 * 86_400_000).toISOString() } }),
    );
    expect(first.error).toBeUndefined();
    // the bookmark is the creation time of the last incident read; the lookback re-reads 7 days before it
    const bookmark = (
      first.state as { bookmarks: { incidents: { partitions: Record<string, { value: string }> } } }
    ).bookmarks.incidents.partitions['']?.value;
    expect(bookmark).toBe(api.incidents.at(-1)?.created_at);
    const insideLookback = api.incidents.filter(
      (incident) => Date.parse(String(incident.created_at)) >= Date.parse(String(bookmark)) - 7 * 86_400_000,
    );
    const recent = insideLookback[2];
    if (recent === undefined) throw new Error('fixture too small');
    api.resolve(recent, Date.now() - 1_000);
    const second = await runStreamer(
      pagerdutyStreamer,
      options({
        config: { ...options().config, start_date: new Date(now - 25 * 86_400_000).toISOString() },
        state: first.state,
      }),
    );
    expect(second.error).toBeUndefined();
    expect(ids(second, 'incidents')).toEqual(insideLookback.map((incident) => incident.id));
    expect(second.records.get('incidents')?.find((incident) => incident.id === recent.id)).toMatchObject({
      status: 'resolved',
    });
    expect(ids(second, 'log_entries')).toEqual([api.logEntries.at(-1)?.id]); // only the new resolve entry
    expect(insideLookback.length).toBeLessThan(api.incidents.length);
  });

  it('the offset cap narrows the window instead of failing: every incident once', async () => {
    await api.stop();
    api = new PagerdutyApi(0);
    for (let i = 0; i < 130; i += 1) api.addIncident(Date.parse('2025-01-01T00:00:00Z') + i * 60_000); // one window
    api.offsetCap = 100;
    await api.start();
    const run = await runStreamer(pagerdutyStreamer, options({ selectedStreams: ['incidents'] }));
    expect(run.error).toBeUndefined();
    expect(ids(run, 'incidents')).toEqual(api.incidents.map((incident) => incident.id));
  });

  it('429: waits for ratelimit-reset when given, else a minute', async () => {
    api.rateLimits.push({ headers: true }, { headers: false });
    const run = await runStreamer(pagerdutyStreamer, options({ selectedStreams: ['services'] }));
    expect(run.error).toBeUndefined();
    expect(waits[0]).toBeGreaterThanOrEqual(11_000);
    expect(waits[0]).toBeLessThanOrEqual(12_000);
    expect(waits[1]).toBeGreaterThanOrEqual(60_000);
    expect(ids(run, 'services')).toEqual(['PSVC1', 'PSVC2']);
  });

  it('a wrong token ends the run at once with the API message', async () => {
    const run = await runStreamer(
      pagerdutyStreamer,
      options({ config: { ...options().config, api_token: 'nope-nope' } }),
    );
    expect(run.error).toBeInstanceOf(StreamerFatalError);
    expect(run.error?.message).toMatch(/PagerDuty answered 401 \(Authentication failed\): check api_token/);
    expect(api.requests).toHaveLength(1);
  });

  it('a run stopped at any STATE resumes without gaps or repeats', async () => {
    for (const stop of [1, 3, 6])
      await checkResumeWithoutGaps(
        pagerdutyStreamer,
        options({ selectedStreams: ['incidents', 'log_entries'] }),
        stop,
        (record) => String(record.id),
      );
  });
});
