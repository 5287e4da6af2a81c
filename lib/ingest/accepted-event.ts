/**
 * An event as the endpoint accepts it and the ingest tap stages it: one row of the `events` table.
 * Validation follows the Events API (§4): `key` and `value` required, `epoch` before `iso8601` before
 * the server's clock, a client timestamp ten or more years old replaced by the server's time.
 */
import { createHash } from 'node:crypto';
import { LosslessNumber } from 'lossless-json';
import { isExactNumber, stringifyExact } from '../protocol/exact-json.ts';
import {
  epochProblem,
  eventKeyProblem,
  eventValueProblem,
  MAX_EVENT_ID_LENGTH,
  STALE_TIMESTAMP_MS,
} from '../push/event-rules.ts';

export interface AcceptedEvent {
  readonly event_id: string;
  readonly bucket_key: string;
  readonly bucket_name: string;
  readonly key: string;
  readonly value_text: string | null;
  readonly value_number: number | LosslessNumber | null;
  readonly value_bool: boolean | null;
  readonly event_time: string;
  readonly received_at: string;
}

export interface EventContext {
  readonly tap: string;
  readonly bucketKey: string;
  readonly bucketName: string;
  readonly receivedAt: number;
}

export type EventsParse =
  | { readonly ok: true; readonly events: AcceptedEvent[] }
  | { readonly ok: false; readonly problem: string };

const EVENT_ID = /^[A-Za-z0-9_-]+$/;

/** The body's events (an object or an array at the root), or the first problem, named by index and field. */
export function acceptEvents(body: unknown, context: EventContext): EventsParse {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0)
    return { ok: false, problem: 'the body is an empty array; send at least one event' };
  const events: AcceptedEvent[] = [];
  for (const [index, item] of items.entries()) {
    const where = Array.isArray(body) ? `events[${index}]` : 'event';
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      return { ok: false, problem: `${where}: must be an object with key and value` };
    const event = item as Record<string, unknown>;
    if (!('key' in event))
      return { ok: false, problem: `${where}.key: required (the name of the value's stream)` };
    const keyProblem = eventKeyProblem(event.key);
    if (keyProblem !== undefined) return { ok: false, problem: `${where}.key: ${keyProblem}` };
    if (!('value' in event)) return { ok: false, problem: `${where}.value: required` };
    const valueProblem = eventValueProblem(event.value);
    if (valueProblem !== undefined) return { ok: false, problem: `${where}.value: ${valueProblem}` };
    const time = eventTime(event, context.receivedAt);
    if (typeof time === 'object') return { ok: false, problem: `${where}.${time.field}: ${time.problem}` };
    const id = event.event_id;
    if (
      id !== undefined &&
      (typeof id !== 'string' || id.length === 0 || id.length > MAX_EVENT_ID_LENGTH || !EVENT_ID.test(id))
    )
      return {
        ok: false,
        problem: `${where}.event_id: received ${JSON.stringify(id)}; must be 1 to ${MAX_EVENT_ID_LENGTH} letters, digits, - or _`,
      };
    events.push(
      accepted(
        event.key as string,
        event.value,
        time,
        typeof id === 'string' ? id : undefined,
        index,
        context,
        event,
      ),
    );
  }
  return { ok: true, events };
}

/** The query-string form (`GET /api/events?accessKey=…&bucketKey=…&temp=21.5`): each other pair is an event. */
export function acceptQueryEvents(pairs: readonly [string, string][], context: EventContext): EventsParse {
  if (pairs.length === 0) return { ok: false, problem: 'no events: add key=value pairs to the query string' };
  const events: AcceptedEvent[] = [];
  for (const [index, [key, text]] of pairs.entries()) {
    const keyProblem = eventKeyProblem(key);
    if (keyProblem !== undefined)
      return { ok: false, problem: `query ${JSON.stringify(key)}: ${keyProblem}` };
    const value = queryValue(text);
    const valueProblem = eventValueProblem(value);
    if (valueProblem !== undefined) return { ok: false, problem: `query ${key}: value: ${valueProblem}` };
    events.push(
      accepted(key, value, new Date(context.receivedAt).toISOString(), undefined, index, context, {
        key,
        value,
      }),
    );
  }
  return { ok: true, events };
}

/** A query value as the API reads it: numbers and booleans by their text, anything else a string. */
function queryValue(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/.test(text) && Number.isFinite(Number(text)))
    return String(Number(text)) === text ? Number(text) : new LosslessNumber(text);
  return text;
}

function accepted(
  key: string,
  value: unknown,
  eventTime: string,
  clientId: string | undefined,
  index: number,
  context: EventContext,
  raw: Record<string, unknown>,
): AcceptedEvent {
  return {
    event_id: clientId ?? derivedId(context, index, raw),
    bucket_key: context.bucketKey,
    bucket_name: context.bucketName,
    key,
    value_text: typeof value === 'string' ? value : null,
    value_number:
      typeof value === 'number' || isExactNumber(value) ? (value as number | LosslessNumber) : null,
    value_bool: typeof value === 'boolean' ? value : null,
    event_time: eventTime,
    received_at: new Date(context.receivedAt).toISOString(),
  };
}

/**
 * Another client's event has no id: it gets one from its content and place in the request, and from
 * its arrival only when it has no timestamp of its own. So a batch that ISStreamer sends again (it
 * always stamps epochs) has the same ids and loads once; two equal events in one request stay two.
 */
function derivedId(context: EventContext, index: number, raw: Record<string, unknown>): string {
  const stamp = raw.epoch ?? raw.iso8601 ?? `arrival:${context.receivedAt}`;
  const digest = createHash('sha256')
    .update(stringifyExact([context.tap, context.bucketKey, raw.key, raw.value, stamp, index]))
    .digest('hex');
  return `d${digest.slice(0, 31)}`;
}

type TimeOrProblem = string | { readonly field: string; readonly problem: string };

function eventTime(event: Record<string, unknown>, receivedAt: number): TimeOrProblem {
  let iso: string | undefined;
  if (event.epoch !== undefined) {
    const problem = epochProblem(event.epoch);
    if (problem !== undefined) return { field: 'epoch', problem };
    iso = isoFromEpoch(String(isExactNumber(event.epoch) ? event.epoch.toString() : event.epoch));
  } else if (event.iso8601 !== undefined) {
    const parsed = typeof event.iso8601 === 'string' ? Date.parse(event.iso8601) : Number.NaN;
    if (Number.isNaN(parsed))
      return {
        field: 'iso8601',
        problem: `received ${JSON.stringify(event.iso8601)}; must be an ISO 8601 time such as 2025-10-31T19:18:10.311Z`,
      };
    iso = new Date(parsed).toISOString();
  }
  if (iso === undefined || receivedAt - Date.parse(iso) >= STALE_TIMESTAMP_MS)
    return new Date(receivedAt).toISOString();
  return iso;
}

/** ISO 8601 with microseconds from Unix seconds written in decimal, without a double's rounding. */
export function isoFromEpoch(text: string): string {
  const plain = /[eE]/.test(text) ? Number(text).toFixed(6) : text;
  const negative = plain.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? plain.slice(1) : plain).split('.');
  const micros = BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, '0').slice(0, 6));
  const signed = negative ? -micros : micros;
  const millis = signed / 1000n - (signed % 1000n < 0n ? 1n : 0n);
  const subMillis = Number(signed - millis * 1000n);
  const base = new Date(Number(millis)).toISOString(); // …T19:18:10.311Z
  return `${base.slice(0, -1)}${String(subMillis).padStart(3, '0')}Z`;
}
