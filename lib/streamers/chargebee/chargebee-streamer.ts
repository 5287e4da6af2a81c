/**
 * `chargebee`: customers, subscriptions, invoices, credit notes, transactions, events, coupons and the
 * product catalogue (plans and addons on Product Catalog 1.0, items, item prices and attached items on
 * 2.0) from the Chargebee API v2. See README.md in this folder for how changes are found.
 */
import type { JsonObject } from '../../protocol/messages.ts';
import { basicAuth } from '../../streamer/auth.ts';
import { defineStream, type RequestContext } from '../../streamer/define-stream.ts';
import { defineStreamer } from '../../streamer/define-streamer.ts';
import { type HttpClient, HttpError } from '../../streamer/http-client.ts';
import { bodyCursor } from '../../streamer/pagination.ts';
import { chargebeeSchemas, TIMESTAMP_ATTRIBUTES } from './chargebee-schemas.ts';

export interface ChargebeeConfig {
  site: string;
  api_key: string;
  start_date: string;
  base_url?: string;
  include_deleted: boolean;
}

const PAGE = 100;
const page = () => bodyCursor({ path: ['next_offset'], param: 'offset' });

/** Chargebee's error body: the code to branch on, and the parameter it is about. */
interface ChargebeeError {
  readonly api_error_code?: string;
  readonly message?: string;
  readonly param?: string;
}

/** A resource of the other product catalogue: the stream is not available on this site, not failed. */
const otherCatalogue = (status: number, body: unknown) =>
  status === 400 && (body as ChargebeeError | undefined)?.api_error_code === 'configuration_incompatible';

const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** A list element's resource (`{"customer": {...}, "card": {...}}` → the customer), times as date-times. */
function unwrap(singular: string) {
  return (element: Record<string, unknown>): JsonObject | undefined => {
    const resource = element?.[singular];
    if (typeof resource !== 'object' || resource === null) return undefined;
    const record: JsonObject = { ...(resource as JsonObject) };
    for (const [name, value] of Object.entries(record))
      if (TIMESTAMP_ATTRIBUTES.has(name) && typeof value === 'number')
        record[name] = new Date(value * 1000).toISOString();
    return record;
  };
}

interface ListStream {
  readonly name: string;
  readonly singular: string;
  /** The attribute changes are found by, and whether the list can be sorted by it. */
  readonly key: 'updated_at' | 'occurred_at';
  readonly sortable: boolean;
  /** Lists that take `include_deleted` (their records carry `deleted`). */
  readonly deletable: boolean;
}

function listStream(spec: ListStream) {
  return defineStream<ChargebeeConfig>({
    name: spec.name,
    schema: chargebeeSchemas[spec.name] ?? { type: 'object' },
    keyProperties: ['id'],
    // `[after]` is strictly greater: ask from one second before the bookmark, so records changed in
    // the bookmark's own second after the last run read it are not lost; those read already are skipped.
    replication: {
      method: 'INCREMENTAL',
      key: spec.key,
      filter: 'gte',
      order: spec.sortable ? 'asc' : 'none',
    },
    request: ({ config, since }: RequestContext<ChargebeeConfig, Record<string, never>>) => {
      // The first sync lists everything: records untouched since 2016 have no updated_at, and a filter
      // on it would never show them. The start date still bounds what is kept.
      const first = since === undefined || Date.parse(since) <= Date.parse(config.start_date);
      return {
        path: `/${spec.name}`,
        query: {
          limit: PAGE,
          ...(spec.sortable ? { 'sort_by[asc]': spec.key } : {}),
          ...(spec.deletable ? { include_deleted: config.include_deleted } : {}),
          ...(first || since === undefined ? {} : { [`${spec.key}[after]`]: epochSeconds(since) - 1 }),
        },
      };
    },
    paginate: page(),
    extract: (body) => (body as { list?: unknown[] }).list ?? [],
    parse: unwrap(spec.singular),
    treatAsEmpty: otherCatalogue,
  });
}

const attachedItems = defineStream<ChargebeeConfig, { item_id: string }>({
  name: 'attached_items',
  schema: chargebeeSchemas.attached_items ?? { type: 'object' },
  keyProperties: ['id'],
  replication: { method: 'FULL_TABLE' },
  parent: { stream: 'items', partition: (item) => ({ item_id: String(item.id) }) },
  request: ({ partition }) => ({
    path: `/items/${encodeURIComponent(partition.item_id)}/attached_items`,
    query: { limit: PAGE },
  }),
  paginate: page(),
  extract: (body) => (body as { list?: unknown[] }).list ?? [],
  parse: unwrap('attached_item'),
  treatAsEmpty: otherCatalogue,
});

const CATALOG_STREAMS = {
  v1: ['plans', 'addons'],
  v2: ['items', 'item_prices', 'attached_items'],
} as const;
const ALL_STREAMS = [
  'customers',
  'subscriptions',
  'invoices',
  'credit_notes',
  'transactions',
  'events',
  'coupons',
  ...CATALOG_STREAMS.v1,
  ...CATALOG_STREAMS.v2,
];

/**
 * The site's Product Catalog (`GET /configurations`): 1.0 has plans and addons, 2.0 items, item prices
 * and attached items. Should the call not say, every stream is tried, and the other catalogue's
 * streams answer `configuration_incompatible`, which counts as empty.
 */
async function productCatalogStreams(context: {
  readonly config: ChargebeeConfig;
  readonly http: HttpClient;
  readonly log: (line: string) => void;
}): Promise<readonly string[]> {
  let body: unknown;
  try {
    body = (await context.http.request({ path: '/configurations' })).body;
  } catch (error) {
    if (
      error instanceof HttpError &&
      error.status === 404 &&
      (error.body as ChargebeeError)?.api_error_code !== 'site_not_found'
    )
      return ALL_STREAMS;
    throw error;
  }
  const entries = ((body as { configurations?: unknown[] })?.configurations ?? []) as {
    domain?: string;
    product_catalog_version?: string;
  }[];
  const site = context.config.site.toLowerCase();
  const entry = entries.find((candidate) => candidate.domain?.toLowerCase() === site) ?? entries[0];
  const version = entry?.product_catalog_version;
  if (version !== 'v1' && version !== 'v2') return ALL_STREAMS;
  context.log(
    `chargebee: site ${context.config.site} uses Product Catalog ${version === 'v1' ? '1.0' : '2.0'}`,
  );
  const other = CATALOG_STREAMS[version === 'v1' ? 'v2' : 'v1'] as readonly string[];
  return ALL_STREAMS.filter((name) => !other.includes(name));
}

export const chargebeeStreamer = defineStreamer<ChargebeeConfig>({
  name: 'chargebee',
  description:
    'Chargebee customers, subscriptions, invoices, credit notes, transactions, events and catalogue',
  configSchema: {
    type: 'object',
    required: ['site', 'api_key', 'start_date'],
    properties: {
      site: {
        type: 'string',
        pattern: '^[a-z0-9][a-z0-9-]*$',
        env: 'CHARGEBEE_SITE',
        description: 'the site name: acme in acme.chargebee.com',
      },
      api_key: {
        type: 'string',
        minLength: 1,
        secret: true,
        env: 'CHARGEBEE_API_KEY',
        description: 'a read-only or full-access API key of the site',
      },
      start_date: {
        type: 'string',
        format: 'date-time',
        env: 'CHARGEBEE_START_DATE',
        description: 'records changed before this are not synced',
      },
      base_url: {
        type: 'string',
        env: 'CHARGEBEE_API_URL',
        description: 'default https://<site>.chargebee.com/api/v2',
      },
      include_deleted: {
        type: 'boolean',
        default: true,
        description: 'sync deleted records with deleted: true, so the warehouse can soft-delete them',
      },
    },
  },
  http: (config) => ({
    baseUrl: config.base_url ?? `https://${config.site}.chargebee.com/api/v2`,
    auth: basicAuth(config.api_key),
    // A 429 blocks the site until its 60-second window clears.
    rateLimitMinWaitMs: 60_000,
  }),
  availableStreams: productCatalogStreams,
  fatal: (error) => {
    if (!(error instanceof HttpError)) return undefined;
    const body = (error.body ?? {}) as ChargebeeError;
    const code = body.api_error_code;
    if (error.status === 401 || error.status === 403)
      return `Chargebee answered ${error.status} (${code ?? 'authentication failed'}: ${body.message ?? ''}): check api_key, and that it is a key of site ${new URL(error.url).hostname.split('.')[0]}`;
    if (code === 'site_not_found' || code === 'site_not_ready')
      return `Chargebee answered ${error.status} (${code}): check site; a site being set up or migrated is not ready yet`;
    return undefined;
  },
  streams: [
    listStream({
      name: 'customers',
      singular: 'customer',
      key: 'updated_at',
      sortable: true,
      deletable: true,
    }),
    listStream({
      name: 'subscriptions',
      singular: 'subscription',
      key: 'updated_at',
      sortable: true,
      deletable: true,
    }),
    listStream({ name: 'invoices', singular: 'invoice', key: 'updated_at', sortable: true, deletable: true }),
    listStream({
      name: 'credit_notes',
      singular: 'credit_note',
      key: 'updated_at',
      sortable: false,
      deletable: true,
    }),
    listStream({
      name: 'transactions',
      singular: 'transaction',
      key: 'updated_at',
      sortable: true,
      deletable: true,
    }),
    listStream({ name: 'events', singular: 'event', key: 'occurred_at', sortable: true, deletable: false }),
    listStream({ name: 'coupons', singular: 'coupon', key: 'updated_at', sortable: false, deletable: false }),
    listStream({ name: 'plans', singular: 'plan', key: 'updated_at', sortable: false, deletable: true }),
    listStream({ name: 'addons', singular: 'addon', key: 'updated_at', sortable: false, deletable: true }),
    listStream({ name: 'items', singular: 'item', key: 'updated_at', sortable: true, deletable: true }),
    listStream({
      name: 'item_prices',
      singular: 'item_price',
      key: 'updated_at',
      sortable: true,
      deletable: true,
    }),
    attachedItems,
  ],
});
