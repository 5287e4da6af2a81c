/**
 * The two benchmarks that run inside this process, each beside a bare loop over the same input:
 * - parse + validate: the persister's reading of a Singer file (line split, message parse, schema
 *   and warehouse checks of every record) vs a bare line split + `JSON.parse`;
 * - emission: the streamer's chunk writer (message formatting, holding back to a STATE, gzip) vs a
 *   bare `JSON.stringify` + gzip of the same records;
 * - the persister Lambda's path over staged 5,000-record chunks (its baseline is `trib persist`);
 * - a pipeline file of 50,000 keys, loaded and checked, vs the yaml package's bare parse.
 */
import { createReadStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { chunkKey } from '../lib/chunks/chunk-key.ts';
import { ChunkWriter } from '../lib/chunks/chunk-writer.ts';
import { newRunId } from '../lib/chunks/run-id.ts';
import { openDestination, parseDestinationSpec } from '../lib/destinations/open-destination.ts';
import { persistBatch } from '../lib/persister/persist-queue-batch.ts';
import { RecordChecks } from '../lib/persister/record-check.ts';
import { parsePipeline } from '../lib/pipeline/load-pipeline.ts';
import { parseMessageBatches, parseMessages } from '../lib/protocol/parser.ts';
import type { ChunkMessage } from '../lib/queue/chunk-queue.ts';
import { FolderStage } from '../lib/stage/folder-stage.ts';
import { MemoryStateStore } from '../lib/state/memory-state-store.ts';
import type { Dataset } from './generate-records.ts';

export interface Timed {
  readonly seconds: number;
}

async function timed(work: () => Promise<void>): Promise<Timed> {
  const started = process.hrtime.bigint();
  await work();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

export async function bareParse(file: string): Promise<Timed & { readonly lines: number }> {
  let lines = 0;
  const result = await timed(async () => {
    let carry = '';
    for await (const piece of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 })) {
      const text = carry + (piece as string);
      let start = 0;
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
        JSON.parse(text.slice(start, end));
        lines += 1;
        start = end + 1;
      }
      carry = text.slice(start);
    }
  });
  return { ...result, lines };
}

export async function parseAndValidate(file: string): Promise<Timed & { readonly records: number }> {
  let records = 0;
  const checks = new RecordChecks();
  const result = await timed(async () => {
    const streams = new Map<string, ReturnType<RecordChecks['forSchema']>>();
    // A batch of messages at a time, as the persister reads a chunk (load-chunks.ts).
    for await (const batch of parseMessageBatches(createReadStream(file), { source: file })) {
      for (const { message } of batch) {
        if (message.type === 'SCHEMA') streams.set(message.stream, checks.forSchema(message));
        if (message.type !== 'RECORD') continue;
        const checked = streams.get(message.stream)?.check(message.record, message.exact);
        if (checked?.ok !== true)
          throw new Error(`record ${records + 1} refused: ${JSON.stringify(checked)}`);
        records += 1;
      }
    }
  });
  return { ...result, records };
}

/** A pool of records cycled through, so both loops spend nothing on making them. */
function pool(dataset: Dataset): Record<string, unknown>[] {
  return Array.from({ length: 5_000 }, (_, index) => dataset.record(index + 1));
}

async function drained(gzip: ReturnType<typeof createGzip>): Promise<number> {
  let bytes = 0;
  gzip.on('data', (piece: Buffer) => {
    bytes += piece.length;
  });
  await new Promise((resolve, reject) => gzip.on('end', resolve).on('error', reject));
  return bytes;
}

export async function bareEmission(dataset: Dataset, count: number): Promise<Timed> {
  const records = pool(dataset);
  return timed(async () => {
    const gzip = createGzip({ level: 1 });
    const done = drained(gzip);
    // Lines gathered into 64 KB writes, as any writer would: one zlib call per line is slow.
    let text = '';
    for (let index = 0; index < count; index += 1) {
      text += `${JSON.stringify(records[index % records.length])}\n`;
      if (text.length < 65_536) continue;
      if (!gzip.write(text)) await new Promise((resolve) => gzip.once('drain', resolve));
      text = '';
    }
    gzip.end(text);
    await done;
  });
}

export async function chunkWriterEmission(
  dataset: Dataset,
  count: number,
): Promise<Timed & { readonly chunks: number }> {
  const records = pool(dataset);
  let chunks = 0;
  const result = await timed(async () => {
    const writer = new ChunkWriter(async () => {
      chunks += 1;
    });
    await writer.write({
      type: 'SCHEMA',
      stream: dataset.stream,
      schema: dataset.schema as never,
      keyProperties: [dataset.key],
    });
    for (let index = 0; index < count; index += 1) {
      await writer.write({
        type: 'RECORD',
        stream: dataset.stream,
        record: records[index % records.length] as never,
      });
      if ((index + 1) % 5_000 === 0) await writer.write({ type: 'STATE', value: { at: index } });
    }
    await writer.write({ type: 'STATE', value: { at: count } });
    await writer.end();
  });
  return { ...result, chunks };
}

/**
 * The persister Lambda's path: the file staged as 5,000-record chunks in a folder stage (untimed:
 * that is the streamer's part), then loaded through `persistBatch` in SQS batches of 10 messages.
 */
export async function persisterPath(
  file: string,
  destinationSpec: string,
  stageFolder: string,
): Promise<Timed & { readonly chunks: number; readonly records: number }> {
  const stage = new FolderStage(stageFolder);
  const tap = 'bench';
  const run = newRunId(1);
  const messages: ChunkMessage[] = [];
  let previous: { run: string; seq: number } | null = null;
  const writer = new ChunkWriter(
    async (chunk) => {
      const key = chunkKey({ tap, run, seq: chunk.seq });
      const metadata = {
        tap,
        run,
        seq: chunk.seq,
        previous,
        records: chunk.records,
        streams: [...chunk.recordsByStream.keys()],
      };
      await stage.put(key, chunk.gzipBody, metadata);
      messages.push({ ...metadata, key });
      previous = { run, seq: chunk.seq };
    },
    { maxRecords: 5_000 },
  );
  for await (const { message } of parseMessages(createReadStream(file), { source: file }))
    await writer.write(message);
  await writer.end();
  const destination = await openDestination(parseDestinationSpec(destinationSpec));
  const stateStore = new MemoryStateStore();
  let records = 0;
  try {
    const result = await timed(async () => {
      for (let first = 0; first < messages.length; first += 10) {
        const batch = messages.slice(first, first + 10).map((message) => ({
          messageId: `${message.seq}`,
          body: JSON.stringify(message),
        }));
        const loaded = await persistBatch(batch, {
          stage,
          destination,
          stateStore,
          parse: (body) => JSON.parse(body) as ChunkMessage,
        });
        if (loaded.batchItemFailures.length > 0)
          throw new Error(`chunks failed to load: ${JSON.stringify(loaded.batchItemFailures)}`);
        for (const outcome of loaded.outcomes) records += outcome.records;
      }
    });
    return { ...result, chunks: messages.length, records };
  } finally {
    await destination.close();
  }
}

/** A pipeline file with 50,000 config keys: `parsePipeline` vs the yaml package's bare parse. */
export function pipelineWithManyKeys(keys = 50_000): { readonly ours: Timed; readonly bare: Timed } {
  const lines = [
    'destination: { type: duckdb, path: w.duckdb }',
    'taps:',
    '  s:',
    '    streamer:',
    '      command: tap-x',
    '      config:',
  ];
  for (let key = 0; key < keys; key += 1) lines.push(`        key_${key}: ${key}`);
  const text = `${lines.join('\n')}\n`;
  const best = (work: () => unknown): Timed => {
    let seconds = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round += 1) {
      const started = process.hrtime.bigint();
      work();
      seconds = Math.min(seconds, Number(process.hrtime.bigint() - started) / 1e9);
    }
    return { seconds };
  };
  return {
    bare: best(() => parseYaml(text, { uniqueKeys: false })),
    ours: best(() => parsePipeline(text, 'pipeline.yaml', { env: {} })),
  };
}
