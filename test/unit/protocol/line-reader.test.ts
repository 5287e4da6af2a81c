import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readLines } from '../../../lib/protocol/line-reader.ts';

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect(source: AsyncIterable<Buffer>): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readLines(source)) lines.push(line.text);
  return lines;
}

/** Bytes the reader copies (Buffer.concat) and scans for newlines (indexOf), while it reads `bytes`. */
async function work(
  bytes: Buffer,
  size: number,
): Promise<{ copied: number; scanned: number; lines: number }> {
  let copied = 0;
  let scanned = 0;
  const concat = Buffer.concat;
  const indexOf = Buffer.prototype.indexOf;
  vi.spyOn(Buffer, 'concat').mockImplementation((list, total) => {
    const joined = concat(list, total);
    copied += joined.length;
    return joined;
  });
  vi.spyOn(Buffer.prototype, 'indexOf').mockImplementation(function (this: Buffer, value, from, encoding) {
    const found = indexOf.call(this, value, from as number, encoding as BufferEncoding);
    scanned += (found === -1 ? this.length : found + 1) - Number(from ?? 0);
    return found;
  });
  try {
    const lines = await collect(pieces(bytes, size));
    return { copied, scanned, lines: lines.length };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('readLines', () => {
  afterEach(() => vi.restoreAllMocks());

  it('gives the same lines however the input is cut into pieces', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: 'grapheme', maxLength: 40 }).map((text) => text.replaceAll('\n', ' ')),
          { maxLength: 20 },
        ),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 64 }),
        async (lines, crlf, bom, lastNewline, size) => {
          const text =
            lines.map((line) => line.replaceAll('\r', ' ')).join(crlf ? '\r\n' : '\n') +
            (lastNewline && lines.length > 0 ? '\n' : '');
          const bytes = Buffer.concat([
            bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0),
            Buffer.from(text),
          ]);
          const expected = lines.map((line) => line.replaceAll('\r', ' '));
          // An empty last line is no line, as in a file that ends with a newline.
          const wanted = lastNewline || expected.at(-1) !== '' ? expected : expected.slice(0, -1);
          expect(await collect(pieces(bytes, size))).toEqual(wanted);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is linear in the length of one line: an 8 MB record in 16 KiB pieces is copied and scanned about once', async () => {
    const figures = [];
    for (const megabytes of [1, 8]) {
      const line = Buffer.alloc(megabytes * 1024 * 1024, 'x');
      const bytes = Buffer.concat([line, Buffer.from('\n'), line, Buffer.from('\n')]);
      const counted = await work(bytes, 16 * 1024);
      expect(counted.lines).toBe(2);
      figures.push({ bytes: bytes.length, ...counted });
    }
    for (const { bytes, copied, scanned } of figures) {
      // Quadratic (joining the partial line to each new piece) would copy ~ bytes × pieces / 2.
      expect(copied).toBeLessThanOrEqual(1.1 * bytes);
      expect(scanned).toBeLessThanOrEqual(1.1 * bytes);
    }
    const [small, large] = figures as [(typeof figures)[0], (typeof figures)[0]];
    expect(large.copied / small.copied).toBeLessThan(8 * 1.1);
  });
});
