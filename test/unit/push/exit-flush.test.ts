import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventSpool } from '../../../lib/push/event-spool.ts';
import { collect } from '../../helpers/cli.ts';
import { startTestEndpoint, TEST_ACCESS_KEY, type TestEndpoint } from '../../helpers/ingest.ts';
import { repoRoot } from '../../helpers/paths.ts';

const script = join(repoRoot, 'test', 'fixtures', 'push', 'exiting-client.ts');
const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
const endpoints: TestEndpoint[] = [];
afterEach(async () => {
  for (const endpoint of endpoints.splice(0)) await endpoint.stop().catch(() => {});
});

describe('the client at process exit', () => {
  it('a program that simply ends has its queued events sent (beforeExit)', async () => {
    const endpoint = await startTestEndpoint();
    endpoints.push(endpoint);
    const spool = await mkdtemp(join(tmpdir(), 'trib-spool-'));
    const result = await collect(spawn(tsx, [script, endpoint.url, spool, '25', 'end']));
    expect(result.code, result.stderr).toBe(0);
    expect((await endpoint.events()).length).toBe(25);
  });

  it('SIGTERM with the endpoint down: the events are spooled within the deadline, then the process ends', async () => {
    const endpoint = await startTestEndpoint();
    await endpoint.stop();
    const spoolDir = await mkdtemp(join(tmpdir(), 'trib-spool-'));
    const child = spawn(tsx, [script, endpoint.url, spoolDir, '40', 'wait']);
    await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
    child.kill('SIGTERM');
    const started = Date.now();
    const result = await collect(child);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.code === null || result.code !== 0).toBe(true); // ended by the signal, as without us
    const spool = EventSpool.forKey(spoolDir, TEST_ACCESS_KEY);
    let events = 0;
    for (const file of await spool.files()) events += (await spool.read(file)).events.length;
    expect(events).toBe(40);
  });
});
