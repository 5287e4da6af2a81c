/**
 * JSON Schemas of the Chargebee streams: the attributes a billing warehouse needs, typed; everything
 * else a record carries (custom `cf_*` fields, nested detail) lands in `_tributary_extra`. Money is in
 * minor units (integers, some beyond 2^31); timestamps, epoch seconds at the API, are date-times here.
 */
import type { JsonSchema } from '../../protocol/messages.ts';

const text = { type: ['null', 'string'] };
const integer = { type: ['null', 'integer'] };
const flag = { type: ['null', 'boolean'] };
const time = { type: ['null', 'string'], format: 'date-time' };
const json = {};

const common = {
  id: { type: 'string' },
  object: text,
  deleted: flag,
  resource_version: integer,
  created_at: time,
  updated_at: time,
};

const schema = (properties: Record<string, unknown>): JsonSchema => ({
  type: 'object',
  properties: { ...common, ...properties },
});

export const chargebeeSchemas: Record<string, JsonSchema> = {
  customers: schema({
    first_name: text,
    last_name: text,
    email: text,
    company: text,
    auto_collection: text,
    net_term_days: integer,
    taxability: text,
    locale: text,
    preferred_currency_code: text,
    promotional_credits: integer,
    refundable_credits: integer,
    excess_payments: integer,
    unbilled_charges: integer,
    billing_address: json,
    channel: text,
  }),
  subscriptions: schema({
    customer_id: text,
    status: text,
    currency_code: text,
    plan_id: text,
    plan_quantity: integer,
    plan_unit_price: integer,
    billing_period: integer,
    billing_period_unit: text,
    current_term_start: time,
    current_term_end: time,
    next_billing_at: time,
    started_at: time,
    activated_at: time,
    cancelled_at: time,
    mrr: integer,
    subscription_items: json,
    addons: json,
  }),
  invoices: schema({
    customer_id: text,
    subscription_id: text,
    status: text,
    date: time,
    due_date: time,
    paid_at: time,
    currency_code: text,
    sub_total: integer,
    tax: integer,
    total: integer,
    amount_paid: integer,
    amount_due: integer,
    line_items: json,
    linked_payments: json,
  }),
  credit_notes: schema({
    customer_id: text,
    reference_invoice_id: text,
    type: text,
    status: text,
    date: time,
    currency_code: text,
    total: integer,
    amount_refunded: integer,
    line_items: json,
  }),
  transactions: schema({
    customer_id: text,
    subscription_id: text,
    type: text,
    status: text,
    date: time,
    currency_code: text,
    amount: integer,
    gateway: text,
  }),
  events: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      occurred_at: { type: 'string', format: 'date-time' },
      source: text,
      user: text,
      event_type: text,
      api_version: text,
      content: json,
      object: text,
    },
  },
  coupons: schema({
    name: text,
    discount_type: text,
    discount_percentage: { type: ['null', 'number'] },
    discount_amount: integer,
    status: text,
    valid_till: time,
  }),
  plans: schema({
    name: text,
    price: integer,
    period: integer,
    period_unit: text,
    currency_code: text,
    status: text,
  }),
  addons: schema({ name: text, price: integer, type: text, currency_code: text, status: text }),
  items: schema({ name: text, type: text, item_family_id: text, status: text }),
  item_prices: schema({
    item_id: text,
    name: text,
    price: integer,
    currency_code: text,
    period: integer,
    period_unit: text,
    status: text,
  }),
  attached_items: schema({
    parent_item_id: text,
    item_id: text,
    type: text,
    status: text,
    quantity: integer,
  }),
};

/** Top-level attributes that are epoch seconds at the API. */
export const TIMESTAMP_ATTRIBUTES = new Set(
  Object.values(chargebeeSchemas).flatMap((streamSchema) =>
    Object.entries(streamSchema.properties as Record<string, { format?: string }>)
      .filter(([, property]) => property.format === 'date-time')
      .map(([name]) => name),
  ),
);
