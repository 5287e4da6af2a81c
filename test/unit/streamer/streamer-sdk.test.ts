/** The streamer SDK against a local fake HTTP API: paging, retries, auth, bookmarks, failures. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../../../lib/protocol/messages.ts';
import {
  discoverCatalog,
  selectedFieldsFromCatalog,
  selectedStreamsFromCatalog,
} from '../../../lib/streamer/catalog.ts';
import { configFromEnvironment } from '../../../lib/streamer/config-from-env.ts';
import { StreamsFailedError } from '../../../lib/streamer/define-streamer.ts';
import type { StreamerRunOptions } from '../../../lib/streamer/streamer.ts';
import { StreamerConfigError } from '../../../lib/streamer/streamer.ts';
import {
  checkBookmarkOrder,
  checkResumeWithoutGaps,
  checkSchemaConformance,
  checkSecondRunReadsOnlyChanges,
  runStreamer,
} from '../../../lib/testing/connector-test-kit.ts';
import { WidgetApi } from '../../fakes/widget-api.ts';
import { widgetStreamer } from '../../fakes/widget-streamer.ts';

let api: WidgetApi;
let waits: number[];
let logs: string[];
beforeEach(async () => {
  api = await new WidgetApi().start();
  waits = [];
  logs = [];
});
afterEach(() => api.stop());

const options = (streams: string[], extra: Partial<StreamerRunOptions> = {}): StreamerRunOptions => ({
  config: { base_url: api.baseUrl, access_token: api.token, start_date: '2024-01-01T00:00:00Z' },
  selectedStreams: streams,
  log: (line) => logs.push(line),
  http: {
    sleep: async (ms) => {
      waits.push(ms);
    },
  },
  ...extra,
});
const ids = (run: Awaited<ReturnType<typeof runStreamer>>, stream: string) =>
  (run.records.get(stream) ?? []).map((record) => record.id);
const all = () => api.widgets.map((widget) => widget.id);

describe('streamer SDK: pagination', () => {
  for (const stream of ['link_widgets', 'cursor_widgets', 'page_widgets', 'offset_widgets']) {
    it(`${stream}: a full sync reads the whole dataset once, valid against its schema`, async () => {
      const run = await runStreamer(widgetStreamer, options([stream]));
      expect(run.error).toBeUndefined();
      expect(ids(run, stream)).toEqual(all());
      checkSchemaConformance(run);
    });
  }

  it('date windows: requests bounded ranges the API accepts, and the next run starts where the last ended', async () => {
    const run = await runStreamer(widgetStreamer, options(['window_widgets']));
    expect(run.error).toBeUndefined();
    expect(ids(run, 'window_widgets')).toEqual(all());
    const windows = api.requests.filter((path) => path.startsWith('/window/'));
    expect(windows.length).toBeGreaterThan(50); // 2024-01-01 to now in 7-day steps
    api.requests.length = 0;
    const second = await runStreamer(widgetStreamer, options(['window_widgets'], { state: run.state }));
    expect(second.records.get('window_widgets') ?? []).toEqual([]);
    expect(api.requests.length).toBeLessThan(3);
  });

  it('stops on a page that repeats instead of looping', async () => {
    const run = await runStreamer(widgetStreamer, options(['stuck_widgets']));
    expect(run.error).toBeInstanceOf(StreamsFailedError);
    expect(run.error?.message).toMatch(
      /stuck_widgets: stream stuck_widgets: the API returned the same page again/,
    );
    expect(api.requests.length).toBe(2);
  });
});

describe('streamer SDK: incremental replication', () => {
  it('the second run reads nothing; after a change, exactly the changed and new records', async () => {
    const first = await runStreamer(widgetStreamer, options(['link_widgets']));
    checkBookmarkOrder(first, 'link_widgets', 'updated_at');
    // the API answers `since` inclusively: the boundary record comes back and is dropped by key
    await checkSecondRunReadsOnlyChanges(widgetStreamer, options(['link_widgets']), first);
    api.mutate();
    const third = await runStreamer(widgetStreamer, options(['link_widgets'], { state: first.state }));
    expect(ids(third, 'link_widgets')).toEqual([3, 26]);
  });

  it('a lookback re-reads the rows within it, so late-arriving rows are not missed', async () => {
    const first = await runStreamer(widgetStreamer, options(['late_widgets']));
    const second = await runStreamer(widgetStreamer, options(['late_widgets'], { state: first.state }));
    // widgets are a minute apart: the last one and the ten before it are inside a 10-minute lookback
    expect(ids(second, 'late_widgets')).toEqual(all().slice(-11));
    const query = api.requests.at(-1) ?? '';
    expect(decodeURIComponent(query)).toContain('since=2024-01-01T00:15:00.000Z');
  });

  it('a STATE after every page: a run stopped at any STATE resumes without gaps or repeats', async () => {
    for (const stop of [1, 2, 3])
      await checkResumeWithoutGaps(widgetStreamer, options(['link_widgets']), stop);
  });

  it('a deadline stops the run cleanly at a STATE, and the next run finishes the job', async () => {
    const stopped = await runStreamer(
      widgetStreamer,
      options(['link_widgets'], { deadline: Date.now() - 1 }),
    );
    expect(stopped.error).toBeUndefined();
    expect(stopped.messages.at(-1)?.type).toBe('STATE');
    expect(ids(stopped, 'link_widgets')).toEqual(all().slice(0, 10));
    expect(logs.some((line) => /deadline reached/.test(line))).toBe(true);
    const rest = await runStreamer(widgetStreamer, options(['link_widgets'], { state: stopped.state }));
    expect([...ids(stopped, 'link_widgets'), ...ids(rest, 'link_widgets')]).toEqual(all());
  });

  it('full table: ACTIVATE_VERSION first on the first pass only, and after every complete pass', async () => {
    const first = await runStreamer(widgetStreamer, options(['offset_widgets']));
    const kinds = (run: typeof first) =>
      run.messages.filter((m) => m.type === 'ACTIVATE_VERSION' || m.type === 'RECORD').map((m) => m.type);
    expect(kinds(first)[0]).toBe('ACTIVATE_VERSION');
    expect(kinds(first).at(-1)).toBe('ACTIVATE_VERSION');
    const second = await runStreamer(widgetStreamer, options(['offset_widgets'], { state: first.state }));
    expect(kinds(second).filter((kind) => kind === 'ACTIVATE_VERSION')).toHaveLength(1);
    expect(kinds(second).at(-1)).toBe('ACTIVATE_VERSION');
    const versions = (run: typeof first) =>
      new Set(run.messages.flatMap((m) => (m.type === 'RECORD' ? [m.version] : [])));
    expect([...versions(second)]).toHaveLength(1);
    expect([...versions(second)][0]).not.toEqual([...versions(first)][0]);
  });

  it('full table: a pass stopped by a deadline continues with the same version', async () => {
    const stopped = await runStreamer(
      widgetStreamer,
      options(['offset_widgets'], { deadline: Date.now() - 1 }),
    );
    expect(stopped.messages.filter((m) => m.type === 'ACTIVATE_VERSION')).toHaveLength(1); // only the first-pass one
    const rest = await runStreamer(widgetStreamer, options(['offset_widgets'], { state: stopped.state }));
    const version = (messages: readonly Message[]) =>
      messages.find((m) => m.type === 'RECORD' && m.version !== undefined);
    expect((version(rest.messages) as { version: number }).version).toBe(
      (version(stopped.messages) as { version: number }).version,
    );
    expect([...ids(stopped, 'offset_widgets'), ...ids(rest, 'offset_widgets')]).toEqual(all());
    expect(rest.messages.filter((m) => m.type === 'ACTIVATE_VERSION')).toHaveLength(1);
  });
});

describe('streamer SDK: retries, rate limits and auth', () => {
  it('429 with retry-after waits as told; without it, backs off; 5xx flakes are retried', async () => {
    api.fail(
      '/link/widgets',
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 429 },
      { status: 500 },
      { status: 503 },
    );
    const run = await runStreamer(widgetStreamer, options(['link_widgets']));
    expect(run.error).toBeUndefined();
    expect(ids(run, 'link_widgets')).toEqual(all());
    expect(waits[0]).toBe(7_000);
    expect(waits).toHaveLength(4);
    expect(logs.some((line) => line.startsWith('METRIC: ') && line.includes('"retry_count","value":4'))).toBe(
      true,
    );
  });

  it('paces itself by the rate-limit headers: waits for the reset instead of being refused', async () => {
    api.budget = 2;
    const run = await runStreamer(widgetStreamer, { ...options(['link_widgets']), http: {} });
    expect(run.error).toBeUndefined();
    expect(ids(run, 'link_widgets')).toEqual(all());
    expect(api.overBudget).toBe(0);
    expect(logs.some((line) => /rate-limit budget spent; waiting/.test(line))).toBe(true);
  });

  it('on a 401, refreshes the OAuth token once and goes on', async () => {
    api.rotateToken();
    const stale = { ...options(['link_widgets']).config, oauth: true, access_token: 'token-1' };
    const run = await runStreamer(widgetStreamer, options(['link_widgets'], { config: stale }));
    expect(run.error).toBeUndefined();
    expect(api.refreshes).toBe(1);
    expect(ids(run, 'link_widgets')).toEqual(all());
  });

  it('a 4xx other than 429 is not retried and ends the stream with the API message, secrets masked', async () => {
    api.fail('/link/widgets', { status: 400, body: { message: `token ${api.token} is not allowed here` } });
    const run = await runStreamer(widgetStreamer, options(['link_widgets']));
    expect(run.error?.message).toMatch(
      /link_widgets: GET .* failed with HTTP 400: token \*\*\* is not allowed here/,
    );
    expect(run.error?.message).not.toContain(api.token);
    expect(api.requests).toHaveLength(1);
    expect(logs.join('\n')).not.toContain(api.token);
  });

  it('a wrong token fails fast with the API message', async () => {
    const run = await runStreamer(
      widgetStreamer,
      options(['link_widgets'], { config: { ...options([]).config, access_token: 'wrong-token' } }),
    );
    expect(run.error?.message).toMatch(/HTTP 401: Bad credentials/);
    expect(api.requests).toHaveLength(1);
  });
});

describe('streamer SDK: parent and child streams', () => {
  it('a child runs per parent record, even when the parent is not selected, and a child read whole keeps no bookmark per parent record', async () => {
    const run = await runStreamer(widgetStreamer, options(['parts']));
    expect(run.error).toBeUndefined();
    expect(run.records.get('link_widgets')).toBeUndefined();
    expect(run.records.get('parts')).toHaveLength(50);
    const bookmarks = (run.state as { bookmarks: Record<string, { partitions: Record<string, unknown> }> })
      .bookmarks;
    expect(Object.keys(bookmarks.parts?.partitions ?? {})).toHaveLength(0); // not one per widget
  });

  it('a failing child stream fails alone: the others finish, and the run names it', async () => {
    api.missingParts.add(3);
    const run = await runStreamer(widgetStreamer, options(['link_widgets', 'parts', 'cursor_widgets']));
    expect(run.error).toBeInstanceOf(StreamsFailedError);
    expect([...(run.error as StreamsFailedError).failures.keys()]).toEqual(['parts']);
    expect(run.error?.message).toMatch(
      /parts: GET .*\/widgets\/3\/parts failed with HTTP 404: widget 3 not found/,
    );
    expect(ids(run, 'link_widgets')).toEqual(all());
    expect(ids(run, 'cursor_widgets')).toEqual(all());
    expect(run.messages.at(-1)?.type).toBe('STATE');
  });
});

describe('streamer SDK: catalog, selection and config', () => {
  it('discovers a catalog with metadata, and selects streams and fields from it', async () => {
    const catalog = discoverCatalog(widgetStreamer);
    const link = catalog.streams.find((stream) => stream.stream === 'link_widgets');
    expect(link?.metadata[0]?.metadata).toMatchObject({
      selected: true,
      'replication-method': 'INCREMENTAL',
      'valid-replication-keys': ['updated_at'],
    });
    expect(link?.metadata.find((m) => m.breadcrumb[1] === 'id')?.metadata).toEqual({
      inclusion: 'automatic',
    });
    expect(link?.metadata.find((m) => m.breadcrumb[1] === 'name')?.metadata).toEqual({
      inclusion: 'available',
    });
    const edited = structuredClone(catalog);
    for (const stream of edited.streams) {
      (stream.metadata[0]?.metadata as { selected: boolean }).selected = stream.stream === 'link_widgets';
      for (const entry of stream.metadata)
        if (entry.breadcrumb[1] === 'name' || entry.breadcrumb[1] === 'id')
          Object.assign(entry.metadata, { selected: false });
    }
    expect(selectedStreamsFromCatalog(edited, 'catalog.json')).toEqual(['link_widgets']);
    const run = await runStreamer(
      widgetStreamer,
      options(selectedStreamsFromCatalog(edited, 'catalog.json'), {
        selectedFields: selectedFieldsFromCatalog(edited),
      }),
    );
    const record = run.records.get('link_widgets')?.[0];
    expect(Object.keys(record ?? {}).sort()).toEqual(['id', 'updated_at']); // name dropped; id is automatic
    expect(Object.keys((run.schemas.get('link_widgets')?.schema.properties ?? {}) as object).sort()).toEqual([
      'id',
      'updated_at',
    ]);
  });

  it('refuses bad config before any request, naming the key', async () => {
    const run = await runStreamer(widgetStreamer, {
      config: { base_url: api.baseUrl, start_date: 'yesterday' },
    });
    expect(run.error).toBeInstanceOf(StreamerConfigError);
    expect(run.error?.message).toMatch(
      /config: access_token: received nothing; must have required property 'access_token'/,
    );
    expect(run.error?.message).toMatch(
      /config: start_date: received "yesterday"; must match format "date-time"/,
    );
    expect(api.requests).toHaveLength(0);
  });

  it('reads config from TAP_<STREAMER>_<KEY> environment variables', () => {
    const config = configFromEnvironment(widgetStreamer, {
      TAP_WIDGETS_BASE_URL: 'http://x',
      TAP_WIDGETS_ACCESS_TOKEN: 't',
      TAP_WIDGETS_OAUTH: 'true',
    });
    expect(config).toEqual({ base_url: 'http://x', access_token: 't', oauth: true });
    expect(() => configFromEnvironment(widgetStreamer, { TAP_WIDGETS_OAUTH: 'yes please' })).toThrow(
      /TAP_WIDGETS_OAUTH: received "yes please"; expected JSON for a boolean value/,
    );
  });
});

describe('streamer SDK: continuing a run', () => {
  it('a run stopped at a deadline keeps currently_syncing, and the next run skips the streams already done', async () => {
    const stopped = await runStreamer(
      widgetStreamer,
      options(['cursor_widgets', 'page_widgets'], { deadline: Date.now() - 1 }),
    );
    // drain the generator completely: the deadline must not be followed by a STATE that forgets where it was
    expect((stopped.state as { currently_syncing?: string }).currently_syncing).toBe('cursor_widgets');
    const cursorDone = await runStreamer(
      widgetStreamer,
      options(['cursor_widgets', 'page_widgets'], { state: stopped.state }),
    );
    expect((cursorDone.state as { currently_syncing?: string }).currently_syncing).toBeUndefined();
    api.requests.length = 0;
    const midway = { ...(cursorDone.state as object), currently_syncing: 'page_widgets' };
    const resumed = await runStreamer(
      widgetStreamer,
      options(['cursor_widgets', 'page_widgets'], { state: midway }),
    );
    expect(resumed.records.get('cursor_widgets')).toBeUndefined();
    expect(api.requests.some((path) => path.startsWith('/cursor/'))).toBe(false);
    expect((resumed.state as { currently_syncing?: string }).currently_syncing).toBeUndefined();
  });
});
