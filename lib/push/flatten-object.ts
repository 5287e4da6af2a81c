/**
 * `logObject`'s flattening, as ISStreamer's `log_object` does it: each element of an array becomes
 * `<prefix>_<index>`, each property of an object (a class instance too, by its own enumerable
 * properties) `<prefix>_<name>`, nested values recursively; the leaves are the events. Values that are
 * not events (functions, symbols, undefined) are skipped, as ISStreamer skips what it cannot log.
 */
import type { EventValue } from './event-rules.ts';

export interface FlatEvent {
  readonly key: string;
  readonly value: EventValue;
}

export function flattenObject(value: unknown, keyPrefix: string): FlatEvent[] {
  const events: FlatEvent[] = [];
  const seen = new Set<object>();
  const walk = (current: unknown, key: string): void => {
    if (typeof current === 'string' || typeof current === 'number' || typeof current === 'boolean') {
      events.push({ key, value: current });
      return;
    }
    if (current instanceof Date) {
      events.push({ key, value: current.toISOString() });
      return;
    }
    if (typeof current !== 'object' || current === null) return;
    if (seen.has(current)) return; // a cycle: each object is logged once
    seen.add(current);
    const join = (part: string | number) => (key === '' ? String(part) : `${key}_${part}`);
    if (Array.isArray(current)) for (const [index, element] of current.entries()) walk(element, join(index));
    else if (current instanceof Map) for (const [name, element] of current) walk(element, join(String(name)));
    else for (const [name, element] of Object.entries(current)) walk(element, join(name));
  };
  walk(value, keyPrefix);
  return events;
}
