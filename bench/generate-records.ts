/**
 * The benchmarks' input, two datasets of keyed records of about 1.1 KB:
 * - `flat`: 12 customer fields (strings, a decimal, integers, a boolean, date-times, a small object
 *   and array, a long description);
 * - `nested`: GitHub-commit-like, 20 top-level fields with nested author and committer, a parents
 *   array of objects, date-times, keyed on `sha`.
 * Each as a Singer file (a STATE every 5,000 records, so a load can commit at any 5k boundary) and as
 * bare NDJSON for the databases' own readers. Streams to disk; never holds the records in memory.
 */

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';

export type DatasetName = 'flat' | 'nested';

export interface Dataset {
  readonly name: DatasetName;
  readonly stream: string;
  readonly key: string;
  readonly schema: Record<string, unknown>;
  readonly describe: string;
  record(id: number, generation?: number): Record<string, unknown>;
}

const WORDS =
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(
    ' ',
  );

function words(seed: number, length: number): string {
  let text = '';
  for (let i = 0; text.length < length; i += 1) text += `${WORDS[(seed * 7 + i * 13) % WORDS.length]} `;
  return text.trim();
}

const dateTime = { type: 'string', format: 'date-time' };

export const flat: Dataset = {
  name: 'flat',
  stream: 'customers',
  key: 'id',
  describe:
    '12 fields: strings, a decimal (multipleOf 0.01), integers, a boolean, two date-times, a small object and array',
  schema: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      name: { type: 'string' },
      email: { type: 'string' },
      status: { type: 'string' },
      amount: { type: 'number', multipleOf: 0.01 },
      quantity: { type: 'integer' },
      active: { type: 'boolean' },
      created_at: dateTime,
      updated_at: dateTime,
      address: { type: 'object' },
      tags: { type: 'array' },
      description: { type: 'string' },
    },
  },
  record(id, generation = 0) {
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
      description: words(id + generation, 720),
    };
  },
};

const person = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    email: { type: 'string' },
    date: dateTime,
    login: { type: ['string', 'null'] },
    id: { type: ['integer', 'null'] },
  },
};

function sha(id: number, salt = ''): string {
  return createHash('sha1').update(`${salt}${id}`).digest('hex');
}

export const nested: Dataset = {
  name: 'nested',
  stream: 'commits',
  key: 'sha',
  describe:
    'GitHub-commit-like: 20 top-level fields, nested author and committer, a parents array of objects, four date-times',
  schema: {
    type: 'object',
    properties: {
      sha: { type: 'string' },
      node_id: { type: 'string' },
      url: { type: 'string' },
      html_url: { type: 'string' },
      comments_url: { type: 'string' },
      message: { type: 'string' },
      comment_count: { type: 'integer' },
      author: person,
      committer: person,
      tree_sha: { type: 'string' },
      parents: {
        type: 'array',
        items: { type: 'object', properties: { sha: { type: 'string' }, url: { type: 'string' } } },
      },
      verified: { type: 'boolean' },
      verification_reason: { type: ['string', 'null'] },
      additions: { type: 'integer' },
      deletions: { type: 'integer' },
      total_changes: { type: 'integer' },
      repository: { type: 'string' },
      branch: { type: 'string' },
      authored_at: dateTime,
      committed_at: dateTime,
    },
  },
  record(id, generation = 0) {
    const commit = sha(id);
    const api = `https://api.github.com/repos/tributary/bench/commits/${commit}`;
    const when = new Date(Date.UTC(2024, 0, 1) + id * 60_000 + generation * 3_600_000).toISOString();
    const who = (role: string) => ({
      name: `Developer ${id % 997}`,
      email: `dev${id % 997}@example.com`,
      date: when,
      login: id % 11 === 0 ? null : `dev${id % 997}`,
      id: id % 11 === 0 ? null : 10_000 + (id % 997),
      ...(role === 'committer' && id % 5 === 0 ? { name: 'GitHub', email: 'noreply@github.com' } : {}),
    });
    return {
      sha: commit,
      node_id: `C_kwDO${commit.slice(0, 20)}`,
      url: api,
      html_url: `https://github.com/tributary/bench/commit/${commit}`,
      comments_url: `${api}/comments`,
      message: words(id + generation, 230),
      comment_count: (id + generation) % 4,
      author: who('author'),
      committer: who('committer'),
      tree_sha: sha(id, 'tree'),
      parents: (id % 9 === 0 ? [id - 1, id - 2] : [id - 1]).map((parent) => ({
        sha: sha(parent),
        url: `https://api.github.com/repos/tributary/bench/commits/${sha(parent)}`,
      })),
      verified: id % 3 === 0,
      verification_reason: id % 3 === 0 ? 'valid' : null,
      additions: (id * 7 + generation) % 500,
      deletions: (id * 3) % 200,
      total_changes: ((id * 7 + generation) % 500) + ((id * 3) % 200),
      repository: 'tributary/bench',
      branch: 'main',
      authored_at: when,
      committed_at: when,
    };
  },
};

export const datasets: Readonly<Record<DatasetName, Dataset>> = { flat, nested };

async function write(output: WriteStream, text: string): Promise<void> {
  if (!output.write(text)) await once(output, 'drain');
}

/** Records `first..first+count-1`; `generation` changes their values (for an upsert of changed rows). */
export async function generateFiles(options: {
  dataset: Dataset;
  singer: string;
  ndjson?: string;
  count: number;
  first?: number;
  generation?: number;
  stateEvery?: number;
}) {
  const { dataset } = options;
  const stateEvery = options.stateEvery ?? 5_000;
  const singer = createWriteStream(options.singer);
  const ndjson = options.ndjson === undefined ? undefined : createWriteStream(options.ndjson);
  await write(
    singer,
    `${JSON.stringify({ type: 'SCHEMA', stream: dataset.stream, schema: dataset.schema, key_properties: [dataset.key] })}\n`,
  );
  const first = options.first ?? 1;
  const prefix = `{"type":"RECORD","stream":"${dataset.stream}","record":`;
  for (let id = first; id < first + options.count; id += 1) {
    const record = JSON.stringify(dataset.record(id, options.generation));
    await write(singer, `${prefix}${record}}\n`);
    if (ndjson !== undefined) await write(ndjson, `${record}\n`);
    if ((id - first + 1) % stateEvery === 0)
      await write(singer, `{"type":"STATE","value":{"${dataset.stream}":${id}}}\n`);
  }
  await write(singer, `{"type":"STATE","value":{"${dataset.stream}":${first + options.count - 1}}}\n`);
  for (const output of [singer, ndjson]) {
    if (output === undefined) continue;
    output.end();
    await once(output, 'close');
  }
}
