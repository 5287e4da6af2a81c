import { describe, expect, it } from 'vitest';
import { RecordValidators } from '../../../lib/persister/record-validator.ts';
import type { Message } from '../../../lib/protocol/index.ts';
import { StreamerConfigError } from '../../../lib/streamer/streamer.ts';
import { sampleStreamer } from '../../../lib/streamers/sample/sample-streamer.ts';

async function collect(options: Parameters<typeof sampleStreamer.run>[0]) {
  const messages: Message[] = [];
  for await (const message of sampleStreamer.run(options)) messages.push(message);
  const records = messages.filter((m) => m.type === 'RECORD');
  const state = messages.filter((m) => m.type === 'STATE').at(-1)?.value;
  return { messages, records, state };
}
const keyOf = (m: Message) =>
  m.type === 'RECORD' ? `${m.stream}:${m.record.id}:${m.record.updated_at}` : '';
const config = { customers: 300, orders: 700, state_every: 50 };

describe('sample streamer', () => {
  it('works with an empty config and emits records valid against their schemas', async () => {
    const { messages, records } = await collect({ config: {} });
    expect(records.length).toBe(6_000);
    const validators = new RecordValidators();
    const schemas = new Map(
      messages.filter((m) => m.type === 'SCHEMA').map((m) => [m.stream, validators.forSchema(m.schema)]),
    );
    for (const record of records) expect(schemas.get(record.stream)?.(record.record)).toBe(true);
  });

  it('is deterministic, and the next run reads only new and changed records', async () => {
    const first = await collect({ config });
    expect((await collect({ config })).records.map(keyOf)).toEqual(first.records.map(keyOf));
    const second = await collect({ config, state: first.state });
    expect(second.records.length).toBeGreaterThan(20); // 20 + 100 new, plus ~2% changed
    expect(second.records.length).toBeLessThan(200);
    const firstKeys = new Set(first.records.map(keyOf));
    for (const record of second.records) expect(firstKeys.has(keyOf(record))).toBe(false);
  });

  it('resumes a run stopped at a STATE without gaps or duplicates', async () => {
    const whole = await collect({ config });
    const stopped = await collect({ config, deadline: 0 }); // stop at the first STATE
    expect(stopped.records.length).toBe(50);
    const rest = await collect({ config, state: stopped.state });
    expect([...stopped.records, ...rest.records].map(keyOf)).toEqual(whole.records.map(keyOf));
  });

  it('selects streams and refuses bad config naming the key', async () => {
    const { records } = await collect({ config, selectedStreams: ['orders'] });
    expect(new Set(records.map((r) => r.stream))).toEqual(new Set(['orders']));
    await expect(collect({ config: { customers: 'many' } })).rejects.toThrow(StreamerConfigError);
    await expect(collect({ config: { customers: 'many' } })).rejects.toThrow(
      'config: customers: received "many"; must be integer',
    );
    await expect(collect({ config: { custmers: 1 } })).rejects.toThrow(
      'config: custmers: received 1; unknown key, expected one of customers, orders',
    );
  });
});
