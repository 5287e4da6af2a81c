/**
 * The state store contract, run against every implementation (memory, file with a lock, DynamoDB on
 * the emulator): fenced leases, run numbers from the store, forward-only bookmarks, and refusals that
 * say why. Plus what only a real concurrent writer shows: two processes racing on one state folder.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import { parseJsonExactly, stringifyExact } from '../../lib/protocol/exact-json.ts';
import { FileStateStore } from '../../lib/state/file-state-store.ts';
import { MemoryStateStore } from '../../lib/state/memory-state-store.ts';
import { isDropped, resumePoint, type StateStore } from '../../lib/state/state-store.ts';
import { createStateTable, useEmulators } from '../helpers/aws.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { repoRoot } from '../helpers/paths.ts';

const at = (run: string, seq: number, bookmark: unknown) => ({
  run,
  seq,
  bookmark,
  at: '2026-01-01T00:00:00Z',
});
const runId = (n: number) => `r${String(n).padStart(10, '0')}`;

async function dynamoStore(clock: () => number): Promise<StateStore> {
  useEmulators();
  const table = `state-${randomBytes(4).toString('hex')}`;
  await createStateTable(table);
  const s3 = new S3Client({ forcePathStyle: true });
  const bucket = `spill-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return new DynamoStateStore(new DynamoDBClient({}), table, { s3, bucket, inlineBookmarkBytes: 64 }, clock);
}

const stores: [string, (clock: () => number) => Promise<StateStore>][] = [
  ['memory', async (clock) => new MemoryStateStore(clock)],
  ['file', async (clock) => new FileStateStore(temporaryFolder(), clock)],
  ['dynamodb', dynamoStore],
];

describe.each(stores)('%s state store', (_name, make) => {
  it('a new run takes a free lease with the next run number and token; a second one is refused, saying who holds it', async () => {
    let now = 1_000;
    const store = await make(() => now);
    const first = await store.beginRun('t', { holder: 'a', ttlMs: 100, runId });
    expect(first).toMatchObject({
      ok: true,
      lease: { holder: 'a', token: 1, run: 'r0000000001', expiresAt: 1_100 },
    });
    const second = await store.beginRun('t', { holder: 'b', ttlMs: 100, runId });
    expect(second.ok).toBe(false);
    expect(!second.ok && second.reason).toMatch(/another run holds the lease of tap t \(a, run r0000000001/);
    now = 1_200; // expired
    const third = await store.beginRun('t', { holder: 'b', ttlMs: 100, runId });
    expect(third).toMatchObject({ ok: true, lease: { holder: 'b', token: 2, run: 'r0000000002' } });
    // the first holder is fenced off: every write of its token is refused
    expect((await store.markStaged('t', 1, at('r0000000001', 0, 'x'))).ok).toBe(false);
    expect((await store.renewLease('t', 1, 100)).ok).toBe(false);
    expect((await store.releaseLease('t', 1)).ok).toBe(false);
    expect((await store.recordLastRun('t', lastRun('r0000000001'), 1)).ok).toBe(false);
    expect((await store.read('t')).lease?.holder).toBe('b');
  });

  it('a continuation takes over only from the token it was handed; a repeated or late one is a no-op', async () => {
    const store = await make(() => 1_000);
    const begun = await store.beginRun('t', { holder: 'a', ttlMs: 10_000, runId });
    if (!begun.ok) throw new Error(begun.reason);
    const handed = { run: begun.lease.run, token: begun.lease.token };
    const continued = await store.continueRun('t', { holder: 'b', ttlMs: 10_000, ...handed });
    expect(continued).toMatchObject({ ok: true, lease: { holder: 'b', token: 2, run: begun.lease.run } });
    const repeated = await store.continueRun('t', { holder: 'c', ttlMs: 10_000, ...handed });
    expect(repeated.ok).toBe(false);
    expect(!repeated.ok && repeated.reason).toMatch(/token 1 is stale: the lease is at token 2/);
    expect((await store.markStaged('t', 1, at(begun.lease.run, 0, 'x'))).ok).toBe(false);
    expect((await store.markStaged('t', 2, at(begun.lease.run, 0, 'x'))).ok).toBe(true);
    expect((await store.releaseLease('t', 2)).ok).toBe(true);
    const late = await store.continueRun('t', { holder: 'd', ttlMs: 10_000, run: begun.lease.run, token: 2 });
    expect(!late.ok && late.reason).toMatch(/no run holds the lease/);
  });

  it('moves staged (fenced) and committed forward only; resumes from whichever is further', async () => {
    const store = await make(() => 1_000);
    const begun = await store.beginRun('t', { holder: 'a', ttlMs: 10_000, runId });
    if (!begun.ok) throw new Error(begun.reason);
    const token = begun.lease.token;
    const big = { blob: 'x'.repeat(200) }; // spilled where the store spills
    expect(await store.markStaged('t', token, at('r1', 2, big))).toEqual({ ok: true });
    const behind = await store.markStaged('t', token, at('r1', 1, 'old'));
    expect(!behind.ok && behind.reason).toBe('chunk r1/1 is not after the staged chunk r1/2');
    expect(await store.markCommitted('t', at('r1', 1, 'c1'))).toEqual({ ok: true });
    expect((await store.markCommitted('t', at('r1', 1, 'again'))).ok).toBe(false);
    const state = await store.read('t');
    expect(state.staged?.bookmark).toEqual(big);
    expect(resumePoint(state)).toMatchObject({ run: 'r1', seq: 2 });
    expect(await store.markCommitted('t', at('r1', 3, 'by hand'))).toEqual({ ok: true });
    expect(resumePoint(await store.read('t'))).toMatchObject({ run: 'r1', seq: 3, bookmark: 'by hand' });
    expect(await store.taps()).toEqual(['t']);
  });

  it("keeps a bookmark's numbers exact: a 19-digit since_id and a 64-bit LSN come back as written (#14.3)", async () => {
    const store = await make(() => 1_000);
    const begun = await store.beginRun('t', { holder: 'a', ttlMs: 10_000, runId });
    if (!begun.ok) throw new Error(begun.reason);
    const text = '{"since_id":1234567890123456789,"lsn":18446744073709551615,"ratio":0.1}';
    const bookmark = parseJsonExactly(text);
    expect(await store.markStaged('t', begun.lease.token, at('r1', 0, bookmark))).toEqual({ ok: true });
    expect(await store.markCommitted('t', at('r1', 0, bookmark))).toEqual({ ok: true });
    const state = await store.read('t');
    expect(stringifyExact(state.staged?.bookmark)).toBe(text);
    expect(stringifyExact(state.committed?.bookmark)).toBe(text);
  });

  it('a rewind, only under the lease and only from the staged chunk it saw, drops what was after committed', async () => {
    const store = await make(() => 1_000);
    expect(await store.loadGuards('t')).toEqual({ dropped: [] });
    const begun = await store.beginRun('t', { holder: 'a', ttlMs: 10_000, runId });
    if (!begun.ok) throw new Error(begun.reason);
    const big = { blob: 'y'.repeat(200) };
    await store.markStaged('t', begun.lease.token, at('r1', 4, 's4'));
    await store.markCommitted('t', at('r1', 1, big));
    const committed = (await store.read('t')).committed;
    const to = { run: 'r1', seq: 1, bookmark: committed?.bookmark, at: 'now' };
    const stale = await store.rewind('t', begun.lease.token + 1, { run: 'r1', seq: 4 }, to);
    expect(stale.ok).toBe(false);
    const moved = await store.rewind('t', begun.lease.token, { run: 'r1', seq: 3 }, to);
    expect(moved.ok).toBe(false);
    expect(await store.rewind('t', begun.lease.token, { run: 'r1', seq: 4 }, to)).toEqual({ ok: true });
    const state = await store.read('t');
    expect(resumePoint(state)).toMatchObject({ run: 'r1', seq: 1, bookmark: big });
    expect(isDropped(state, { run: 'r1', seq: 2 })).toBe(true);
    expect(isDropped(state, { run: 'r1', seq: 4 })).toBe(true);
    expect(isDropped(state, { run: 'r1', seq: 1 })).toBe(false);
    expect(isDropped(state, { run: 'r2', seq: 0 })).toBe(false);
    expect(await store.loadGuards('t')).toEqual({
      dropped: state.dropped,
      committed: { run: state.committed?.run, seq: state.committed?.seq },
    });
    // A reset: the same position, the bookmark forgotten.
    const reset = await store.rewind(
      't',
      begun.lease.token,
      { run: 'r1', seq: 1 },
      { ...to, bookmark: undefined },
    );
    expect(reset).toEqual({ ok: true });
    const after = resumePoint(await store.read('t'));
    expect(after).toMatchObject({ run: 'r1', seq: 1 });
    expect(after?.bookmark ?? undefined).toBeUndefined();
    expect(await store.markStaged('t', begun.lease.token, at('r2', 0, 'fresh'))).toEqual({ ok: true });
  });
});

function lastRun(run: string) {
  return { run, startedAt: 'a', finishedAt: 'b', status: 'succeeded' as const, records: 0, chunks: 0 };
}

describe('FileStateStore across processes', () => {
  it('two processes racing for the lease and for staged: one lease, staged never moves backwards', async () => {
    const folder = temporaryFolder();
    const script = join(repoRoot, 'test', 'fixtures', 'state', 'race-file-store.ts');
    const race = (name: string) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, folder, name], { cwd: repoRoot });
        let out = '';
        child.stdout.on('data', (piece: Buffer) => {
          out += piece.toString();
        });
        child.stderr.pipe(process.stderr);
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve(out.trim()) : reject(new Error(`${name} exited ${code}`)),
        );
      });
    const results = await Promise.all([race('a'), race('b')]);
    const granted = results.flatMap((out) => out.split('\n')).filter((line) => line.startsWith('granted'));
    expect(granted.length).toBe(1);
    const state = await new FileStateStore(folder).read('t');
    expect(state.staged?.seq).toBe(199);
    expect(state.runs).toBe(1);
  }, 60_000);
});
