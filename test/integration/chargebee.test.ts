/** The Chargebee connector against the fake Chargebee site, with the SDK's connector test kit. */
import { afterEach, describe, expect, it } from 'vitest';
import { StreamerFatalError } from '../../lib/streamer/define-streamer.ts';
import type { StreamerRunOptions } from '../../lib/streamer/streamer.ts';
import { chargebeeStreamer } from '../../lib/streamers/chargebee/chargebee-streamer.ts';
import {
  checkResumeWithoutGaps,
  checkSchemaConformance,
  runStreamer,
} from '../../lib/testing/connector-test-kit.ts';
import { ChargebeeApi } from '../fakes/chargebee-api.ts';

let api: ChargebeeApi;
let waits: number[] = [];
afterEach(() => api?.stop());

async function site(options: ConstructorParameters<typeof ChargebeeApi>[0] = {}) {
  api = await new ChargebeeApi(options).start();
  waits = [];
  return api;
}

const options = (extra: Partial<StreamerRunOptions> = {}): StreamerRunOptions => ({
  config: { site: api.site, api_key: api.apiKey, start_date: '2020-01-01T00:00:00Z', base_url: api.baseUrl },
  http: {
    sleep: async (ms) => {
      waits.push(ms);
    },
  },
  ...extra,
});
const ids = (run: Awaited<ReturnType<typeof runStreamer>>, stream: string) =>
  (run.records.get(stream) ?? []).map((record) => record.id);
const live = (stream: string) =>
  (api.rows[stream] ?? []).filter((row) => row.deleted !== true).map((row) => row.id);

describe('chargebee connector', () => {
  it('a full sync of a Product Catalog 2.0 site equals the site: every stream, the legacy customer without updated_at, exact amounts, date-times', async () => {
    await site({ customers: 30 });
    const run = await runStreamer(chargebeeStreamer, options());
    expect(run.error).toBeUndefined();
    checkSchemaConformance(run);
    expect(ids(run, 'customers').sort()).toEqual(live('customers').sort());
    expect(ids(run, 'subscriptions').sort()).toEqual(live('subscriptions').sort());
    expect(ids(run, 'events')).toHaveLength(30);
    expect(ids(run, 'items')).toEqual(['growth']);
    expect(ids(run, 'item_prices')).toEqual(['growth-EUR-monthly']);
    expect(ids(run, 'attached_items')).toEqual(['att_1']);
    // Product Catalog 1.0 only: not on this site, so not synced at all (no empty table), and no call made.
    expect(run.records.has('plans')).toBe(false);
    expect(run.messages.some((message) => message.type === 'SCHEMA' && message.stream === 'addons')).toBe(
      false,
    );
    expect(api.requests.some((request) => request.startsWith('/api/v2/plans'))).toBe(false);
    // A child read whole keeps no bookmark per parent record: the state does not grow with the items.
    expect(JSON.stringify(run.state)).not.toContain('item_id');
    const customers = run.records.get('customers') ?? [];
    expect(customers.find((customer) => customer.id === 'cus_0003')?.excess_payments).toBe(300_000_000_000);
    expect(customers.find((customer) => customer.id === 'cus_0002')?.created_at).toMatch(
      /^20\d\d-\d\d-\d\dT.*Z$/,
    );
    expect(customers.find((customer) => customer.id === 'cus_0001')?.updated_at).toBeUndefined();
    // Pages of at most 100, the list walked in updated_at order, deleted records asked for.
    for (const path of api.requests.filter((request) => request.startsWith('/api/v2/customers'))) {
      const query = new URL(path, 'http://x').searchParams;
      expect(Number(query.get('limit'))).toBeLessThanOrEqual(100);
      expect(query.get('sort_by[asc]')).toBe('updated_at');
      expect(query.get('include_deleted')).toBe('true');
    }
    expect(api.requests.filter((request) => request.startsWith('/api/v2/customers')).length).toBe(1);
  });

  it('a Product Catalog 1.0 site gives plans and addons, and no items', async () => {
    await site({ customers: 3, catalog: 'v1' });
    const run = await runStreamer(chargebeeStreamer, options());
    expect(run.error).toBeUndefined();
    expect(ids(run, 'plans')).toEqual(['growth']);
    expect(ids(run, 'addons')).toEqual(['support']);
    expect(run.records.has('items')).toBe(false);
    expect(run.records.has('attached_items')).toBe(false);
    expect(api.requests.some((request) => request.startsWith('/api/v2/items'))).toBe(false);
  });

  it("a site whose configuration does not say its catalogue: every stream is tried, the other catalogue's answer counts as empty", async () => {
    await site({ customers: 3, catalog: 'v1' });
    api.catalogUnknown = true;
    const run = await runStreamer(chargebeeStreamer, options());
    expect(run.error).toBeUndefined();
    expect(ids(run, 'plans')).toEqual(['growth']);
    expect(ids(run, 'items')).toEqual([]); // 400 configuration_incompatible: not available, not failed
  });

  it("the next run brings only changes: an edit, an edit in the bookmark's own second, a deletion kept with deleted: true", async () => {
    await site({ customers: 250 });
    const first = await runStreamer(chargebeeStreamer, options({ selectedStreams: ['customers'] }));
    expect(first.error).toBeUndefined();
    expect(ids(first, 'customers')).toHaveLength(250);
    // The newest customer was read at the bookmark's second; it changes again within that second.
    const newest = api.rows.customers?.at(-1);
    if (newest === undefined) throw new Error('no customers');
    api.change('customers', String(newest.id), { email: 'same.second@example.com' }, true);
    api.change('customers', 'cus_0010', { first_name: 'Renamed' });
    api.change('customers', 'cus_0011', { deleted: true });
    const second = await runStreamer(
      chargebeeStreamer,
      options({ selectedStreams: ['customers'], state: first.state }),
    );
    expect(second.error).toBeUndefined();
    const changed = second.records.get('customers') ?? [];
    expect(changed.map((customer) => customer.id).sort()).toEqual(
      [String(newest.id), 'cus_0010', 'cus_0011'].sort(),
    );
    expect(changed.find((customer) => customer.id === newest.id)?.email).toBe('same.second@example.com');
    expect(changed.find((customer) => customer.id === 'cus_0011')?.deleted).toBe(true);
    const third = await runStreamer(
      chargebeeStreamer,
      options({ selectedStreams: ['customers'], state: second.state }),
    );
    expect(ids(third, 'customers')).toEqual([]);
  });

  it('429 waits for Retry-After when given, else a minute; 500 is retried; a spent 60-second budget is a 429 too', async () => {
    await site({ customers: 3 });
    api.faults.push(
      { status: 429, code: 'api_request_limit_exceeded', retryAfter: '7' },
      { status: 429, code: 'api_request_limit_exceeded' },
      { status: 500, code: 'internal_error' },
    );
    const run = await runStreamer(chargebeeStreamer, options({ selectedStreams: ['customers'] }));
    expect(run.error).toBeUndefined();
    expect(waits[0]).toBeGreaterThanOrEqual(7_000);
    expect(waits[0]).toBeLessThan(8_000);
    expect(waits[1]).toBeGreaterThanOrEqual(60_000);
    expect(waits).toHaveLength(3);
    expect(ids(run, 'customers')).toHaveLength(3);
    api.budget = 0; // the site stays blocked: the run gives up with Chargebee's own code, not silently
    const blocked = await runStreamer(chargebeeStreamer, options({ selectedStreams: ['coupons'] }));
    expect(blocked.error?.message).toMatch(/api_request_limit_exceeded/);
  });

  it('a wrong key ends the run at once, naming the code', async () => {
    await site({ customers: 3 });
    const run = await runStreamer(
      chargebeeStreamer,
      options({ config: { ...options().config, api_key: 'live_wrong' } }),
    );
    expect(run.error).toBeInstanceOf(StreamerFatalError);
    expect(run.error?.message).toMatch(
      /Chargebee answered 401 \(api_authentication_failed: Sorry, authentication failed/,
    );
    expect(run.error?.message).not.toMatch(/live_wrong/);
  });

  it('a run stopped at any STATE resumes without gaps or repeats', async () => {
    await site({ customers: 320 });
    for (const stop of [1, 2, 4])
      await checkResumeWithoutGaps(
        chargebeeStreamer,
        options({ selectedStreams: ['customers', 'events'] }),
        stop,
        (record) => String(record.id),
      );
  });
});
