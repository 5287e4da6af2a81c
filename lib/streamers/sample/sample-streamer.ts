/**
 * `sample`: an offline streamer that makes deterministic customers and orders, so the demo runs with
 * no network and no token. Each run is one tick of its virtual clock: new records appear and some
 * change, and a bookmark per stream (`tick`, and `after_id` part-way through a tick) reads only those.
 * Every option has a default: `trib tap sample --config c.json` works with `{}` in c.json.
 * Built on the streamer SDK with `getRecords`, as any source that is not a paged HTTP API would be.
 */
import type { JsonObject, JsonSchema } from '../../protocol/messages.ts';
import { defineStream, type RecordsContext } from '../../streamer/define-stream.ts';
import { defineStreamer } from '../../streamer/define-streamer.ts';
import { countAt, customerAt, lastChangeTick, orderAt, type Population } from './sample-data.ts';
import customersSchema from './schemas/customers.json' with { type: 'json' };
import ordersSchema from './schemas/orders.json' with { type: 'json' };

interface SampleConfig {
  customers: number;
  orders: number;
  new_customers_per_run: number;
  new_orders_per_run: number;
  change_rate: number;
  seed: number;
  start_date: string;
  state_every: number;
}

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

/** A stream's bookmark: the tick it has read up to, and part-way through a tick, the last id read. */
interface TickBookmark extends JsonObject {
  tick: number;
  from_tick?: number;
  after_id?: number;
  updated_at?: string;
}

function tickStream(name: 'customers' | 'orders') {
  return defineStream<SampleConfig>({
    name,
    // JSON imports, so bundles for Lambda carry the schemas inside
    schema: name === 'customers' ? customersSchema : ordersSchema,
    keyProperties: ['id'],
    replication: { method: 'INCREMENTAL', key: 'updated_at' },
    async *getRecords(context: RecordsContext<SampleConfig, Record<string, never>>) {
      const { config } = context;
      const customers: Population = {
        initial: config.customers,
        growthPerTick: config.new_customers_per_run,
      };
      const population: Population =
        name === 'customers'
          ? customers
          : { initial: config.orders, growthPerTick: config.new_orders_per_run };
      const startMs = Date.parse(config.start_date);
      const previous = context.bookmark as TickBookmark | undefined;
      const resuming = previous?.after_id !== undefined;
      const tick = resuming ? previous.tick : (previous?.tick ?? -1) + 1;
      const fromTick = resuming ? (previous.from_tick ?? previous.tick - 1) : (previous?.tick ?? -1);
      let latest = previous?.updated_at;
      let emitted = 0;
      // A first sync reads every record there is: that many, known up front.
      if (!resuming && fromTick < 0) context.expectRecords(countAt(population, tick));
      for (let id = resuming ? (previous.after_id ?? 0) + 1 : 1; id <= countAt(population, tick); id += 1) {
        const changed = lastChangeTick(config.seed, population, config.change_rate, id, tick);
        if (changed <= fromTick) continue;
        const record: JsonObject =
          name === 'customers'
            ? customerAt(config.seed, id, tick, changed, startMs)
            : orderAt(config.seed, id, changed, customers.initial, startMs);
        yield record;
        emitted += 1;
        if (latest === undefined || (record.updated_at as string) > latest)
          latest = record.updated_at as string;
        if (emitted % config.state_every === 0) {
          context.advance({
            tick,
            from_tick: fromTick,
            after_id: id,
            ...(latest === undefined ? {} : { updated_at: latest }),
          });
          context.checkpoint();
        }
      }
      context.advance({ tick, ...(latest === undefined ? {} : { updated_at: latest }) });
      context.log(`sample: ${name}: ${emitted} new or changed records at tick ${tick}`);
    },
    stateEvery: Number.MAX_SAFE_INTEGER, // STATE comes from the checkpoints above
  });
}

export const sampleStreamer = defineStreamer<SampleConfig>({
  name: 'sample',
  description: 'Deterministic offline customers and orders that change between runs',
  configSchema,
  streams: [tickStream('customers'), tickStream('orders')],
});
