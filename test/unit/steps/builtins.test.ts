/** Each built-in step: what it does to records, and to the schema the destination will see. */
import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonSchema, Message } from '../../../lib/protocol/messages.ts';
import { prepareSteps } from '../../../lib/steps/run-steps.ts';
import { readStepConfigs, StepLoadError } from '../../../lib/steps/step-config.ts';

const schema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    email: { type: ['null', 'string'] },
    card: { type: ['null', 'string'] },
    address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'string' } } },
    status: { type: 'string' },
  },
};
const input = (records: JsonObject[]): Message[] => [
  { type: 'SCHEMA', stream: 'customers', schema, keyProperties: ['id'] },
  ...records.map((record): Message => ({ type: 'RECORD', stream: 'customers', record })),
  { type: 'STATE', value: { done: true } },
];
const people: JsonObject[] = [
  {
    id: 1,
    email: 'ada@example.com',
    card: '4242424242424242',
    address: { city: 'Leeds', zip: 'LS1' },
    status: 'paid',
  },
  { id: 2, email: null, card: null, address: { city: 'Osaka', zip: '530' }, status: 'refunded' },
];

async function run(steps: unknown[], records = people, components: Record<string, unknown> = {}) {
  const configs = readStepConfigs('/p/pipeline.yaml', 'crm', steps, components);
  const logs: string[] = [];
  const prepared = await prepareSteps(configs, {
    tap: 'crm',
    run: () => 'r0000000001-x',
    log: (line) => logs.push(line),
  });
  const out: Message[] = [];
  async function* source() {
    yield* input(records);
  }
  for await (const message of prepared.apply(source())) out.push(message);
  const schemas = out.flatMap((message) => (message.type === 'SCHEMA' ? [message] : []));
  const rows: JsonObject[] = out.flatMap((message) =>
    message.type === 'RECORD' ? [{ ...message.record, _stream: message.stream }] : [],
  );
  return { out, schemas, rows, reports: prepared.reports(), logs };
}

/** A schema's properties, for looking into in tests. */
// biome-ignore lint/suspicious/noExplicitAny: tests look into nested schemas freely
const propertiesOf = (message: { schema: JsonSchema } | undefined): Record<string, any> =>
  (message?.schema.properties ?? {}) as Record<string, unknown>;

describe('built-in steps', () => {
  it('rename: properties (keys too) and streams, in records, schema and ACTIVATE_VERSION', async () => {
    const { schemas, rows } = await run([
      { use: 'rename', fields: { id: 'customer_id', email: 'mail' }, streams: { customers: 'clients' } },
    ]);
    expect(schemas[0]).toMatchObject({ stream: 'clients', keyProperties: ['customer_id'] });
    expect(Object.keys(propertiesOf(schemas[0]))).toContain('mail');
    expect(rows[0]).toMatchObject({ _stream: 'clients', customer_id: 1, mail: 'ada@example.com' });
  });

  it('drop with dotted paths; select keeps the listed fields and the keys', async () => {
    const dropped = await run([{ use: 'drop', fields: ['card', 'address.zip'] }]);
    expect(dropped.rows[0]).toEqual({
      _stream: 'customers',
      id: 1,
      email: 'ada@example.com',
      address: { city: 'Leeds' },
      status: 'paid',
    });
    const properties = propertiesOf(dropped.schemas[0]);
    expect(Object.keys(properties)).not.toContain('card');
    expect(Object.keys(properties.address.properties)).toEqual(['city']);
    const selected = await run([{ use: 'select', fields: ['status'] }]);
    expect(selected.rows[1]).toEqual({ _stream: 'customers', id: 2, status: 'refunded' });
    await expect(run([{ use: 'drop', fields: ['id'] }])).rejects.toThrow(
      /id is a key of stream customers; a key cannot be dropped/,
    );
  });

  it('hash: keyed HMAC-SHA-256 in hex, the same value alike in every record, nulls kept; an unkeyed hash only when asked', async () => {
    const key = 'a-key-of-sixteen-chars';
    const { rows, schemas } = await run([{ use: 'hash', fields: ['email'], key }]);
    const { createHmac } = await import('node:crypto');
    expect(rows[0]?.email).toBe(createHmac('sha256', key).update('ada@example.com').digest('hex'));
    expect(rows[1]?.email).toBeNull();
    expect(propertiesOf(schemas[0]).email).toEqual({
      type: ['null', 'string'],
    });
    await expect(run([{ use: 'hash', fields: ['email'] }])).rejects.toThrow(
      /\(hash\): give key .* or algorithm: sha256/,
    );
    const unkeyed = await run([{ use: 'hash', fields: ['email'], algorithm: 'sha256' }]);
    expect(unkeyed.rows[0]?.email).toMatch(/^[0-9a-f]{64}$/);
  });

  it('mask keeps the last characters; filter keeps what matches; flatten; cast; add_fields', async () => {
    expect((await run([{ use: 'mask', fields: ['card'], keep_last: 4 }])).rows[0]?.card).toBe(
      '************4242',
    );
    const filtered = await run([{ use: 'filter', where: "status != 'refunded'" }]);
    expect(filtered.rows.map((row) => row.id)).toEqual([1]);
    expect(filtered.reports[0]).toMatchObject({ in: 2, out: 1, dropped: 1 });
    const flat = await run([{ use: 'flatten' }]);
    expect(flat.rows[0]).toMatchObject({ address__city: 'Leeds', address__zip: 'LS1' });
    expect(Object.keys(propertiesOf(flat.schemas[0]))).toContain('address__city');
    const cast = await run([{ use: 'cast', fields: { id: 'string' } }]);
    expect(cast.rows[0]?.id).toBe('1');
    const added = await run([
      { use: 'add_fields', fields: { source: '$tap', run_id: '$run', region: 'eu' } },
    ]);
    expect(added.rows[0]).toMatchObject({ source: 'crm', run_id: 'r0000000001-x', region: 'eu' });
  });

  it('validate: quarantines a bad record in <stream>__quarantine, with the reason and the run, and the rest go on', async () => {
    const bad = { ...people[0], id: 3, status: 42 } as JsonObject;
    const { out, rows, reports } = await run(
      [{ use: 'validate', on_invalid: 'quarantine' }],
      [...people, bad],
    );
    expect(rows.filter((row) => row._stream === 'customers').map((row) => row.id)).toEqual([1, 2]);
    const quarantined = rows.filter((row) => row._stream === 'customers__quarantine');
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]).toMatchObject({ record: { id: 3, status: 42 }, run: 'r0000000001-x' });
    expect(String(quarantined[0]?.reason)).toMatch(/status/);
    expect(reports[0]).toMatchObject({ in: 3, out: 2, flagged: 1, quarantined: 1 });
    expect(out.at(-1)).toEqual({ type: 'STATE', value: { done: true } }); // the bookmark after everything
    const ruled = await run([{ use: 'validate', on_invalid: 'drop', rules: ["status != 'refunded'"] }]);
    expect(ruled.rows.map((row) => row.id)).toEqual([1]);
    expect(ruled.reports[0]).toMatchObject({ flagged: 1, dropped: 1, quarantined: 0 });
    expect(() =>
      readStepConfigs('/p/pipeline.yaml', 'crm', [{ use: 'validate', rules: ['a >'] }], {}),
    ).toThrow(/\(validate\): rules: "a >": expected a field or a value/);
    await expect(run([{ use: 'validate', on_invalid: 'fail' }], [bad])).rejects.toThrow(
      /validate: record 1 of stream customers: .*status/,
    );
  });

  it('streams: globs choose the streams a step applies to; components are declared once and named', async () => {
    const skipped = await run([{ use: 'drop', fields: ['card'], streams: ['orders*'] }]);
    expect(skipped.rows[0]).toHaveProperty('card');
    const named = await run(['pii'], people, { pii: { use: 'mask', fields: ['card'], keep_last: 2 } });
    expect(named.rows[0]?.card).toBe('**************42');
  });

  it('options are checked when the pipeline loads, naming the file, tap, step and field', () => {
    const load = (steps: unknown[]) => () => readStepConfigs('/p/pipeline.yaml', 'crm', steps, {});
    expect(load([{ use: 'mask', field: ['card'] }])).toThrow(StepLoadError);
    expect(load([{ use: 'mask', field: ['card'] }])).toThrow(
      '/p/pipeline.yaml: taps.crm.transforms[0] (mask): unknown option field; mask takes fields, keep_last.',
    );
    expect(load([{ use: 'filter', where: 'a >' }])).toThrow(
      /transforms\[0\] \(filter\): where: "a >": expected a field or a value at character 4, found the end/,
    );
    expect(load([{ use: 'nope' }])).toThrow(
      /transforms\[0\]\.use: received "nope", which is neither a built-in step nor an installed package/,
    );
    expect(load([{ use: './steps/missing.ts' }])).toThrow(
      /no such file \(looked for \/p\/steps\/missing\.ts\)/,
    );
    expect(load(['pii'])).toThrow(/received "pii", which is not in components:/);
  });
});

describe('built-in inspectors over a run', () => {
  it('summarize notes per field values, nulls, min and max; expect fails the run or warns, naming what was not met', async () => {
    const summary = await run([{ use: 'summarize', fields: ['id', 'email'] }]);
    expect(summary.reports[0]?.notes).toEqual([
      'customers: 2 records; id 2/2 1…2; email 1/2 (1 null) "ada@example.com"…"ada@example.com"',
    ]);
    expect(summary.rows).toHaveLength(2); // an inspector changes nothing
    const met = await run([
      { use: 'expect', rows: { min: 1, max: 5 }, unique: ['id'], not_null: { status: 1 } },
    ]);
    expect(met.reports[0]?.notes).toEqual([]);
    await expect(
      run([{ use: 'expect', not_null: ['email'], unique: ['status'], rows: { min: 3 } }]),
    ).rejects.toThrow(
      /expect: customers: 2 rows, expected at least 3; customers: email is set in 50\.0% of rows, expected at least 100\.0%\. The records are loaded/,
    );
    const warned = await run([{ use: 'expect', rows: { max: 1 }, on_fail: 'warn' }]);
    expect(warned.reports[0]?.notes).toEqual(['expectation not met: customers: 2 rows, expected at most 1']);
  });
});
