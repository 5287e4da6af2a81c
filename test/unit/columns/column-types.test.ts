import { describe, expect, it } from 'vitest';
import { planColumns, SchemaPlanError } from '../../../lib/columns/column-plan.ts';
import { logicalTypeOf, typeTag } from '../../../lib/columns/column-types.ts';
import { sanitizeIdentifier } from '../../../lib/columns/identifiers.ts';
import { NO_RECORDED_NAMES, recordedNamesOf, streamNamesFor } from '../../../lib/columns/warehouse-names.ts';

describe('logicalTypeOf', () => {
  it.each([
    [{ type: 'string' }, 'string'],
    [{ type: ['null', 'string'], format: 'date-time' }, 'timestamp'],
    [{ type: 'string', format: 'date' }, 'date'],
    [{ type: 'integer' }, 'integer'],
    [{ type: 'integer', maximum: 1e20 }, 'decimal_0'],
    // bigint as PostgreSQL taps declare it: the bound reads as 2^63, still the int64 range (#14.4)
    [
      JSON.parse('{"type":"integer","minimum":-9223372036854775808,"maximum":9223372036854775807}'),
      'integer',
    ],
    [JSON.parse('{"type":"integer","maximum":18446744073709551615}'), 'decimal_0'],
    [{ type: 'number' }, 'number'],
    [{ type: 'number', multipleOf: 0.01 }, 'decimal_2'],
    [{ type: 'number', multipleOf: 1e-10 }, 'decimal_10'],
    [{ type: ['integer', 'number'] }, 'number'],
    [{ type: 'boolean' }, 'boolean'],
    [{ type: 'object' }, 'json'],
    [{ type: 'array' }, 'json'],
    [{}, 'json'],
    [{ type: ['string', 'integer'] }, 'json'],
    [{ anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] }, 'timestamp'],
    [{ anyOf: [{ type: 'string' }, { type: 'object' }] }, 'json'],
  ])('%j is %s', (schema, tag) => {
    expect(typeTag(logicalTypeOf(schema))).toBe(tag);
  });
});

describe('identifiers', () => {
  it('lower-cases, replaces other characters, prefixes a leading digit, and shortens long names with a hash', () => {
    expect(sanitizeIdentifier('github-acme')).toBe('github_acme');
    expect(sanitizeIdentifier('Created At')).toBe('created_at');
    expect(sanitizeIdentifier('2fa')).toBe('_2fa');
    const long = sanitizeIdentifier('x'.repeat(80));
    expect(long).toHaveLength(63);
    expect(long).not.toBe(sanitizeIdentifier(`${'x'.repeat(79)}y`));
  });

  it('keeps properties that collide apart, the exact name keeping its own', () => {
    const names = streamNamesFor('s', ['id', 'Id', 'user-name'], NO_RECORDED_NAMES).columns;
    expect(names.get('id')).toBe('id');
    expect(names.get('Id')).toMatch(/^id_[0-9a-f]{8}$/);
    expect(names.get('user-name')).toBe('user_name');
  });

  it('keeps a name once given: a property that arrives later and collides gets the suffix, never the first', () => {
    const first = streamNamesFor('s', ['Id'], NO_RECORDED_NAMES);
    expect(first.columns.get('Id')).toBe('id');
    const recorded = recordedNamesOf(first.added);
    const later = streamNamesFor('s', ['Id', 'id'], recorded);
    expect(later.columns.get('Id')).toBe('id');
    expect(later.columns.get('id')).toMatch(/^id_[0-9a-f]{8}$/);
    expect(later.added.map((name) => name.property)).toEqual(['id']);
  });

  it('gives two streams that sanitize alike two tables, the first keeping the plain name', () => {
    const orders = streamNamesFor('Orders', ['a'], NO_RECORDED_NAMES);
    expect(orders.table).toBe('orders');
    const lower = streamNamesFor('orders', ['b'], recordedNamesOf(orders.added));
    expect(lower.table).toMatch(/^orders_[0-9a-f]{8}$/);
    expect(streamNamesFor('Orders', ['a'], recordedNamesOf([...orders.added, ...lower.added])).table).toBe(
      'orders',
    );
  });
});

describe('planColumns', () => {
  const sqlType = (type: Parameters<typeof typeTag>[0]) => typeTag(type).toUpperCase();
  const definition = (properties: Record<string, unknown>, keys: string[] = []) => ({
    stream: 'My Stream',
    schema: { properties },
    keyProperties: keys,
  });

  it('creates every column for a new table, with key columns', () => {
    const plan = planColumns(
      definition({ id: { type: 'integer' }, Name: { type: 'string' } }, ['id']),
      undefined,
      sqlType,
    );
    expect(plan.table).toBe('my_stream');
    expect(plan.additions.map((c) => [c.column, sqlType(c.type)])).toEqual([
      ['id', 'INTEGER'],
      ['name', 'STRING'],
      ['_tributary_extra', 'JSON'], // undeclared properties
    ]);
    expect(plan.keyColumns).toEqual(['id']);
  });

  it('adds only new columns, and a typed column for a changed type', () => {
    const existing = new Map([
      ['id', 'INTEGER'],
      ['code', 'INTEGER'],
    ]);
    const plan = planColumns(
      definition({ id: { type: 'integer' }, code: { type: 'string' }, extra: { type: 'boolean' } }),
      existing,
      sqlType,
    );
    expect(plan.columns.map((c) => c.column)).toEqual(['id', 'code__string', 'extra', '_tributary_extra']);
    expect(plan.additions.map((c) => c.column)).toEqual(['code__string', 'extra', '_tributary_extra']);
    // changing back reuses the original column
    const back = planColumns(
      definition({ code: { type: 'integer' } }),
      new Map([...existing, ['code__string', 'STRING'], ['_tributary_extra', 'JSON']]),
      sqlType,
    );
    expect(back.columns.map((c) => c.column)).toEqual(['code', '_tributary_extra']);
    expect(back.additions).toEqual([]);
  });

  it('refuses a key that is not a property, saying which', () => {
    expect(() => planColumns(definition({ id: { type: 'integer' } }, ['uuid']), undefined, sqlType)).toThrow(
      SchemaPlanError,
    );
    expect(() => planColumns(definition({ id: { type: 'integer' } }, ['uuid']), undefined, sqlType)).toThrow(
      /key property "uuid" is not in the schema's properties \(id\)/,
    );
  });
});
