/** `trib ingest keys` and `trib push resubmit`, run as a user runs them. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventSpool } from '../../lib/push/event-spool.ts';
import { createStateTable, useEmulators } from '../helpers/aws.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { collect, shell, trib, tribBin } from '../helpers/cli.ts';
import { startTestEndpoint, TEST_ACCESS_KEY, type TestEndpoint } from '../helpers/ingest.ts';

const children: ChildProcess[] = [];
const endpoints: TestEndpoint[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const endpoint of endpoints.splice(0)) await endpoint.stop().catch(() => {});
});

function pipelineIn(folder: string): void {
  writeFileSync(
    join(folder, 'pipeline.yaml'),
    'destination: { type: duckdb, path: w.duckdb }\ningest: { tap: events }\n',
  );
}

async function serve(folder: string): Promise<string> {
  const child = spawn(process.execPath, [tribBin, 'ingest', 'serve', 'pipeline.yaml'], { cwd: folder });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (piece: Buffer) => {
      output += piece.toString();
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (url !== undefined) resolve(url);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
  });
}

const send = (url: string, key: string) =>
  fetch(`${url}/api/events`, {
    method: 'POST',
    headers: { 'x-is-accesskey': key, 'x-is-bucketkey': 'b' },
    body: '{"key":"a","value":1}',
  });

describe('trib ingest keys', () => {
  it('create shows a key once, list shows ids never keys, revoke makes the endpoint answer 403', async () => {
    const folder = temporaryFolder();
    pipelineIn(folder);
    const created = await trib(['ingest', 'keys', 'create', 'pipeline.yaml', '--label', 'freezer 7'], folder);
    expect(created.code, created.stderr).toBe(0);
    const plain = created.stdout.trim();
    expect(plain).toMatch(/^trib_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/It is shown only now/);
    const listed = await trib(['ingest', 'keys', 'list', 'pipeline.yaml'], folder);
    const id = /^([0-9a-f]{12}) {2}tap events {2}created \S+ {2}freezer 7$/m.exec(listed.stdout)?.[1];
    expect(id, listed.stdout).toBeDefined();
    expect(listed.stdout).not.toContain(plain);
    expect(readFileSync(join(folder, '.tributary', 'state', 'ingest-keys.json'), 'utf8')).not.toContain(
      plain,
    );

    const url = await serve(folder);
    expect((await send(url, plain)).status).toBe(204);
    const revoked = await trib(['ingest', 'keys', 'revoke', 'pipeline.yaml', id ?? ''], folder);
    expect(revoked.stdout).toBe(`key ${id} revoked\n`);
    const denied = await send(url, plain);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toBe('ACCESS_DENIED_KEY');
    const unknown = await trib(['ingest', 'keys', 'revoke', 'pipeline.yaml', 'nope'], folder);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no key with id "nope"; see: trib ingest keys list pipeline.yaml/);
  });

  it('--aws keeps keys hashed in the state table, where the ingest function looks them up', async () => {
    useEmulators();
    const table = `tributary-keys-${randomBytes(4).toString('hex')}`;
    await createStateTable(table);
    const folder = temporaryFolder();
    pipelineIn(folder);
    const env = { AWS_ENDPOINT_URL_DYNAMODB: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '' };
    const created = await shell(
      `"$TRIB" ingest keys create pipeline.yaml --aws --table ${table}`,
      folder,
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const listed = await shell(`"$TRIB" ingest keys list pipeline.yaml --aws --table ${table}`, folder, env);
    expect(listed.stdout).toMatch(/^[0-9a-f]{12} {2}tap events/m);
    expect(listed.stdout).not.toContain(created.stdout.trim());
    const missing = await trib(['ingest', 'keys', 'list', 'pipeline.yaml', '--aws'], folder);
    expect(missing.stderr).toMatch(/--aws needs --table/);
  });

  it('a pipeline without ingest: says how to add one', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      'destination: { type: duckdb, path: w.duckdb }\ntaps: { s: { streamer: sample } }\n',
    );
    const result = await trib(['ingest', 'keys', 'create', 'pipeline.yaml'], folder);
    expect(result.stderr).toMatch(/no ingest: section. Add one, e.g.\n {2}ingest: \{ tap: events/);
  });
});

describe('trib push resubmit', () => {
  it('sends a spool by hand, deleting each batch once accepted, and says what is left when it cannot', async () => {
    const endpoint = await startTestEndpoint();
    endpoints.push(endpoint);
    const folder = temporaryFolder();
    const spool = EventSpool.forKey(join(folder, 'spool'), TEST_ACCESS_KEY);
    const event = (id: string, value: number) => ({
      id,
      bucketKey: 'lab',
      bucketName: 'Lab',
      key: 'n',
      value,
      epoch: 1_764_000_000,
    });
    await spool.write([
      event('00000000-0000-7000-8000-000000000001', 1),
      event('00000000-0000-7000-8000-000000000002', 2),
    ]);
    await spool.write([event('00000000-0000-7000-8000-000000000003', 3)]);
    const refused = await shell(`"$TRIB" push resubmit ${spool.folder} --endpoint ${endpoint.url}`, folder, {
      TRIB_PUSH_ACCESS_KEY: 'wrong-key-0123456789',
    });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/2 batch file\(s\) left: .*401/);
    const sent = await shell(`"$TRIB" push resubmit ${spool.folder} --endpoint ${endpoint.url}`, folder, {
      TRIB_PUSH_ACCESS_KEY: TEST_ACCESS_KEY,
    });
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toBe('resubmitted 3 event(s) in 2 batch file(s)\n');
    expect(await spool.count()).toBe(0);
    expect((await endpoint.events()).map((stored) => [stored.event_id, stored.bucket_name])).toEqual([
      ['00000000-0000-7000-8000-000000000001', 'Lab'],
      ['00000000-0000-7000-8000-000000000002', 'Lab'],
      ['00000000-0000-7000-8000-000000000003', 'Lab'],
    ]);
    const noKey = await collect(
      spawn(process.execPath, [tribBin, 'push', 'resubmit', spool.folder, '--endpoint', endpoint.url], {
        cwd: folder,
        env: { PATH: process.env.PATH ?? '' },
      }),
    );
    expect(noKey.stderr).toMatch(/no access key: set TRIB_PUSH_ACCESS_KEY/);
  });
});
