/**
 * Values a record's schema allows but a warehouse column refuses, decided the same way for every
 * destination, and the few spellings made canonical so both destinations store the same thing:
 *
 * - integers beyond 64 bits in an `integer` column (declare the range, and it is a DECIMAL(38,0));
 * - decimals with more digits than DECIMAL(38, scale) holds;
 * - date-times and dates that are not on the calendar (`2024-02-30`), or out of range;
 * - date-times written `2024-01-01t10:00:00z`, with a space, without an offset (read as UTC), or at a
 *   leap second (`23:59:60`, which PostgreSQL rolls into the next minute and DuckDB refuses): written
 *   canonically, the leap second rolled forward as PostgreSQL does;
 * - key date-times with an offset: written in UTC, so two spellings of one instant are one key;
 * - U+0000 in strings, which PostgreSQL cannot store in text or jsonb: removed, in every destination.
 *
 * The run protocol checks records with this before staging and the persister before loading, so
 * nothing is staged that can never load.
 */

import type { LogicalType } from '../columns/column-types.ts';
import { isExactNumber } from '../protocol/exact-json.ts';
import type { JsonObject } from '../protocol/messages.ts';
import { hasAtMostDecimalPlaces } from './schema-dialects.ts';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const DECIMAL_DIGITS = 38;

export type ValueCheck =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problem: string };

/**
 * What a check found: undefined when the value goes in as it is (nearly always, and without an
 * allocation: a load checks millions), else the value rewritten or the problem.
 */
type Finding = ValueCheck | undefined;

/** Checks (and where needed rewrites) one property's value for its column's logical type. */
export function warehouseValue(value: unknown, type: LogicalType, isKey: boolean): ValueCheck {
  return finding(value, type, isKey) ?? { ok: true, value };
}

function finding(value: unknown, type: LogicalType, isKey: boolean): Finding {
  if (value === null || value === undefined) return undefined;
  switch (type.kind) {
    case 'integer':
      return integerValue(value);
    case 'decimal':
      return decimalValue(value, type.scale);
    case 'timestamp':
      return typeof value === 'string' ? timestampValue(value, isKey) : undefined;
    case 'date':
      return typeof value === 'string' ? dateValue(value) : undefined;
    default:
      return undefined;
  }
}

function integerValue(value: unknown): Finding {
  let big: bigint;
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) || !Number.isInteger(value)) return undefined; // not an integer: the schema check says so
    big = BigInt(value);
  } else if (isExactNumber(value)) {
    const text = value.toString();
    if (!/^-?\d+$/.test(text)) return undefined;
    big = BigInt(text);
  } else {
    return undefined;
  }
  if (big <= INT64_MAX && big >= INT64_MIN) return undefined;
  return {
    ok: false,
    problem: `${String(value)} is beyond the 64-bit integers an integer column holds (${INT64_MIN} to ${INT64_MAX}). Declare the property's range in its schema (e.g. "maximum": 1e37) so it loads as DECIMAL(38,0), or type it as a string`,
  };
}

function decimalValue(value: unknown, scale: number): Finding {
  // The common case, decided without text: a double within the column's digits and places.
  if (
    typeof value === 'number' &&
    Math.abs(value) < 10 ** (DECIMAL_DIGITS - scale) &&
    hasAtMostDecimalPlaces(value, scale)
  )
    return undefined;
  const text = isExactNumber(value)
    ? value.toString()
    : typeof value === 'number'
      ? String(value)
      : undefined;
  if (text === undefined) return undefined;
  const match = /^-?(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text);
  if (match === null) return undefined;
  const exponent = Number(match[3] ?? 0);
  const integerDigits = Math.max(0, (match[1] ?? '').replace(/^0+/, '').length + exponent);
  // Digits after the point that are not trailing zeros; a column of a smaller scale would round them.
  const fractionDigits = Math.max(0, (match[2] ?? '').replace(/0+$/, '').length - exponent);
  if (integerDigits > DECIMAL_DIGITS - scale)
    return {
      ok: false,
      problem: `${text} has ${integerDigits} digits before the point; its column is DECIMAL(${DECIMAL_DIGITS},${scale}), which holds ${DECIMAL_DIGITS - scale}. Type the property as a string, or without multipleOf (a double)`,
    };
  if (fractionDigits > scale)
    return {
      ok: false,
      problem: `${text} has ${fractionDigits} digits after the point; its column is DECIMAL(${DECIMAL_DIGITS},${scale}), which would round it (a multipleOf finer than 1e-${scale} is held to ${scale} places). Type the property as a string to keep every digit`,
    };
  return undefined;
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})([Tt ])(\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):?(\d{2}))?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `d` at `index` as a digit 0–9, or -1. */
function digitAt(text: string, index: number): number {
  const code = text.charCodeAt(index) - 48;
  return code >= 0 && code <= 9 ? code : -1;
}

function twoDigits(text: string, index: number): number {
  const tens = digitAt(text, index);
  const ones = digitAt(text, index + 1);
  return tens < 0 || ones < 0 ? -1 : tens * 10 + ones;
}

/**
 * Whether the text is already canonical UTC, `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z`, on the calendar and
 * before a leap second: what nearly every tap sends, decided without the regular expression.
 */
function isCanonicalUtc(text: string): boolean {
  const length = text.length;
  if (length < 20 || length > 27 || text.charCodeAt(length - 1) !== 90 /* Z */) return false;
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':')
    return false;
  const century = twoDigits(text, 0);
  const yearInCentury = twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  if (century < 0 || yearInCentury < 0 || month < 1 || month > 12 || day < 1) return false;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const year = century * 100 + yearInCentury;
  if (year < 1 || day > daysInMonth(year, month)) return false;
  if (length === 20) return true;
  if (text[19] !== '.' || length === 21) return false;
  for (let index = 20; index < length - 1; index += 1) if (digitAt(text, index) < 0) return false;
  return true;
}

function timestampValue(text: string, isKey: boolean): Finding {
  if (isCanonicalUtc(text)) return undefined;
  const checked = timestampValueByPattern(text, isKey);
  return checked.ok && checked.value === text ? undefined : checked;
}

/** The general rule for any spelling; exported so a test can hold the fast path to it. */
export function timestampValueByPattern(text: string, isKey: boolean): ValueCheck {
  const match = DATE_TIME.exec(text);
  // A shape ajv's date-time format refused already never gets here; anything else is left to the database.
  if (match === null) return { ok: true, value: text };
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[5]);
  const minute = Number(match[6]);
  const second = Number(match[7]);
  const calendar = calendarProblem(year, month, day);
  if (calendar !== undefined)
    return { ok: false, problem: `${JSON.stringify(text)} is not a date-time: ${calendar}` };
  if (hour > 23 || minute > 59 || second > 60)
    return {
      ok: false,
      problem: `${JSON.stringify(text)} is not a date-time: the time of day is out of range`,
    };
  const offsetSign = match[10];
  const offsetHours = Number(match[11] ?? 0);
  const offsetMinutes = Number(match[12] ?? 0);
  if (offsetHours > 23 || offsetMinutes > 59)
    return { ok: false, problem: `${JSON.stringify(text)} is not a date-time: its offset is out of range` };
  const fraction = match[8] ?? '';
  // No offset is read as UTC, as the Singer SDKs do.
  const canonical =
    match[4] === 'T' &&
    match[9] !== undefined &&
    match[9] !== 'z' &&
    second < 60 &&
    fraction.length <= 7 &&
    (!isKey || match[9] === 'Z');
  if (canonical) return { ok: true, value: text };
  const instant = new Date(0);
  instant.setUTCFullYear(year, month - 1, day);
  instant.setUTCHours(hour, minute, second, 0); // :60 rolls forward
  if (offsetSign !== undefined) {
    const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000;
    instant.setTime(instant.getTime() + (offsetSign === '+' ? -offsetMs : offsetMs));
  }
  const whole = instant.toISOString().slice(0, 19);
  // Microseconds are what both warehouses keep; more digits are cut, not rounded, so both agree.
  return { ok: true, value: `${whole}${fraction.slice(0, 7)}Z` };
}

function dateValue(text: string): Finding {
  const match = DATE.exec(text);
  if (match === null) return undefined;
  const problem = calendarProblem(Number(match[1]), Number(match[2]), Number(match[3]));
  return problem === undefined
    ? undefined
    : { ok: false, problem: `${JSON.stringify(text)} is not a date: ${problem}` };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in `month` (1–12) of `year`. */
function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] as number);
}

function calendarProblem(year: number, month: number, day: number): string | undefined {
  if (year < 1) return 'there is no year 0 (PostgreSQL refuses it; the year before 0001 is 1 BC)';
  if (month < 1 || month > 12) return `there is no month ${month}`;
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) return `${monthName(month)} ${year} has ${days} days`;
  return undefined;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function monthName(month: number): string {
  return new Date(Date.UTC(2000, month - 1, 1)).toLocaleString('en', { month: 'long', timeZone: 'UTC' });
}

/** A record's values as its columns take them, or the first property a column refuses. */
export function warehouseRecord(
  values: JsonObject,
  columns: readonly { readonly property: string; readonly type: LogicalType; readonly isKey: boolean }[],
):
  | { readonly ok: true; readonly values: JsonObject; readonly changed: boolean }
  | { readonly ok: false; readonly property: string; readonly problem: string } {
  let result = values;
  let changed = false;
  for (const column of columns) {
    const checked = finding(values[column.property], column.type, column.isKey);
    if (checked === undefined) continue;
    if (!checked.ok) return { ok: false, property: column.property, problem: checked.problem };
    if (checked.value !== values[column.property]) {
      if (!changed) result = { ...values };
      changed = true;
      (result as Record<string, unknown>)[column.property] = checked.value;
    }
  }
  return { ok: true, values: result, changed };
}

/** Whether a record (or its line) holds U+0000 anywhere; cheap on the line, which is escaped JSON. */
export function holdsNul(values: JsonObject, line: string | undefined): boolean {
  return (line ?? JSON.stringify(values)).includes('\\u0000');
}

/** The value with every U+0000 removed from its strings, keys included. */
export function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '') as T;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  if (value !== null && typeof value === 'object' && !isExactNumber(value))
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [
        withoutNul(key),
        withoutNul(item),
      ]),
    ) as T;
  return value;
}
