/**
 * Real Singer taps write JSON Schema of every draft. The validator speaks draft 7, so draft-4 forms
 * that mean the same are rewritten before compiling: `"maximum": 10, "exclusiveMaximum": true` is
 * `"exclusiveMaximum": 10` (and the same for minimum); `"exclusiveMaximum": false` is nothing.
 */
export function asDraft7(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(asDraft7);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) out[key] = asDraft7(value);
  for (const [exclusive, bound] of [
    ['exclusiveMaximum', 'maximum'],
    ['exclusiveMinimum', 'minimum'],
  ] as const) {
    if (typeof out[exclusive] !== 'boolean') continue;
    if (out[exclusive] === true && typeof out[bound] === 'number') {
      out[exclusive] = out[bound];
      delete out[bound];
    } else {
      delete out[exclusive];
    }
  }
  return out;
}

/** Whether `value` is a whole multiple of `step`, in decimal arithmetic on their shortest texts. */
export function isMultipleOf(value: number, step: number): boolean {
  if (!Number.isFinite(value) || !Number.isFinite(step) || step <= 0) return true;
  // The common case, money as multipleOf 0.01: a power of ten is a question of decimal places.
  const places = POWERS_OF_TEN.get(step);
  if (places !== undefined) return hasAtMostDecimalPlaces(value, places);
  const a = decimalOf(value);
  const b = decimalOf(step);
  const scale = Math.max(a.scale, b.scale);
  const scaledA = a.digits * 10n ** BigInt(scale - a.scale);
  const scaledB = b.digits * 10n ** BigInt(scale - b.scale);
  return scaledB === 0n || scaledA % scaledB === 0n;
}

/** 10^-places (1, 0.1, 0.01, …, as the literal `1e-places` reads) → places. */
const POWERS_OF_TEN = new Map<number, number>(
  Array.from({ length: 16 }, (_, places) => [Number(`1e-${places}`), places] as const),
);

/** Whether the shortest text of a finite double has at most `places` digits after the point. */
export function hasAtMostDecimalPlaces(value: number, places: number): boolean {
  // With the scaled value below 2^50, the two roundings stay under a quarter: rounding to a whole
  // number and back gives the value itself exactly when its shortest text has that few decimals
  // (property-tested against the text). Without BigInts, this is most of a check's cost saved.
  if (places <= 15) {
    const scale = 10 ** places;
    if (Math.abs(value) * scale < 2 ** 50) return Math.round(value * scale) / scale === value;
  }
  return decimalOf(value).scale <= places;
}

/** A number's shortest decimal text as digits × 10^-scale. */
function decimalOf(value: number): { digits: bigint; scale: number } {
  const [mantissa = '0', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const digits = BigInt(`${whole}${fraction}`.replace('+', ''));
  const scale = fraction.length - exponent;
  return scale >= 0 ? { digits, scale } : { digits: digits * 10n ** BigInt(-scale), scale: 0 };
}
