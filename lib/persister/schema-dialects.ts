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
  const places = decimalPlacesOfPowerOfTen(step);
  if (places !== undefined) {
    // The common case (money as multipleOf 0.01): the value's shortest text has at most that many
    // decimals. Same answer as the decimal arithmetic below, without BigInts; texts with an exponent
    // take the long way.
    // Below 2^50 of the scaled value (so two roundings stay under a quarter), rounding to a whole multiple and back gives the value itself
    // exactly when its shortest text has at most that many decimals (property-tested against the text).
    const scale = 10 ** places;
    if (Math.abs(value) * scale < 2 ** 50) return Math.round(value * scale) / scale === value;
    const text = String(value);
    if (!text.includes('e')) {
      const point = text.indexOf('.');
      return (point < 0 ? 0 : text.length - point - 1) <= places;
    }
  }
  const a = decimalOf(value);
  const b = decimalOf(step);
  const scale = Math.max(a.scale, b.scale);
  const scaledA = a.digits * 10n ** BigInt(scale - a.scale);
  const scaledB = b.digits * 10n ** BigInt(scale - b.scale);
  return scaledB === 0n || scaledA % scaledB === 0n;
}

const POWERS_OF_TEN = new Map<number, number>(
  Array.from({ length: 16 }, (_, places) => [Number(`1e-${places}`), places] as const),
);

/** `places` when `step` is exactly 10^-places (1, 0.1, 0.01, …), else undefined. */
function decimalPlacesOfPowerOfTen(step: number): number | undefined {
  return POWERS_OF_TEN.get(step);
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
