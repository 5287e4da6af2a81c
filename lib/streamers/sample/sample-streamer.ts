/**
 * `sample`: an offline streamer that makes deterministic customers and orders, so the demo runs with
 * no network and no token. Each run is one tick of its virtual clock: new records appear and some
 * change, and an incremental bookmark per stream (`tick`, and `after_id` mid-tick) reads only those.
 * Every option has a default: `trib tap sample --config c.json` works with `{}` in c.json.
 */
import { readFileSync } from 'node:fs';
import type { JsonObject, JsonSchema, Message } from '../../protocol/messages.ts';
import type { StreamDescription, Streamer, StreamerRunOptions } from '../../streamer/streamer.ts';
import { validateConfig } from '../../streamer/validate-config.ts';
import { countAt, customerAt, lastChangeTick, orderAt, type Population } from './sample-data.ts';

const schemaFile = (name: string): JsonSchema =>
  JSON.parse(readFileSync(new URL(`./schemas/${name}.json`, import.meta.url), 'utf8')) as JsonSchema;

const STREAMS: readonly StreamDescription[] = [
  {
    name: 'customers',
    schema: schemaFile('customers'),
    keyProperties: ['id'],
    replicationMethod: 'INCREMENTAL',
    replicationKey: 'updated_at',
  },
  {
    name: 'orders',
    schema: schemaFile('orders'),
    keyProperties: ['id'],
    replicationMethod: 'INCREMENTAL',
    replicationKey: 'updated_at',
  },
];

const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    customers: { type: 'integer', minimum: 0, default: 1_000, description: 'customers at the first run' },
    orders: { type: 'integer', minimum: 0, default: 5_000, description: 'orders at the first run' },
    new_customers_per_run: { type: 'integer', minimum: 0, default: 20 },
    new_orders_per_run: { type: 'integer', minimum: 0, default: 100 },
    change_rate: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.02,
      description: 'share of records changed per run',
    },
    seed: { type: 'integer', default: 1 },
    start_date: { type: 'string', format: 'date-time', default: '2024-01-01T00:00:00Z' },
    state_every: {
      type: 'integer',
      minimum: 1,
      default: 5_000,
      description: 'records between STATE messages',
    },
  },
};

interface StreamBookmark {
  tick: number;
  /** The tick the run started after; set with after_id while a tick is part-way through. */
  from_tick?: number;
  after_id?: number;
  updated_at?: string;
}

export const sampleStreamer: Streamer = {
  name: 'sample',
  description: 'Deterministic offline customers and orders that change between runs',
  configSchema,
  streams: STREAMS,
  async *run(options: StreamerRunOptions): AsyncGenerator<Message> {
    const config = validateConfig(sampleStreamer, options.config);
    const seed = config.seed as number;
    const startMs = Date.parse(config.start_date as string);
    const changeRate = config.change_rate as number;
    const stateEvery = config.state_every as number;
    const customers: Population = {
      initial: config.customers as number,
      growthPerTick: config.new_customers_per_run as number,
    };
    const orders: Population = {
      initial: config.orders as number,
      growthPerTick: config.new_orders_per_run as number,
    };
    const bookmarks: Record<string, StreamBookmark> = { ...readBookmarks(options.state) };
    const state = (): Message => ({ type: 'STATE', value: { bookmarks: structuredClone(bookmarks) } });
    const selected = STREAMS.filter((stream) => options.selectedStreams?.includes(stream.name) ?? true);

    for (const stream of selected) {
      const previous = bookmarks[stream.name];
      const resuming = previous?.after_id !== undefined;
      const tick = resuming ? previous.tick : (previous?.tick ?? -1) + 1;
      const fromTick = resuming ? (previous.from_tick ?? previous.tick - 1) : (previous?.tick ?? -1);
      const population = stream.name === 'customers' ? customers : orders;
      yield {
        type: 'SCHEMA',
        stream: stream.name,
        schema: stream.schema,
        keyProperties: stream.keyProperties,
        bookmarkProperties: ['updated_at'],
      };
      let emitted = 0;
      let latest = previous?.updated_at;
      for (let id = resuming ? (previous.after_id ?? 0) + 1 : 1; id <= countAt(population, tick); id += 1) {
        const changed = lastChangeTick(seed, population, changeRate, id, tick);
        if (changed <= fromTick) continue;
        const record: JsonObject =
          stream.name === 'customers'
            ? customerAt(seed, id, tick, changed, startMs)
            : orderAt(seed, id, changed, customers.initial, startMs);
        yield { type: 'RECORD', stream: stream.name, record };
        emitted += 1;
        if (latest === undefined || (record.updated_at as string) > latest)
          latest = record.updated_at as string;
        if (emitted % stateEvery === 0) {
          bookmarks[stream.name] = {
            tick,
            from_tick: fromTick,
            after_id: id,
            ...(latest === undefined ? {} : { updated_at: latest }),
          };
          yield state();
          if (options.deadline !== undefined && Date.now() >= options.deadline) {
            options.log?.(
              `sample: deadline reached in stream ${stream.name} after id ${id}; the next run resumes here`,
            );
            return;
          }
        }
      }
      bookmarks[stream.name] = { tick, ...(latest === undefined ? {} : { updated_at: latest }) };
      yield state();
      options.log?.(`sample: ${stream.name}: ${emitted} new or changed records at tick ${tick}`);
    }
  },
};

function readBookmarks(state: unknown): Record<string, StreamBookmark> {
  if (typeof state !== 'object' || state === null) return {};
  const bookmarks = (state as { bookmarks?: unknown }).bookmarks;
  return typeof bookmarks === 'object' && bookmarks !== null
    ? (bookmarks as Record<string, StreamBookmark>)
    : {};
}
