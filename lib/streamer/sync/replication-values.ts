/** Replication values (timestamps, numbers, text) as the sync strategies compare and move them. */

/** Compares replication values: as instants when both are dates, as numbers when numeric, else as text. */
export function compareValues(a: string, b: string): number {
  const dateA = Date.parse(a);
  const dateB = Date.parse(b);
  if (
    !Number.isNaN(dateA) &&
    !Number.isNaN(dateB) &&
    /\d{4}-\d{2}-\d{2}/.test(a) &&
    /\d{4}-\d{2}-\d{2}/.test(b)
  )
    return dateA - dateB;
  const numberA = Number(a);
  const numberB = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(numberA) && Number.isFinite(numberB))
    return numberA - numberB;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A timestamp moved by `ms`; a value that is not a timestamp stays as it is. */
export function shiftIso(value: string, ms: number): string {
  const time = Date.parse(value);
  return Number.isNaN(time) ? value : new Date(time + ms).toISOString();
}

export function minValue(a: string, b: string): string {
  return compareValues(a, b) <= 0 ? a : b;
}

export function maxValue(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareValues(a, b) >= 0 ? a : b;
}
