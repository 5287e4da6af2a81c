import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileAccessKeys } from '../../../lib/ingest/file-access-keys.ts';
import { folderIngestStore } from '../../../lib/ingest/folder-inbox.ts';
import { createIngestEndpoint } from '../../../lib/ingest/ingest-endpoint.ts';
import { startIngestServer } from '../../../lib/ingest/ingest-http-server.ts';
import { startTestEndpoint, TEST_ACCESS_KEY, type TestEndpoint } from '../../helpers/ingest.ts';

const endpoints: TestEndpoint[] = [];
afterEach(async () => {
  for (const endpoint of endpoints.splice(0)) await endpoint.stop().catch(() => {});
});

async function endpoint(options: Parameters<typeof startTestEndpoint>[0] = {}): Promise<TestEndpoint> {
  const started = await startTestEndpoint(options);
  endpoints.push(started);
  return started;
}

function post(target: TestEndpoint, path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${target.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-is-accesskey': TEST_ACCESS_KEY,
      'x-is-bucketkey': 'lab',
      ...headers,
    },
    body,
  });
}

describe('ingest endpoint (the Initial State Events API)', () => {
  it('accepts an object or an array, answers 204 with no body, and stores each event', async () => {
    const target = await endpoint();
    const one = await post(
      target,
      '/api/events',
      JSON.stringify({ key: 'door', value: 'closed', epoch: 1730402290.311527 }),
    );
    expect(one.status).toBe(204);
    expect(await one.text()).toBe('');
    const many = await post(
      target,
      '/api/events',
      JSON.stringify([
        { key: 'temperature_c', value: -19.4, epoch: 1730402290.311 },
        { key: 'alarm', value: false, iso8601: '2025-10-31T19:18:11Z' },
      ]),
    );
    expect(many.status).toBe(204);
    expect(await target.events()).toMatchObject([
      { key: 'door', value_text: 'closed', value_number: null, event_time: '2024-10-31T19:18:10.311527Z' },
      { key: 'temperature_c', value_number: -19.4, value_text: null },
      { key: 'alarm', value_bool: false, event_time: '2025-10-31T19:18:11.000Z' },
    ]);
  });

  it('takes epoch before iso8601 before its own clock, and replaces a timestamp ten years old', async () => {
    const target = await endpoint();
    const before = Date.now();
    await post(
      target,
      '/api/events',
      JSON.stringify([
        { key: 'both', value: 1, epoch: 1730402290, iso8601: '2020-01-01T00:00:00Z' },
        { key: 'none', value: 2 },
        { key: 'ancient', value: 3, epoch: 86_400 },
        { key: 'nano', value: 4, epoch: '1730402290.000000001' },
      ]),
    );
    const [both, none, ancient, nano] = await target.events();
    expect(both?.event_time).toBe('2024-10-31T19:18:10.000000Z');
    expect(Date.parse(String(none?.event_time))).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(String(ancient?.event_time))).toBeGreaterThanOrEqual(before - 1);
    expect(nano?.event_time).toBe('2024-10-31T19:18:10.000000Z');
  });

  it('keeps a number exactly as sent', async () => {
    const target = await endpoint();
    await post(
      target,
      '/api/events',
      '[{"key":"big","value":12345678901234567890123},{"key":"pi","value":3.14159265358979323846}]',
    );
    const text = (await target.store.inbox.read((await target.store.inbox.list())[0]?.name ?? '')).split(
      '\n',
    );
    expect(text[0]).toContain('"value_number":12345678901234567890123');
    expect(text[1]).toContain('"value_number":3.14159265358979323846');
  });

  it('answers each bad request with its status and a body that says why, and stores nothing', async () => {
    const target = await endpoint();
    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      [
        'no key',
        () => post(target, '/api/events', '{"key":"a","value":1}', { 'x-is-accesskey': '' }),
        401,
        /unauthorized access_key/,
      ],
      [
        'wrong key',
        () => post(target, '/api/events', '{"key":"a","value":1}', { 'x-is-accesskey': 'nope' }),
        401,
        /unauthorized/,
      ],
      ['bad JSON', () => post(target, '/api/events', '{"key":'), 400, /not JSON/],
      ['empty array', () => post(target, '/api/events', '[]'), 400, /empty array/],
      ['no event key', () => post(target, '/api/events', '[{"value":1}]'), 400, /events\[0\]\.key: required/],
      [
        'long key',
        () => post(target, '/api/events', JSON.stringify({ key: 'k'.repeat(101), value: 1 })),
        400,
        /event\.key: received 101 characters/,
      ],
      ['no value', () => post(target, '/api/events', '{"key":"a"}'), 400, /event\.value: required/],
      [
        'object value',
        () => post(target, '/api/events', '{"key":"a","value":{"b":1}}'),
        400,
        /value: received an object/,
      ],
      [
        'long value',
        () => post(target, '/api/events', JSON.stringify({ key: 'a', value: 'v'.repeat(2001) })),
        400,
        /at most 2000/,
      ],
      [
        'bad epoch',
        () => post(target, '/api/events', '{"key":"a","value":1,"epoch":"soon"}'),
        400,
        /epoch: received "soon"/,
      ],
      [
        'bad iso',
        () => post(target, '/api/events', '{"key":"a","value":1,"iso8601":"yesterday"}'),
        400,
        /iso8601: received "yesterday"/,
      ],
      [
        'second bad',
        () => post(target, '/api/events', '[{"key":"a","value":1},{"key":"b","value":null}]'),
        400,
        /events\[1\]\.value: received null/,
      ],
      [
        'no bucket',
        () => post(target, '/api/events', '{"key":"a","value":1}', { 'x-is-bucketkey': '' }),
        400,
        /bucket key .*: received an empty string/,
      ],
      [
        'bad bucket',
        () => post(target, '/api/events', '{"key":"a","value":1}', { 'x-is-bucketkey': 'a:b' }),
        400,
        /may not contain/,
      ],
      [
        'too big',
        () =>
          post(
            target,
            '/api/events',
            JSON.stringify(Array.from({ length: 600 }, () => ({ key: 'k', value: 'v'.repeat(1900) }))),
          ),
        413,
        /over 1000000 bytes/,
      ],
      ['no route', () => post(target, '/api/nothing', '{}'), 404, /no such route/],
    ];
    for (const [label, send, status, message] of cases) {
      const response = await send();
      expect(response.status, label).toBe(status);
      const text = await response.text();
      expect(text.startsWith('{') ? (JSON.parse(text) as { message: string }).message : text, label).toMatch(
        message,
      );
    }
    expect(await target.store.inbox.list()).toEqual([]);
  });

  it('limits requests per key per 10 s: 429 with Retry-After, and X-RateLimit-* on every /events answer', async () => {
    const target = await endpoint({ requestsPer10s: 2 });
    const answers = [];
    for (let index = 0; index < 3; index += 1)
      answers.push(await post(target, '/api/events', `{"key":"a","value":${index}}`));
    expect(answers.map((answer) => answer.status)).toEqual([204, 204, 429]);
    expect(answers.map((answer) => answer.headers.get('x-ratelimit-remaining'))).toEqual(['1', '0', '0']);
    for (const answer of answers) {
      expect(answer.headers.get('x-ratelimit-limit')).toBe('2');
      expect(Number(answer.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000 - 1);
    }
    const retryAfter = Number(answers[2]?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect((await target.events()).map((event) => event.value_number)).toEqual([0, 1]);
  });

  it('creates a bucket with 201, confirms it with 204, and names its events', async () => {
    const target = await endpoint();
    const body = JSON.stringify({ bucketKey: 'freezer_07', bucketName: 'Lab freezer 07' });
    expect((await post(target, '/api/buckets', body)).status).toBe(201);
    expect((await post(target, '/api/buckets', body)).status).toBe(204);
    const query = await fetch(
      `${target.url}/api/buckets?accessKey=${TEST_ACCESS_KEY}&bucketKey=q_bucket&bucketName=Q`,
      { method: 'POST' },
    );
    expect(query.status).toBe(201);
    expect((await post(target, '/api/buckets', JSON.stringify({ bucketKey: 'x"y' }))).status).toBe(400);
    await post(target, '/api/events', '{"key":"t","value":1}', { 'x-is-bucketkey': 'freezer_07' });
    expect((await target.events())[0]).toMatchObject({
      bucket_key: 'freezer_07',
      bucket_name: 'Lab freezer 07',
    });
  });

  it('serves the query-string forms and /api/versions under any base path', async () => {
    const target = await endpoint();
    const get = await fetch(
      `${target.url}/base/api/events?accessKey=${TEST_ACCESS_KEY}&bucketKey=lab&temp=21.5&door=open&ok=true`,
    );
    expect(get.status).toBe(204);
    expect(await target.events()).toMatchObject([
      { key: 'temp', value_number: 21.5 },
      { key: 'door', value_text: 'open' },
      { key: 'ok', value_bool: true },
    ]);
    const versions = await fetch(`${target.url}/api/versions`, { headers: { 'accept-version': '~0' } });
    expect(await versions.json()).toEqual(['0.0.1', '0.0.2', '0.0.3', '0.0.4']);
  });

  it("gives another client's events ids from their content, so a batch sent twice has the same ids", async () => {
    const target = await endpoint();
    const batch = JSON.stringify([
      { key: 'a', value: 1, epoch: 1730402290.5 },
      { key: 'a', value: 1, epoch: 1730402290.5 }, // equal but a second event: a different id
    ]);
    await post(target, '/api/events', batch);
    await post(target, '/api/events', batch);
    const ids = (await target.events()).map((event) => event.event_id);
    expect(ids[0]).toBe(ids[2]);
    expect(ids[1]).toBe(ids[3]);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('refuses a revoked key with 403 ACCESS_DENIED_KEY and a key of a tap it does not serve', async () => {
    const root = await mkdtemp(join(tmpdir(), 'trib-keys-'));
    const keys = new FileAccessKeys(join(root, 'ingest-keys.json'));
    const live = await keys.create('events', 'sensor 1');
    const revoked = await keys.create('events');
    const other = await keys.create('elsewhere');
    expect((await keys.revoke(revoked.key.id)).status).toBe('revoked');
    const store = folderIngestStore(root, 'events');
    const server = await startIngestServer(
      createIngestEndpoint({ keys: [keys], storeOf: (tap) => (tap === 'events' ? store : undefined) }),
    );
    try {
      const send = (key: string) =>
        fetch(`${server.url}/api/events`, {
          method: 'POST',
          headers: { 'x-is-accesskey': key, 'x-is-bucketkey': 'b' },
          body: '{"key":"a","value":1}',
        });
      expect((await send(live.plain)).status).toBe(204);
      const denied = await send(revoked.plain);
      expect(denied.status).toBe(403);
      expect(denied.headers.get('content-type')).toBe('text/plain');
      expect(await denied.text()).toBe('ACCESS_DENIED_KEY');
      expect((await send(other.plain)).status).toBe(403);
      expect((await store.inbox.list()).length).toBe(1);
      // The file holds hashes only.
      const file = await import('node:fs/promises').then((fs) => fs.readFile(keys.path, 'utf8'));
      expect(file).not.toContain(live.plain);
      expect(file).toContain(live.key.hash);
    } finally {
      await server.close();
    }
  });
});
