/**
 * The Initial State Events API's limits (shared/reference/ingest/initial-state-events.md §2, §4, §5),
 * checked the same way by the client (at `log()`) and by the endpoint (per event), so an event the
 * client accepts is never refused by the server.
 */

/** `key`: the API docs say 100 characters (the Python README says 250; the server rule is 100). */
export const MAX_EVENT_KEY_LENGTH = 100;
export const MAX_EVENT_VALUE_LENGTH = 2_000;
export const MAX_BUCKET_KEY_LENGTH = 250;
export const MAX_BUCKET_NAME_LENGTH = 250;
/** Request body, bytes. */
export const MAX_BODY_BYTES = 1_000_000;
/** Our event ids (UUID v7 from the client, or derived by the server). */
export const MAX_EVENT_ID_LENGTH = 64;
const FORBIDDEN_BUCKET_CHARACTERS = /[:"']/;
/** A client timestamp this far behind the server's clock is replaced by the server's time. */
export const STALE_TIMESTAMP_MS = 10 * 365.25 * 24 * 3_600_000;

export type EventValue = string | number | boolean;

/** Why an event key is not allowed, or undefined when it is. */
export function eventKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return `received ${describe(key)}; must be a string`;
  if (key.length === 0) return 'received an empty string; must be 1 to 100 characters';
  if (key.length > MAX_EVENT_KEY_LENGTH)
    return `received ${key.length} characters; must be at most ${MAX_EVENT_KEY_LENGTH}`;
  return undefined;
}

/** Why an event value is not allowed, or undefined when it is. Numbers may be exact-JSON numbers. */
export function eventValueProblem(value: unknown): string | undefined {
  if (typeof value === 'boolean') return undefined;
  if (typeof value === 'number')
    return Number.isFinite(value) ? undefined : `received ${value}; must be a finite number`;
  if (typeof value === 'string')
    return value.length > MAX_EVENT_VALUE_LENGTH
      ? `received a string of ${value.length} characters; must be at most ${MAX_EVENT_VALUE_LENGTH}`
      : undefined;
  if (isExactNumber(value)) return undefined;
  return `received ${describe(value)}; must be a string, number or boolean`;
}

/** Why an epoch (Unix seconds) is not allowed, or undefined when it is. */
export function epochProblem(epoch: unknown): string | undefined {
  if (typeof epoch === 'number')
    return Number.isFinite(epoch) ? undefined : `received ${epoch}; must be a finite number of seconds`;
  // The Node SDK sends nanosecond precision as a string of seconds ("1420070400.000000001").
  if (typeof epoch === 'string' || isExactNumber(epoch))
    return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(String(epoch)) && Number.isFinite(Number(String(epoch)))
      ? undefined
      : `received ${JSON.stringify(String(epoch))}; must be Unix seconds, e.g. 1730402290.311`;
  return `received ${describe(epoch)}; must be a number of Unix seconds`;
}

export function bucketKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return `received ${describe(key)}; must be a string`;
  if (key.length === 0) return 'received an empty string; must be 1 to 250 characters';
  if (key.length > MAX_BUCKET_KEY_LENGTH)
    return `received ${key.length} characters; must be at most ${MAX_BUCKET_KEY_LENGTH}`;
  if (FORBIDDEN_BUCKET_CHARACTERS.test(key))
    return `received ${JSON.stringify(key)}; may not contain : " or '`;
  return undefined;
}

export function bucketNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `received ${describe(name)}; must be a string`;
  if (name.length > MAX_BUCKET_NAME_LENGTH)
    return `received ${name.length} characters; must be at most ${MAX_BUCKET_NAME_LENGTH}`;
  if (FORBIDDEN_BUCKET_CHARACTERS.test(name))
    return `received ${JSON.stringify(name)}; may not contain : " or '`;
  return undefined;
}

/** A lossless-json LosslessNumber (the endpoint parses bodies exactly): `{ isLosslessNumber, value }`. */
function isExactNumber(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { isLosslessNumber?: unknown }).isLosslessNumber === true &&
    Number.isFinite(Number((value as { value: string }).value))
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `a string ${JSON.stringify(value.slice(0, 40))}`;
  return `${typeof value} ${String(value)}`;
}
