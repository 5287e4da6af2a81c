/**
 * The Stitch Streams `Content-Type: transit` variant: each message line is transit+json
 * (`["^ ","type","RECORD",...]`, cache codes like `^0`, `~m` millisecond times, `~i` integers that
 * may exceed 2^53, `~f` decimals, `~:` keywords, `~#set` and `~#list`). transit-js reads the line;
 * this turns its values into the plain JSON a message has: maps into objects, times into ISO
 * date-times, big integers and decimals into exact numbers, keywords and symbols into their names.
 */
import { LosslessNumber } from 'lossless-json';
import transit from 'transit-js';

const reader = transit.reader('json', {
  mapBuilder: {
    init: () => ({}),
    add: (map, key, value) => {
      map[keyText(key)] = value;
      return map;
    },
    finalize: (map) => map,
  },
});

/** One transit+json line as JSON text (exact numbers written as their digits). */
export function transitToJsonValue(text: string): unknown {
  return plain(reader.read(text));
}

function keyText(key: unknown): string {
  const value = plain(key);
  return typeof value === 'string' ? value : String(value);
}

function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (transit.isKeyword(value) || transit.isSymbol(value)) return String((value as { _name: string })._name);
  if (transit.isInteger(value)) {
    const digits = String(value);
    return Number.isSafeInteger(Number(digits)) ? Number(digits) : new LosslessNumber(digits);
  }
  if (transit.isBigDec(value)) return new LosslessNumber(String((value as { rep: string }).rep));
  if (transit.isUUID(value) || transit.isURI(value)) return String(value);
  if (transit.isSet(value) || transit.isList(value)) return [...(value as Iterable<unknown>)].map(plain);
  if (Array.isArray(value)) return value.map(plain);
  if (transit.isTaggedValue(value)) {
    const tagged = value as { tag: string; rep: unknown };
    throw new Error(
      `a transit value tagged "${tagged.tag}" has no JSON form (${JSON.stringify(tagged.rep)})`,
    );
  }
  const object: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) object[key] = plain(item);
  return object;
}
