import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ChunkToLoad } from '../../lib/persister/load-chunks.ts';
import { parseMessageBatches } from '../../lib/protocol/index.ts';

/** A chunk made from message objects, parsed like a real one (so exact numbers behave the same). */
export function chunkOf(
  tap: string,
  run: string,
  seq: number,
  messages: readonly object[] | string,
  /** The chunk it follows; by default the previous seq of the run, or 'unchained' for seq 0. */
  previous: ChunkToLoad['previous'] = seq > 0 ? { run, seq: seq - 1 } : 'unchained',
): ChunkToLoad {
  const text =
    typeof messages === 'string'
      ? messages
      : messages.map((message) => `${JSON.stringify(message)}\n`).join('');
  return {
    tap,
    run,
    seq,
    previous,
    source: `test:${run}/${seq}`,
    messages: () => parseMessageBatches(Readable.from([text]), { source: `test:${run}/${seq}` }),
  };
}

export function temporaryFolder(prefix = 'tributary-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const schema = (stream: string, properties: Record<string, unknown>, keys: string[] = []) => ({
  type: 'SCHEMA',
  stream,
  schema: { type: 'object', properties },
  key_properties: keys,
});
export const record = (stream: string, values: Record<string, unknown>, version?: number) => ({
  type: 'RECORD',
  stream,
  record: values,
  ...(version === undefined ? {} : { version }),
});
export const state = (value: unknown) => ({ type: 'STATE', value });
