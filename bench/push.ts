/**
 * Benchmark: push ingestion, each figure beside a baseline measured in the same run.
 * 1. Events per second the local endpoint takes into its inbox (validated, durable before the 204),
 *    from 8 concurrent senders of 100-event requests; baseline: a bare node:http server that writes
 *    and fsyncs each body to a file, with no parsing, validation or ids.
 * 2. The client's cost per `log()` call (validate, id, queue); baseline: a bare loop pushing the same
 *    objects onto an array.
 * Run: npm run bench:push [-- EVENTS]   (default 200,000)
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineAccessKeys } from '../lib/ingest/access-keys.ts';
import { folderIngestStore } from '../lib/ingest/folder-inbox.ts';
import { createIngestEndpoint } from '../lib/ingest/ingest-endpoint.ts';
import { startIngestServer } from '../lib/ingest/ingest-http-server.ts';
import { EventStreamer } from '../lib/push/event-streamer.ts';

const total = Number(process.argv[2] ?? 200_000);
const perRequest = 100;
const senders = 8;
const key = 'bench-access-key-0123456789';
const folder = mkdtempSync(join(tmpdir(), 'tributary-bench-push-'));
const body = JSON.stringify(
  Array.from({ length: perRequest }, (_, index) => ({
    key: `sensor_${index % 10}`,
    value: index % 3 === 0 ? 'open' : index * 1.5,
    epoch: 1_764_000_000 + index / 1000,
    event_id: randomUUID(),
  })),
);

async function drive(url: string): Promise<number> {
  const requests = Math.ceil(total / perRequest);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < requests) {
        next += 1;
        const response = await fetch(`${url}/api/events`, {
          method: 'POST',
          headers: { 'x-is-accesskey': key, 'x-is-bucketkey': 'bench', 'content-type': 'application/json' },
          body,
        });
        if (response.status !== 204) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      }
    }),
  );
  return (requests * perRequest) / (Number(process.hrtime.bigint() - started) / 1e9);
}

try {
  // 1a. The endpoint.
  const store = folderIngestStore(join(folder, 'stage'), 'events');
  const server = await startIngestServer(
    createIngestEndpoint({
      keys: [new PipelineAccessKeys('events', [key])],
      storeOf: () => store,
      requestsPer10s: 1_000_000,
    }),
  );
  const endpointRate = await drive(server.url);
  await server.close();

  // 1b. The baseline: the same durable write per request, nothing else.
  const bare = join(folder, 'bare');
  await mkdir(bare, { recursive: true });
  const baseline = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', async () => {
      const temporary = join(bare, `.${randomUUID()}`);
      const file = await open(temporary, 'w');
      await file.writeFile(Buffer.concat(parts));
      await file.sync();
      await file.close();
      await rename(temporary, join(bare, `${Date.now()}-${randomUUID()}`));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => baseline.listen(0, '127.0.0.1', resolve));
  const baselineRate = await drive(`http://127.0.0.1:${(baseline.address() as AddressInfo).port}`);
  await new Promise((resolve) => baseline.close(resolve));

  // 2. The client's cost per log(), nothing sent (a dead endpoint, a queue big enough to hold all).
  const calls = 1_000_000;
  const client = new EventStreamer({
    endpoint: 'http://127.0.0.1:1',
    accessKey: key,
    bucketKey: 'bench',
    bufferSize: calls + 1,
    maxQueue: calls + 1,
    spoolDir: join(folder, 'spool'),
    handleExit: false,
    logLevel: 'silent',
  });
  let started = process.hrtime.bigint();
  for (let index = 0; index < calls; index += 1) client.log('sensor', index * 0.5, 1_764_000_000 + index);
  const logNs = Number(process.hrtime.bigint() - started) / calls;
  const array: unknown[] = [];
  started = process.hrtime.bigint();
  for (let index = 0; index < calls; index += 1)
    array.push({ key: 'sensor', value: index * 0.5, epoch: 1_764_000_000 + index });
  const bareNs = Number(process.hrtime.bigint() - started) / calls;
  await client.close(1);

  const row = (name: string, value: string, base: string, ratio: number) =>
    `| ${name} | ${value} | ${base} | ${ratio.toFixed(2)} |`;
  process.stdout.write(
    [
      `push ingestion, ${total.toLocaleString('en-US')} events in ${perRequest}-event requests from ${senders} senders (Node ${process.version})`,
      '',
      '| measure | Tributary | baseline | ratio |',
      '| --- | --- | --- | --- |',
      row(
        'endpoint into the inbox, events/s',
        Math.round(endpointRate).toLocaleString('en-US'),
        `${Math.round(baselineRate).toLocaleString('en-US')} (bare write + fsync)`,
        endpointRate / baselineRate,
      ),
      row('client log(), ns per call', logNs.toFixed(0), `${bareNs.toFixed(0)} (array push)`, logNs / bareNs),
      '',
    ].join('\n'),
  );
} finally {
  rmSync(folder, { recursive: true, force: true });
}
