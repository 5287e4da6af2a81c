import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatHeader, formatMessage, type MessageFormat } from '../../../lib/protocol/index.ts';
import { parseAll, plain } from '../../helpers/messages.ts';
import { fixturesDir } from '../../helpers/paths.ts';

describe('formatMessage', () => {
  for (const format of ['singer', 'stitch'] as MessageFormat[]) {
    it(`round-trips every message of the golden files through ${format}`, async () => {
      for (const name of ['singer-basic.jsonl', 'stitch-basic.stitch']) {
        const original = await parseAll(readFileSync(join(fixturesDir, 'protocol', name)));
        const text =
          formatHeader(format) + original.map(({ message }) => formatMessage(message, format)).join('');
        const reparsed = await parseAll(text);
        const normalise = (m: (typeof original)[number]['message']) =>
          m.type === 'SCHEMA' ? { ...m, schema: stripKeys(m.schema) } : plain(m);
        expect(reparsed.map((p) => normalise(p.message))).toEqual(original.map((p) => normalise(p.message)));
      }
    });
  }

  it('writes headerless Singer with snake_case fields and STATE', () => {
    const text = formatMessage({
      type: 'SCHEMA',
      stream: 's',
      schema: { type: 'object' },
      keyProperties: ['id'],
    });
    expect(JSON.parse(text)).toEqual({
      type: 'SCHEMA',
      stream: 's',
      schema: { type: 'object' },
      key_properties: ['id'],
    });
    expect(formatMessage({ type: 'STATE', value: { a: 1 } })).toBe('{"type":"STATE","value":{"a":1}}\n');
  });

  it('writes the Stitch framing with BOOKMARK and keys marked on the schema', () => {
    expect(formatHeader('stitch')).toBe('stitchstream/0.1\nContent-Type: jsonline\n--\n');
    expect(formatMessage({ type: 'STATE', value: 3 }, 'stitch')).toBe('{"type":"BOOKMARK","value":3}\n');
    const schema = JSON.parse(
      formatMessage(
        {
          type: 'SCHEMA',
          stream: 's',
          schema: { properties: { id: { type: 'integer' }, x: {} } },
          keyProperties: ['id'],
        },
        'stitch',
      ),
    );
    expect(schema.schema.properties).toEqual({ id: { type: 'integer', key: true }, x: {} });
  });
});

function stripKeys(schema: { readonly [k: string]: unknown }): unknown {
  return JSON.parse(
    JSON.stringify(schema, (key, value) => (key === 'key' && value === true ? undefined : value)),
  );
}
