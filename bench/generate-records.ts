/**
 * Writes the benchmark's input: N keyed records of about 1.1 KB as a Singer file, and the same
 * records as bare NDJSON for the baselines. Streams to disk; never holds the records in memory.
 */

import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';

export const benchSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    email: { type: 'string' },
    status: { type: 'string' },
    amount: { type: 'number', multipleOf: 0.01 },
    quantity: { type: 'integer' },
    active: { type: 'boolean' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    address: { type: 'object' },
    tags: { type: 'array' },
    description: { type: 'string' },
  },
};

const WORDS =
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(
    ' ',
  );

export function benchRecord(id: number, generation = 0) {
  let description = '';
  for (let i = 0; description.length < 720; i += 1)
    description += `${WORDS[(id * 7 + i * 13 + generation) % WORDS.length]} `;
  return {
    id,
    name: `Customer ${id}`,
    email: `customer.${id}@example.com`,
    status: ['new', 'active', 'paused', 'closed'][(id + generation) % 4],
    amount: Math.round(((id * 37) % 100_000) + generation) / 100,
    quantity: (id * 13) % 97,
    active: (id + generation) % 3 !== 0,
    created_at: new Date(Date.UTC(2024, 0, 1) + id * 1000).toISOString(),
    updated_at: new Date(Date.UTC(2024, 6, 1) + id * 1000 + generation * 3_600_000).toISOString(),
    address: {
      street: `${id % 500} Main Street`,
      city: 'Berlin',
      postcode: String(10_000 + (id % 89_999)),
      country: 'DE',
    },
    tags: id % 2 === 0 ? ['newsletter', 'vip'] : ['trial'],
    description: description.trim(),
  };
}

async function write(output: WriteStream, text: string): Promise<void> {
  if (!output.write(text)) await once(output, 'drain');
}

/** Records `first..first+count-1`; `generation` changes their values (for an upsert of changed rows). */
export async function generateFiles(options: {
  singer: string;
  ndjson?: string;
  csv?: string;
  count: number;
  first?: number;
  generation?: number;
}) {
  const singer = createWriteStream(options.singer);
  const ndjson = options.ndjson === undefined ? undefined : createWriteStream(options.ndjson);
  await write(
    singer,
    `${JSON.stringify({ type: 'SCHEMA', stream: 'customers', schema: benchSchema, key_properties: ['id'] })}\n`,
  );
  const first = options.first ?? 1;
  for (let id = first; id < first + options.count; id += 1) {
    const record = JSON.stringify(benchRecord(id, options.generation));
    await write(singer, `{"type":"RECORD","stream":"customers","record":${record}}\n`);
    if (ndjson !== undefined) await write(ndjson, `${record}\n`);
    if ((id - first + 1) % 10_000 === 0)
      await write(singer, `{"type":"STATE","value":{"customers":${id}}}\n`);
  }
  await write(singer, `{"type":"STATE","value":{"customers":${first + options.count - 1}}}\n`);
  for (const output of [singer, ndjson]) {
    if (output === undefined) continue;
    output.end();
    await once(output, 'close');
  }
}
