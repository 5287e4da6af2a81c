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

  it('an old incident acknowledged, resolved or reassigned long after its creation is updated; unchanged ones are not read again', async () => {
    await api.stop();
    api = new PagerdutyApi(0);
    const now = Date.now();
    for (let days = 90; days > 0; days -= 3) api.addIncident(now - days * 86_400_000);
    await api.start();
    const config = { ...options().config, start_date: new Date(now - 100 * 86_400_000).toISOString() };
    const first = await runStreamer(pagerdutyStreamer, options({ config }));
    expect(first.error).toBeUndefined();
    expect(ids(first, 'incidents')).toEqual(api.incidents.map((incident) => incident.id));
    // Changes weeks after creation: far outside any creation-time window of the next run.
    const [oldest, old, older] = api.incidents;
    if (oldest === undefined || old === undefined || older === undefined)
      throw new Error('fixture too small');
    api.resolve(oldest, Date.now());
    api.acknowledge(old, Date.now());
    api.reassign(older, Date.now(), 'PUSR1');
    const fresh = api.addIncident(Date.now());
    const second = await runStreamer(pagerdutyStreamer, options({ config, state: first.state }));
    expect(second.error).toBeUndefined();
    checkSchemaConformance(second);
    const incidents = second.records.get('incidents') ?? [];
    expect(incidents.map((incident) => incident.id).sort()).toEqual(
      [oldest.id, old.id, older.id, fresh.id].sort(),
    );
    expect(incidents.find((incident) => incident.id === oldest.id)).toMatchObject({ status: 'resolved' });
    expect(incidents.find((incident) => incident.id === old.id)).toMatchObject({ status: 'acknowledged' });
    expect(incidents.find((incident) => incident.id === older.id)?.assignments).toHaveLength(1);
    // The log entries stream brings the three changes and the new trigger, once each.
    expect(ids(second, 'log_entries')).toHaveLength(4);

    // A full sync now equals the account's incidents as they are.
    const full = await runStreamer(pagerdutyStreamer, options({ config, selectedStreams: ['incidents'] }));
    const truth = new Map(api.incidents.map((incident) => [incident.id, JSON.stringify(incident)]));
    const merged = new Map(
      [...(first.records.get('incidents') ?? []), ...incidents].map((incident) => [
        incident.id,
        JSON.stringify(incident),
      ]),
    );
    expect(
      new Map(
        (full.records.get('incidents') ?? []).map((incident) => [incident.id, JSON.stringify(incident)]),
      ),
    ).toEqual(truth);
    expect(merged).toEqual(truth);
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
