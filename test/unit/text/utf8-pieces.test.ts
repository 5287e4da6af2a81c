import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Utf8Pieces } from '../../../lib/text/utf8-pieces.ts';

describe('Utf8Pieces', () => {
  it('hands on exactly the UTF-8 of what was added, in order, in pieces no larger than asked but for a larger part', () => {
    const part = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 12 }).map((text) => Buffer.from(text)),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (parts, size) => {
        const pieces: Buffer[] = [];
        // Kept as handed on, not copied: a piece is never written to again.
        const gathered = new Utf8Pieces(size, (piece) => pieces.push(piece));
        for (const item of parts) gathered.add(item);
        gathered.flush();
        const expected = Buffer.concat(
          parts.map((item) => (typeof item === 'string' ? Buffer.from(item) : item)),
        );
        expect(Buffer.concat(pieces).equals(expected)).toBe(true);
        for (const piece of pieces) {
          expect(piece.length).toBeGreaterThan(0);
          if (piece.length > size)
            expect(parts.some((item) => Buffer.byteLength(item) === piece.length)).toBe(true);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('forgets what the piece being filled holds on clear', () => {
    const pieces: Buffer[] = [];
    const gathered = new Utf8Pieces(64, (piece) => pieces.push(piece));
    gathered.add('dropped');
    gathered.clear();
    gathered.add('kept');
    gathered.flush();
    expect(Buffer.concat(pieces).toString()).toBe('kept');
  });
});
