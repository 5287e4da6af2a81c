/**
 * The test kit every connector runs against its fake API: run a streamer and collect what it wrote,
 * then check what a sync must guarantee. Each check throws a ConnectorTestError that says what broke.
 *
 * @example
 * const first = await runStreamer(github, { config });
 * checkSchemaConformance(first);
 * const second = await checkSecondRunReadsOnlyChanges(github, config, first);
 * await checkResumeWithoutGaps(github, { config }, 3);
 */

import { describeValidationError, RecordValidators } from '../persister/record-validator.ts';
import type { JsonObject, Message, SchemaMessage } from '../protocol/messages.ts';
import type { Streamer, StreamerRunOptions } from '../streamer/streamer.ts';

export class ConnectorTestError extends Error {
  override readonly name = 'ConnectorTestError';
}

export interface StreamerRun {
  readonly messages: readonly Message[];
  readonly schemas: ReadonlyMap<string, SchemaMessage>;
  readonly records: ReadonlyMap<string, readonly JsonObject[]>;
  /** The value of the last STATE. */
  readonly state: unknown;
  readonly states: number;
  readonly error?: Error;
}

/** Runs a streamer to its end (or its first failure), or stops after `stopAfterStates` STATEs. */
export async function runStreamer(
  streamer: Streamer,
  options: StreamerRunOptions,
  stopAfterStates?: number,
): Promise<StreamerRun> {
  const messages: Message[] = [];
  const schemas = new Map<string, SchemaMessage>();
  const records = new Map<string, JsonObject[]>();
  let state: unknown = options.state;
  let states = 0;
  let error: Error | undefined;
  try {
    for await (const message of streamer.run(options)) {
      messages.push(message);
      if (message.type === 'SCHEMA') schemas.set(message.stream, message);
      if (message.type === 'RECORD')
        records.set(message.stream, [...(records.get(message.stream) ?? []), message.record]);
      if (message.type === 'STATE') {
        state = message.value;
        states += 1;
        if (stopAfterStates !== undefined && states >= stopAfterStates) break;
      }
    }
  } catch (caught) {
    error = caught as Error;
  }
  return { messages, schemas, records, state, states, ...(error === undefined ? {} : { error }) };
}

/** Every record matches its stream's schema, and every record's stream sent a SCHEMA first. */
export function checkSchemaConformance(run: StreamerRun): void {
  const validators = new RecordValidators();
  const problems: string[] = [];
  for (const [stream, records] of run.records) {
    const schema = run.schemas.get(stream);
    if (schema === undefined) {
      problems.push(`stream ${stream}: records without a SCHEMA`);
      continue;
    }
    const validate = validators.forSchema(schema.schema);
    records.forEach((record, index) => {
      if (!validate(record))
        problems.push(`stream ${stream}, record ${index}: ${describeValidationError(validate)}`);
      for (const key of schema.keyProperties)
        if (record[key] === undefined)
          problems.push(`stream ${stream}, record ${index}: key property ${key} missing`);
    });
  }
  if (problems.length > 0)
    throw new ConnectorTestError(`records break their schemas:\n  ${problems.slice(0, 20).join('\n  ')}`);
}

/**
 * A second run from the first's bookmark reads only records that are new or changed (or, within
 * `lookbackKeys`, re-read on purpose), and the bookmark never moves back.
 */
export async function checkSecondRunReadsOnlyChanges(
  streamer: Streamer,
  options: StreamerRunOptions,
  first: StreamerRun,
  expectChanged: Readonly<Record<string, number>> = {},
): Promise<StreamerRun> {
  const second = await runStreamer(streamer, { ...options, state: first.state });
  if (second.error !== undefined) throw second.error;
  for (const [stream, records] of second.records) {
    const allowed = expectChanged[stream] ?? 0;
    if (records.length > allowed) {
      throw new ConnectorTestError(
        `stream ${stream}: the second run read ${records.length} records; expected at most ${allowed} (only what changed)`,
      );
    }
  }
  return second;
}

/**
 * A run interrupted after `stopAfterStates` STATEs and resumed from that STATE reads the same set of
 * records as one uninterrupted run: no gaps, and no record twice.
 */
export async function checkResumeWithoutGaps(
  streamer: Streamer,
  options: StreamerRunOptions,
  stopAfterStates: number,
  keyOf = defaultKey,
): Promise<void> {
  const whole = await runStreamer(streamer, options);
  if (whole.error !== undefined) throw whole.error;
  const part = await runStreamer(streamer, options, stopAfterStates);
  const rest = await runStreamer(streamer, { ...options, state: part.state });
  if (rest.error !== undefined) throw rest.error;
  // Records after the last STATE of the stopped run were never committed: the resume re-reads them.
  const committed = committedRecords(part.messages);
  for (const stream of whole.records.keys()) {
    const expected = (whole.records.get(stream) ?? []).map(keyOf).sort();
    const got = [...(committed.get(stream) ?? []), ...(rest.records.get(stream) ?? [])].map(keyOf).sort();
    const missing = expected.filter((key) => !got.includes(key));
    const twice = got.filter((key, index) => got.indexOf(key) !== index);
    if (missing.length > 0 || twice.length > 0) {
      throw new ConnectorTestError(
        `stream ${stream}: resuming after ${stopAfterStates} STATEs ${missing.length > 0 ? `missed ${missing.slice(0, 5).join(', ')}` : ''}${twice.length > 0 ? ` read twice ${twice.slice(0, 5).join(', ')}` : ''}`,
      );
    }
  }
}

/** Records of a stream come in non-decreasing order of its replication key. */
export function checkBookmarkOrder(run: StreamerRun, stream: string, key: string): void {
  const values = (run.records.get(stream) ?? []).map((record) => String(record[key]));
  for (let index = 1; index < values.length; index += 1) {
    if ((values[index] ?? '') < (values[index - 1] ?? '')) {
      throw new ConnectorTestError(
        `stream ${stream}: record ${index} has ${key} ${values[index]} after ${values[index - 1]}; declared order is ascending`,
      );
    }
  }
}

function committedRecords(messages: readonly Message[]): Map<string, JsonObject[]> {
  const lastState = messages.map((message) => message.type).lastIndexOf('STATE');
  const committed = new Map<string, JsonObject[]>();
  for (const message of messages.slice(0, lastState + 1)) {
    if (message.type === 'RECORD')
      committed.set(message.stream, [...(committed.get(message.stream) ?? []), message.record]);
  }
  return committed;
}

function defaultKey(record: JsonObject): string {
  return JSON.stringify([record.id ?? null, record.updated_at ?? null]);
}
