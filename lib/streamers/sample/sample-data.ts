/**
 * The sample source's data, a pure function of (seed, id, tick). A tick is one sync: at tick t the
 * source holds `initial + t * growth` records, and record i last changed at the latest tick at which
 * `chance(seed, i, tick) < changeRate`. So every run sees the same world, and each run finds new and
 * changed records, as a real API would.
 */

const HOUR_MS = 3_600_000;
const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Tim'];
const LAST_NAMES = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Thompson',
  'Perlman',
  'Berners-Lee',
];
const COUNTRIES = ['DE', 'FR', 'GB', 'US', 'JP', 'BR', 'IN', 'NG', 'SE', 'CA'];
const CITIES = ['Berlin', 'Lyon', 'Leeds', 'Austin', 'Osaka', 'Recife', 'Pune', 'Lagos', 'Malmö', 'Montréal'];
const PLANS = ['free', 'team', 'enterprise'] as const;
const STATUSES = ['placed', 'paid', 'shipped', 'delivered', 'refunded'] as const;

/** A deterministic number in [0, 1) from three integers (a small integer hash; no state). */
export function chance(seed: number, id: number, tick: number): number {
  let h =
    Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(id, 0xc2b2ae35) ^ Math.imul(tick + 1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  h ^= h >>> 15;
  return (h >>> 0) / 4_294_967_296;
}

export interface Population {
  readonly initial: number;
  readonly growthPerTick: number;
}

export function countAt(population: Population, tick: number): number {
  return population.initial + tick * population.growthPerTick;
}

export function createdTick(population: Population, id: number): number {
  return id <= population.initial ? 0 : Math.ceil((id - population.initial) / population.growthPerTick);
}

/** The last tick in [createdTick, tick] at which record `id` changed. */
export function lastChangeTick(
  seed: number,
  population: Population,
  changeRate: number,
  id: number,
  tick: number,
): number {
  const created = createdTick(population, id);
  for (let t = tick; t > created; t -= 1) if (chance(seed, id, t) < changeRate) return t;
  return created;
}

export function timestampAt(startMs: number, tick: number, id: number): string {
  return new Date(startMs + tick * HOUR_MS + (id % 3_600) * 1_000).toISOString();
}

export function customerAt(seed: number, id: number, tick: number, changedTick: number, startMs: number) {
  const pick = <T>(list: readonly T[], salt: number): T =>
    list[Math.floor(chance(seed + salt, id, changedTick) * list.length)] as T;
  const first = pick(FIRST_NAMES, 1);
  const last = pick(LAST_NAMES, 2);
  const city = Math.floor(chance(seed + 3, id, 0) * CITIES.length);
  return {
    id,
    name: `${first} ${last}`,
    email: `${first}.${last}.${id}@example.com`.toLowerCase(),
    country: COUNTRIES[city] as string,
    plan: pick(PLANS, 4),
    active: chance(seed + 5, id, changedTick) > 0.1,
    lifetime_value: Math.round(chance(seed + 6, id, changedTick) * 10_000_00) / 100,
    address: {
      street: `${1 + (id % 200)} Main Street`,
      city: CITIES[city] as string,
      postcode: String(10_000 + ((id * 37) % 89_999)),
    },
    tags: chance(seed + 7, id, changedTick) > 0.5 ? ['newsletter'] : [],
    created_at: timestampAt(startMs, tick > 0 ? Math.min(tick, changedTick) : 0, id).replace(
      /T.*/,
      'T00:00:00.000Z',
    ),
    updated_at: timestampAt(startMs, changedTick, id),
  };
}

export function orderAt(seed: number, id: number, changedTick: number, customers: number, startMs: number) {
  const quantity = 1 + Math.floor(chance(seed + 8, id, 0) * 4);
  const price = Math.round((5 + chance(seed + 9, id, 0) * 195) * 100) / 100;
  return {
    id,
    customer_id: 1 + Math.floor(chance(seed + 10, id, 0) * customers),
    status: STATUSES[
      Math.min(STATUSES.length - 1, Math.floor(chance(seed + 11, id, changedTick) * STATUSES.length))
    ] as string,
    amount: Math.round(quantity * price * 100) / 100,
    currency: 'EUR',
    items: [{ sku: `SKU-${1000 + (id % 500)}`, quantity, price }],
    created_at: timestampAt(startMs, 0, id),
    updated_at: timestampAt(startMs, changedTick, id),
  };
}
