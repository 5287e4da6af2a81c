/**
 * A fake Chargebee API v2 site, written from shared/reference/sources/chargebee.md: Basic auth with the
 * key as user (401 api_authentication_failed with the legacy fields), /configurations telling Product
 * Catalog 1.0 or 2.0 and 400 configuration_incompatible for the other catalogue's resources, the list
 * envelope with wrappers (subscription rows carry `customer`), `limit` 10 by default and at most 100,
 * an opaque `next_offset` that is absent on the last page, `sort_by` only on the documented attributes,
 * `updated_at[after]` strictly greater, `include_deleted` (default false), records without
 * `updated_at` (before 2016), a 60 s request budget with 429 (with and without Retry-After) and
 * injectable 5xx. Brackets are accepted raw or percent-encoded (URLSearchParams decodes both).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLocalServer } from './local-server.ts';

type Json = Record<string, unknown>;

const SINGULAR: Record<string, string> = {
  customers: 'customer',
  subscriptions: 'subscription',
  invoices: 'invoice',
  credit_notes: 'credit_note',
  transactions: 'transaction',
  events: 'event',
  coupons: 'coupon',
  plans: 'plan',
  addons: 'addon',
  items: 'item',
  item_prices: 'item_price',
  attached_items: 'attached_item',
};
const PC1_ONLY = new Set(['plans', 'addons']);
const PC2_ONLY = new Set(['items', 'item_prices', 'attached_items', 'item_families']);
const SORTABLE: Record<string, string[]> = {
  customers: ['created_at', 'updated_at'],
  subscriptions: ['created_at', 'updated_at'],
  invoices: ['date', 'updated_at'],
  credit_notes: ['date'],
  transactions: ['date', 'updated_at'],
  items: ['id', 'name', 'updated_at'],
  item_prices: ['id', 'name', 'updated_at'],
  events: ['occurred_at'],
  coupons: ['created_at'],
};

export class ChargebeeApi {
  readonly site = 'harbourline-test';
  apiKey = 'test_cbkey_9f8e7d';
  catalog: 'v1' | 'v2' = 'v2';
  /** /configurations leaves out product_catalog_version (as an older site might). */
  catalogUnknown = false;
  readonly rows: Record<string, Json[]> = Object.fromEntries(Object.keys(SINGULAR).map((name) => [name, []]));
  readonly requests: string[] = [];
  /** Requests allowed per 60 s; past it, 429 (the test site default is 150). */
  budget = Number.POSITIVE_INFINITY;
  retryAfter: string | undefined;
  /** Next responses: an error with this status and code (a 429 with Retry-After when given). */
  readonly faults: Array<{ status: number; code: string; retryAfter?: string }> = [];
  private recent: number[] = [];
  private server: Awaited<ReturnType<typeof startLocalServer>> | undefined;
  private clock = 1_730_000_000;
  baseUrl = '';

  constructor(options: { customers?: number; catalog?: 'v1' | 'v2' } = {}) {
    if (options.catalog !== undefined) this.catalog = options.catalog;
    for (let i = 0; i < (options.customers ?? 25); i += 1) this.addCustomer();
    // A customer untouched since before 28 Sep 2016 has no updated_at.
    const legacy = this.rows.customers?.[0];
    if (legacy !== undefined) delete legacy.updated_at;
    if (this.catalog === 'v2') {
      this.rows.items?.push({
        id: 'growth',
        name: 'Growth',
        type: 'plan',
        status: 'active',
        updated_at: this.tick(),
        resource_version: 1,
        deleted: false,
        object: 'item',
      });
      this.rows.item_prices?.push({
        id: 'growth-EUR-monthly',
        item_id: 'growth',
        name: 'Growth EUR monthly',
        price: 4900,
        currency_code: 'EUR',
        status: 'active',
        updated_at: this.tick(),
        deleted: false,
        object: 'item_price',
      });
      this.rows.attached_items?.push({
        id: 'att_1',
        parent_item_id: 'growth',
        item_id: 'support',
        type: 'recommended',
        status: 'active',
        updated_at: this.tick(),
        object: 'attached_item',
      });
    } else {
      this.rows.plans?.push({
        id: 'growth',
        name: 'Growth',
        price: 4900,
        period: 1,
        period_unit: 'month',
        status: 'active',
        updated_at: this.tick(),
        object: 'plan',
      });
      this.rows.addons?.push({
        id: 'support',
        name: 'Support',
        price: 900,
        status: 'active',
        updated_at: this.tick(),
        object: 'addon',
      });
    }
    this.rows.coupons?.push({
      id: 'WELCOME10',
      name: 'Welcome',
      discount_type: 'percentage',
      discount_percentage: 10,
      status: 'active',
      created_at: this.tick(),
      updated_at: this.clock,
      object: 'coupon',
    });
  }

  /** The site's clock, in epoch seconds; each change moves it on by one second unless `sameSecond`. */
  tick(sameSecond = false): number {
    if (!sameSecond) this.clock += 1;
    return this.clock;
  }

  addCustomer(sameSecond = false): Json {
    const n = (this.rows.customers?.length ?? 0) + 1;
    const at = this.tick(sameSecond);
    const customer: Json = {
      id: `cus_${String(n).padStart(4, '0')}`,
      first_name: `Customer ${n}`,
      email: `c${n}@example.com`,
      auto_collection: 'on',
      net_term_days: 0,
      created_at: at,
      updated_at: at,
      resource_version: at * 1000,
      promotional_credits: 0,
      // more than 2^31 minor units: amounts must stay exact
      excess_payments: n === 3 ? 3_000_000_000_00 : 0,
      deleted: false,
      cf_region: n % 2 === 0 ? 'EMEA' : 'AMER',
      object: 'customer',
    };
    this.rows.customers?.push(customer);
    this.rows.subscriptions?.push({
      id: `sub_${String(n).padStart(4, '0')}`,
      customer_id: customer.id,
      status: 'active',
      currency_code: 'EUR',
      created_at: at,
      updated_at: at,
      mrr: 4900,
      deleted: false,
      object: 'subscription',
    });
    this.rows.events?.push({
      id: `ev_${this.rows.events?.length ?? 0}`,
      occurred_at: at,
      event_type: 'customer_created',
      content: { customer: { id: customer.id } },
      object: 'event',
    });
    return customer;
  }

  change(stream: string, id: string, values: Json, sameSecond = false): Json {
    const row = this.rows[stream]?.find((candidate) => candidate.id === id);
    if (row === undefined) throw new Error(`no ${stream} ${id}`);
    Object.assign(row, values, { updated_at: this.tick(sameSecond), resource_version: this.clock * 1000 });
    return row;
  }

  async start(): Promise<this> {
    this.server = await startLocalServer((request, response) => this.handle(request, response));
    this.baseUrl = `${this.server.url}/api/v2`;
    return this;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }

  private handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', 'http://fake');
    this.requests.push(`${url.pathname}${url.search}`);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json;charset=utf-8', ...headers });
      response.end(JSON.stringify(body));
    };
    const fail = (
      status: number,
      code: string,
      message: string,
      param?: string,
      headers?: Record<string, string>,
    ) =>
      send(
        status,
        {
          message,
          ...(status === 400 ? { type: 'invalid_request' } : {}),
          api_error_code: code,
          ...(param === undefined ? {} : { param, error_param: param }),
          error_code: code,
          error_msg: message,
          http_status_code: status,
        },
        headers,
      );
    if (!url.pathname.startsWith('/api/v2/'))
      return fail(404, 'site_not_found', 'Sorry, we could not find that site.');
    const expected = `Basic ${Buffer.from(`${this.apiKey}:`).toString('base64')}`;
    if (request.headers.authorization !== expected)
      return fail(401, 'api_authentication_failed', 'Sorry, authentication failed. Invalid api key');
    const now = Date.now();
    this.recent = this.recent.filter((at) => now - at < 60_000);
    if (this.recent.length >= this.budget)
      return fail(
        429,
        'api_request_limit_exceeded',
        'Access temporarily blocked: too many requests for this site. Retry later.',
        undefined,
        this.retryAfter === undefined ? {} : { 'retry-after': this.retryAfter },
      );
    this.recent.push(now);
    const fault = this.faults.shift();
    if (fault !== undefined)
      return fail(
        fault.status,
        fault.code,
        `injected ${fault.code}`,
        undefined,
        fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter },
      );

    const path = url.pathname.slice('/api/v2/'.length).split('/');
    if (path[0] === 'configurations')
      return send(200, {
        configurations: [
          { domain: this.site, ...(this.catalogUnknown ? {} : { product_catalog_version: this.catalog }) },
        ],
      });
    let resource = path[0] ?? '';
    let rows = this.rows[resource];
    if (resource === 'items' && path[2] === 'attached_items') {
      resource = 'attached_items';
      rows = (this.rows.attached_items ?? []).filter((row) => row.parent_item_id === path[1]);
    }
    if (rows === undefined) return fail(404, 'resource_not_found', `Sorry, ${resource} not found`);
    if (
      (this.catalog === 'v2' && PC1_ONLY.has(resource)) ||
      (this.catalog === 'v1' && PC2_ONLY.has(resource))
    )
      return fail(400, 'configuration_incompatible', 'This API operation is not enabled for this site');
    const query = url.searchParams;
    const limit = Number(query.get('limit') ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      return fail(
        400,
        'param_wrong_value',
        `limit : The value ${query.get('limit')} is invalid. Cannot be more than 100.`,
        'limit',
      );
    let selected = rows.filter((row) => query.get('include_deleted') === 'true' || row.deleted !== true);
    for (const [key, value] of query) {
      const filter = /^(\w+)\[(after|before|on)\]$/.exec(key);
      if (filter === null) continue;
      const [, attribute = '', operator] = filter;
      const bound = Number(value);
      selected = selected.filter((row) => {
        const at = row[attribute];
        if (typeof at !== 'number') return false; // no updated_at: invisible to the filter
        return operator === 'after' ? at > bound : operator === 'before' ? at < bound : at === bound;
      });
    }
    const sortKey = [...query.keys()].find((key) => key.startsWith('sort_by['));
    let order = 'created_at';
    let direction = 1;
    if (sortKey !== undefined) {
      const attribute = query.get(sortKey) ?? '';
      if (!(SORTABLE[resource] ?? []).includes(attribute))
        return fail(400, 'invalid_request', `sort_by : ${attribute} is not a sortable attribute`, 'sort_by');
      order = attribute;
      direction = sortKey === 'sort_by[desc]' ? -1 : 1;
    }
    selected = [...selected].sort(
      (a, b) =>
        direction * (Number(a[order] ?? 0) - Number(b[order] ?? 0)) ||
        String(a.id).localeCompare(String(b.id)),
    );
    let start = 0;
    const offset = query.get('offset');
    if (offset !== null) {
      try {
        const decoded = JSON.parse(offset) as [string, string];
        start = Number(decoded[1]);
        if (!Number.isInteger(start) || start < 0) throw new Error('bad');
      } catch {
        return fail(400, 'invalid_request', 'offset : invalid value', 'offset');
      }
    }
    const page = selected.slice(start, start + limit);
    const singular = SINGULAR[resource] ?? resource;
    const list = page.map((row) =>
      resource === 'subscriptions'
        ? {
            [singular]: row,
            customer: this.rows.customers?.find((customer) => customer.id === row.customer_id),
          }
        : { [singular]: row },
    );
    const more = start + limit < selected.length;
    const last = page.at(-1);
    return send(200, {
      list,
      ...(more
        ? { next_offset: JSON.stringify([String(Number(last?.[order] ?? 0) * 1000), String(start + limit)]) }
        : {}),
    });
  }
}
