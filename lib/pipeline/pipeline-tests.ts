/**
 * `trib test`: unit tests for a pipeline's steps, declared in YAML next to it (in the spirit of
 * Benthos' config tests and `vector test`). Each test feeds records to a tap's steps and compares
 * what comes out, and the quarantine and flag counts, with what it expects.
 *
 *   tests:
 *     - name: refunds are dropped
 *       tap: shop
 *       stream: orders
 *       input: [{ id: 1, status: paid }, { id: 2, status: refunded }]
 *       expect:
 *         records: [{ id: 1, status: paid }]
 *         quarantined: 0
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { canonicalJson } from '../protocol/exact-json.ts';
import type { JsonObject, JsonSchema, Message } from '../protocol/messages.ts';
import { isObject } from '../protocol/parser.ts';
import { prepareSteps, QUARANTINE_SUFFIX, type StepReport } from '../steps/run-steps.ts';
import type { PipelineConfig } from './pipeline-config.ts';

export class PipelineTestFileError extends Error {
  override readonly name = 'PipelineTestFileError';
}

interface PipelineTest {
  readonly name: string;
  readonly tap: string;
  readonly stream: string;
  /** 1-based positions of the tap's steps to run; all of them when absent. */
  readonly steps?: readonly number[];
  readonly schema?: JsonSchema;
  readonly keyProperties: readonly string[];
  readonly input: readonly JsonObject[];
  readonly expect: {
    readonly records?: readonly JsonObject[];
    readonly stream?: string;
    readonly quarantined?: number;
    readonly flagged?: number;
    readonly error?: string;
  };
}

export interface TestOutcome {
  readonly name: string;
  readonly passed: boolean;
  /** What differed, for people: `- expected` and `+ actual` lines. */
  readonly diff: readonly string[];
}

export async function readPipelineTests(file: string): Promise<PipelineTest[]> {
  let document: unknown;
  try {
    document = parseYaml(await readFile(file, 'utf8'));
  } catch (error) {
    throw new PipelineTestFileError(`${file}: ${(error as Error).message}`, { cause: error });
  }
  const tests = isObject(document) ? document.tests : undefined;
  if (!Array.isArray(tests) || tests.length === 0)
    throw new PipelineTestFileError(`${file}: expected tests: [ { name, tap, stream, input, expect }, … ]`);
  return tests.map((test, index) => {
    const where = `${file}: tests[${index}]`;
    if (!isObject(test)) throw new PipelineTestFileError(`${where}: expected a map`);
    for (const key of ['name', 'tap', 'stream'])
      if (typeof test[key] !== 'string')
        throw new PipelineTestFileError(`${where}.${key}: expected a string`);
    if (!Array.isArray(test.input) || !test.input.every(isObject))
      throw new PipelineTestFileError(`${where}.input: expected a list of records`);
    if (!isObject(test.expect))
      throw new PipelineTestFileError(`${where}.expect: expected { records, quarantined, flagged, error }`);
    return {
      name: String(test.name),
      tap: String(test.tap),
      stream: String(test.stream),
      ...(Array.isArray(test.steps) ? { steps: test.steps.map(Number) } : {}),
      ...(isObject(test.schema) ? { schema: test.schema } : {}),
      keyProperties: Array.isArray(test.key_properties) ? test.key_properties.map(String) : [],
      input: test.input as JsonObject[],
      expect: test.expect as PipelineTest['expect'],
    };
  });
}

export async function runPipelineTest(pipeline: PipelineConfig, test: PipelineTest): Promise<TestOutcome> {
  const tap = pipeline.taps.get(test.tap);
  if (tap === undefined)
    return {
      name: test.name,
      passed: false,
      diff: [`no tap ${test.tap} in ${pipeline.file}; taps: ${[...pipeline.taps.keys()].join(', ')}`],
    };
  const steps =
    test.steps === undefined
      ? tap.steps
      : test.steps.map((position) => tap.steps[position - 1]).filter((step) => step !== undefined);
  // Without a schema, every property the input has is declared untyped, so only the steps decide.
  const properties = Object.fromEntries(
    [...new Set(test.input.flatMap((record) => Object.keys(record)))].map((name) => [name, {}]),
  );
  const schema = test.schema ?? { type: 'object', properties };
  async function* source(): AsyncGenerator<Message> {
    yield { type: 'SCHEMA', stream: test.stream, schema, keyProperties: test.keyProperties };
    for (const record of test.input) yield { type: 'RECORD', stream: test.stream, record };
    yield { type: 'STATE', value: { test: test.name } };
  }
  const output: JsonObject[] = [];
  let error: string | undefined;
  let reports: StepReport[] = [];
  try {
    const prepared = await prepareSteps(steps, { tap: tap.name, run: () => 'test', log: () => {} });
    reports = prepared.reports();
    const stream = test.expect.stream;
    for await (const message of prepared.apply(source()))
      if (
        message.type === 'RECORD' &&
        !message.stream.endsWith(QUARANTINE_SUFFIX) &&
        (stream === undefined || message.stream === stream)
      )
        output.push(message.record);
  } catch (caught) {
    error = (caught as Error).message;
  }
  const diff: string[] = [];
  if (test.expect.error !== undefined) {
    if (error === undefined || !error.includes(test.expect.error))
      diff.push(
        `- an error containing ${JSON.stringify(test.expect.error)}`,
        `+ ${error === undefined ? 'no error' : error}`,
      );
  } else if (error !== undefined) diff.push('- no error', `+ ${error}`);
  if (test.expect.records !== undefined && error === undefined) {
    const expected = test.expect.records.map(canonicalJson);
    const actual = output.map(canonicalJson);
    if (expected.join('\n') !== actual.join('\n')) {
      // Each record counted, so one expected once and produced twice shows as an extra `+` line.
      const missing = withoutEach(expected, actual);
      const extra = withoutEach(actual, expected);
      diff.push(...missing.map((line) => `- ${line}`), ...extra.map((line) => `+ ${line}`));
      if (missing.length === 0 && extra.length === 0) diff.push('  (the same records, in another order)');
    }
  }
  const sum = (field: 'quarantined' | 'flagged') => reports.reduce((total, step) => total + step[field], 0);
  for (const field of ['quarantined', 'flagged'] as const) {
    const wanted = test.expect[field];
    if (wanted !== undefined && sum(field) !== wanted)
      diff.push(`- ${field}: ${wanted}`, `+ ${field}: ${sum(field)}`);
  }
  return { name: test.name, passed: diff.length === 0, diff };
}

/** `lines` less one occurrence of each line of `others`. */
function withoutEach(lines: readonly string[], others: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const line of others) left.set(line, (left.get(line) ?? 0) + 1);
  return lines.filter((line) => {
    const count = left.get(line) ?? 0;
    if (count === 0) return true;
    left.set(line, count - 1);
    return false;
  });
}
