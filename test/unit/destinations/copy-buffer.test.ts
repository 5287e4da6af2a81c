import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CopyBuffer } from '../../../lib/destinations/postgres/copy-buffer.ts';

describe('CopyBuffer', () => {
  it('hands over exactly the UTF-8 of what was appended, line positions in order, across growth and takes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 3 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 20 }),
        (lines, capacity, takeEvery) => {
          const buffer = new CopyBuffer(capacity);
          const taken: Buffer[] = [];
          const positions: number[] = [];
          lines.forEach((parts, index) => {
            buffer.append(index * 10, ...parts);
            if ((index + 1) % takeEvery === 0) {
              const piece = buffer.take();
              taken.push(Buffer.from(piece.data)); // a copy: the next take must not change it
              positions.push(...piece.positions);
              expect(buffer.bytes).toBe(0);
              expect(buffer.rows).toBe(0);
            }
          });
          const rest = buffer.take();
          taken.push(rest.data);
          positions.push(...rest.positions);
          expect(Buffer.concat(taken).toString('utf8')).toBe(lines.map((parts) => parts.join('')).join(''));
          expect(positions).toEqual(lines.map((_, index) => index * 10));
        },
      ),
      { numRuns: 300 },
    );
  });
});
