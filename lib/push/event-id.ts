/**
 * UUID v7 (RFC 9562): 48 bits of Unix milliseconds, version 7, then 74 random bits, so ids sort by
 * time. Written here rather than taken from the `uuid` package because `log()` makes one per event and
 * that package's v7 costs ~2.9 µs (a fresh getRandomValues per id). Node's randomUUID draws from a
 * pooled random buffer: its v4 string already holds the 74 random bits and the variant where v7 wants
 * them, so only the time and the version digit are written over.
 */
import { randomUUID } from 'node:crypto';

let lastMs = -1;
let timePrefix = '';

export function uuidv7(now = Date.now()): string {
  if (now !== lastMs) {
    // 12 hex digits of milliseconds (a double holds 48 bits exactly; bit shifts would cut to 32).
    const hex = now.toString(16).padStart(12, '0');
    timePrefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7`;
    lastMs = now;
  }
  // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx: from index 15 on, 12 random bits, the variant, 62 more.
  return timePrefix + randomUUID().slice(15);
}
