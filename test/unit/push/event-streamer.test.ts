import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventSpool } from '../../../lib/push/event-spool.ts';
import {
  EventStreamer,
  type EventStreamerOptions,
  EventValueError,
} from '../../../lib/push/event-streamer.ts';
import { eventually, startTestEndpoint, TEST_ACCESS_KEY, type TestEndpoint } from '../../helpers/ingest.ts';

const open: EventStreamer[] = [];
const endpoints: TestEndpoint[] = [];

afterEach(async () => {
  for (const client of open.splice(0)) await client.close(200);
  for (const endpoint of endpoints.splice(0)) await endpoint.stop().catch(() => {});
});

async function endpoint(options: Parameters<typeof startTestEndpoint>[0] = {}): Promise<TestEndpoint> {
  const started = await startTestEndpoint(options);
  endpoints.push(started);
  return started;
}

async function client(
  target: { url: string },
  options: Partial<EventStreamerOptions> = {},
): Promise<EventStreamer> {
  const made = new EventStreamer({
    endpoint: target.url,
    accessKey: TEST_ACCESS_KEY,
    bucketKey: 'lab',
    spoolDir: await mkdtemp(join(tmpdir(), 'trib-spool-')),
    handleExit: false,
    logLevel: 'silent',
    backoffBaseMs: 5,
    reconnectDelayMs: 30,
    ...options,
  });
  open.push(made);
  return made;
}

function eventRequests(target: TestEndpoint): number[] {
  return target.requests
    .filter(({ request }) => request.path.endsWith('/events') && request.method === 'POST')
    .map(({ request }) => (JSON.parse(request.body.toString()) as unknown[]).length);
}

describe('EventStreamer', () => {
  it('ships a batch as soon as bufferSize events are queued, without waiting for the interval', async () => {
    const target = await endpoint();
    const events = await client(target, { bufferSize: 5, flushIntervalMs: 60_000 });
    for (let index = 0; index < 5; index += 1) events.log('reading', index);
    await eventually(async () => (await target.events()).length === 5, 'the first batch');
    expect(eventRequests(target)).toEqual([5]);
  });

  it('ships a partial batch after flushIntervalMs', async () => {
    const target = await endpoint();
    const events = await client(target, { bufferSize: 100, flushIntervalMs: 50 });
    events.log('door', 'open');
    events.log('door', 'closed');
    await eventually(async () => (await target.events()).length === 2, 'the interval flush');
    expect(eventRequests(target)).toEqual([2]);
  });

  it('flush() sends everything queued and resolves once the endpoint has it', async () => {
    const target = await endpoint();
    const events = await client(target, { bufferSize: 1_000, flushIntervalMs: 60_000, maxBatch: 4 });
    for (let index = 0; index < 10; index += 1) events.log('n', index);
    await events.flush();
    const stored = await target.events();
    expect(stored.map((event) => event.value_number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(eventRequests(target)).toEqual([4, 4, 2]);
    expect(events.counts.sent).toBe(10);
  });

  it('sends each event with its own UUID v7, the key, the value and the epoch it was logged with', async () => {
    const target = await endpoint();
    const events = await client(target);
    events.log('temperature_c', -19.4, 1730402290.311);
    events.log('alarm', false, 1730402291);
    await events.flush();
    const stored = await target.events();
    expect(stored).toMatchObject([
      {
        key: 'temperature_c',
        value_number: -19.4,
        event_time: '2024-10-31T19:18:10.311000Z',
        bucket_key: 'lab',
      },
      { key: 'alarm', value_bool: false, event_time: '2024-10-31T19:18:11.000000Z' },
    ]);
    for (const event of stored) expect(event.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
  });

  it('logObject flattens lists, dicts and class instances with one shared epoch, as ISStreamer does', async () => {
    const target = await endpoint();
    const events = await client(target);
    class Reading {
      constructor(
        readonly celsius: number,
        readonly ok: boolean,
      ) {}
    }
    events.logObject([3, 'x'], { epoch: 1_730_000_100 });
    events.logObject(
      { door: 'closed', sensors: { a: 1, list: [true] } },
      { keyPrefix: 'lab', epoch: 1_730_000_200 },
    );
    events.logObject(new Reading(21.5, true), { epoch: 1_730_000_300 });
    await events.flush();
    const stored = await target.events();
    expect(stored.map((event) => [event.key, event.event_time])).toEqual([
      ['list_0', '2024-10-27T03:35:00.000000Z'],
      ['list_1', '2024-10-27T03:35:00.000000Z'],
      ['lab_door', '2024-10-27T03:36:40.000000Z'],
      ['lab_sensors_a', '2024-10-27T03:36:40.000000Z'],
      ['lab_sensors_list_0', '2024-10-27T03:36:40.000000Z'],
      ['Reading_celsius', '2024-10-27T03:38:20.000000Z'],
      ['Reading_ok', '2024-10-27T03:38:20.000000Z'],
    ]);
  });

  it('refuses bad values at log() with an error naming what is wrong, and queues nothing', async () => {
    const target = await endpoint();
    const events = await client(target);
    const cases: [string, () => void, RegExp][] = [
      ['empty key', () => events.log('', 1), /key: received an empty string/],
      ['long key', () => events.log('k'.repeat(101), 1), /key: received 101 characters; must be at most 100/],
      [
        'object value',
        () => events.log('k', { a: 1 } as never),
        /value: received an object; must be a string, number or boolean/,
      ],
      [
        'long string',
        () => events.log('k', 'v'.repeat(2001)),
        /value: received a string of 2001 characters; must be at most 2000/,
      ],
      ['NaN', () => events.log('k', Number.NaN), /value: received NaN; must be a finite number/],
      ['Infinity', () => events.log('k', Number.POSITIVE_INFINITY), /value: received Infinity/],
      ['epoch', () => events.log('k', 1, Number.NaN), /epoch: received NaN/],
      ['epoch type', () => events.log('k', 1, '12' as never), /epoch: must be a number/],
      [
        'bad leaf',
        () => events.logObject({ a: 1, b: 'v'.repeat(3000) }),
        /logObject\(\): "dict_b": received a string of 3000/,
      ],
    ];
    for (const [label, act, message] of cases) {
      expect(act, label).toThrow(EventValueError);
      expect(act, label).toThrow(message);
    }
    expect(events.pendingInMemory).toBe(0);
    expect(() => new EventStreamer({ endpoint: 'ftp://x', accessKey: 'k' })).toThrow(
      /endpoint: received "ftp:\/\/x"; must be an http\(s\) URL/,
    );
    expect(() => events.setBucket('name', 'a:b')).toThrow(/bucketKey: received "a:b"; may not contain/);
  });

  it('setBucket sends later events to the new bucket (a UUID key when none is given), creating it first', async () => {
    const target = await endpoint();
    const events = await client(target);
    events.log('a', 1);
    events.setBucket('Second bucket');
    events.log('b', 2);
    await events.flush();
    const stored = await target.events();
    expect(stored[0]).toMatchObject({ bucket_key: 'lab', bucket_name: 'lab' });
    expect(stored[1]).toMatchObject({ bucket_name: 'Second bucket' });
    expect(stored[1]?.bucket_key).toMatch(/^[0-9a-f-]{36}$/);
    const buckets = target.requests.filter(({ request }) => request.path.endsWith('/buckets'));
    expect(buckets.map(({ status }) => status)).toEqual([201, 201]);
  });

  it('spools to disk while the endpoint is down and resubmits by itself once it is back, with no duplicates', async () => {
    const target = await endpoint();
    await target.stop();
    const events = await client(target, { bufferSize: 5, attempts: 1 });
    for (let index = 0; index < 20; index += 1) events.log('n', index);
    await events.flush();
    expect(events.counts.sent).toBe(0);
    expect(events.counts.spooled).toBe(20);
    expect(await events.spool.count()).toBeGreaterThan(0);
    await target.restart();
    await eventually(() => events.counts.resubmitted === 20, 'the automatic resubmission');
    expect(await events.spool.count()).toBe(0);
    const stored = await target.events();
    expect(stored.map((event) => event.value_number)).toEqual([...Array(20).keys()]);
    expect(new Set(stored.map((event) => event.event_id)).size).toBe(20);
  });

  it('resubmits what an earlier process spooled when a new client starts', async () => {
    const target = await endpoint();
    await target.stop();
    const spoolDir = await mkdtemp(join(tmpdir(), 'trib-spool-'));
    const first = await client(target, { spoolDir, attempts: 1 });
    for (let index = 0; index < 7; index += 1) first.log('n', index);
    const closed = await first.close(500);
    expect(closed).toMatchObject({ sent: 0, spooled: 7, dropped: 0 });
    expect(closed.spoolFiles).toBeGreaterThan(0);
    await target.restart();
    const second = await client(target, { spoolDir });
    await second.flush();
    expect(second.counts.resubmitted).toBe(7);
    expect((await target.events()).map((event) => event.value_number)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('close() gives up on an endpoint that does not answer at its deadline, spooling the rest', async () => {
    const target = await endpoint({ intercept: () => new Promise(() => {}) }); // never answers
    const events = await client(target, { bufferSize: 2 });
    for (let index = 0; index < 5; index += 1) events.log('n', index);
    const started = Date.now();
    const closed = await events.close(300);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(closed.sent).toBe(0);
    expect(closed.spooled).toBe(5);
    expect(closed.dropped).toBe(0);
    const spooled = await Promise.all((await events.spool.files()).map((file) => events.spool.read(file)));
    expect(spooled.flatMap((batch) => batch.events.map((event) => event.value)).sort()).toEqual([
      0, 1, 2, 3, 4,
    ]);
    expect(() => events.log('late', 1)).toThrow(/closed/);
  });

  it('keeps memory bounded with 100,000 events queued against a dead endpoint, spooling the oldest', async () => {
    const target = await endpoint();
    await target.stop();
    const events = await client(target, { maxQueue: 1_000, maxBatch: 500, attempts: 1 });
    let most = 0;
    for (let index = 0; index < 100_000; index += 1) {
      events.log('n', index);
      most = Math.max(most, events.pendingInMemory);
    }
    expect(most).toBeLessThanOrEqual(1_500);
    const closed = await events.close(2_000);
    expect(closed.dropped).toBe(0);
    expect(closed.spooled).toBe(100_000);
    let total = 0;
    const seen = new Set<unknown>();
    for (const file of await events.spool.files())
      for (const event of (await events.spool.read(file)).events) {
        total += 1;
        seen.add(event.value);
      }
    expect(total).toBe(100_000);
    expect(seen.size).toBe(100_000);
  });

  it('does not retry a refused key: it reports it and keeps the events in the spool', async () => {
    const target = await endpoint();
    const events = new EventStreamer({
      endpoint: target.url,
      accessKey: 'not-a-key-the-endpoint-knows',
      bucketKey: 'lab',
      spoolDir: await mkdtemp(join(tmpdir(), 'trib-spool-')),
      handleExit: false,
      logLevel: 'silent',
    });
    events.log('a', 1);
    const closed = await events.close(2_000);
    expect(closed.refused).toMatch(/401/);
    expect(closed).toMatchObject({ sent: 0, spooled: 1, dropped: 0 });
    expect(target.requests.filter(({ status }) => status === 401)).toHaveLength(1);
  });

  it("honours a 429's Retry-After before sending again", async () => {
    let limited = 0;
    const target = await endpoint({
      intercept: async (request) => {
        if (!request.path.endsWith('/events') || limited > 0) return undefined;
        limited += 1;
        return { status: 429, headers: { 'retry-after': '1' } };
      },
    });
    const events = await client(target);
    events.log('a', 1);
    const started = Date.now();
    await events.flush();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((await target.events()).length).toBe(1);
  });

  it('counts an event as dropped, and says so, only when the spool cannot be written', async () => {
    const target = await endpoint();
    await target.stop();
    const lines: string[] = [];
    const blocker = join(await mkdtemp(join(tmpdir(), 'trib-spool-')), 'file');
    await import('node:fs/promises').then((fs) => fs.writeFile(blocker, ''));
    const events = new EventStreamer({
      endpoint: target.url,
      accessKey: TEST_ACCESS_KEY,
      spoolDir: blocker, // a file: no folder can be made under it
      handleExit: false,
      attempts: 1,
      logger: (level, line) => lines.push(`${level}: ${line}`),
    });
    events.log('a', 1);
    const closed = await events.close(1_000);
    expect(closed.dropped).toBe(1);
    expect(
      lines.some((line) => /^warn: dropped 1 event\(s\): the spool .* could not be written/.test(line)),
    ).toBe(true);
  });

  it('spool files are whole JSON lines, one batch each, named oldest first', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'trib-spool-'));
    const spool = new EventSpool(folder);
    const event = { id: 'a', bucketKey: 'b', bucketName: 'b', key: 'k', value: 1, epoch: 1 };
    const first = await spool.write([event]);
    const second = spool.writeSync([{ ...event, id: 'b' }]);
    expect(await spool.files()).toEqual([first, second]);
    expect(await readFile(first, 'utf8')).toBe(`${JSON.stringify(event)}\n`);
  });
});
