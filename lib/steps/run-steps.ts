/**
 * Runs a tap's steps on its streamer's messages, between the streamer and the chunk writer: SCHEMA
 * messages take each transformer's shape (renamed streams and properties, new types), RECORDs go
 * through every step in order, STATE passes untouched and in place, so bookmarks and exactly-once
 * loading are what they are without steps. Counts and time per step make the run report.
 */

import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { canonicalJson, isExactNumber } from '../protocol/exact-json.ts';
import type { JsonObject, Message, RecordMessage } from '../protocol/messages.ts';
import {
  type StepContext,
  type StepDefinition,
  StepError,
  type StepInstance,
  type StreamShape,
} from './step.ts';
import { checkOptions, type StepConfig, StepLoadError } from './step-config.ts';

/** A record a step set aside: its stream at that step, and the step's 1-based position. */
interface QuarantinedRecord {
  readonly stream: string;
  readonly record: JsonObject;
  readonly reason: string;
  readonly step: number;
  /** The stream as the streamer named it (before any rename), for a replay to start from. */
  source?: string;
}

export const QUARANTINE_SUFFIX = '__quarantine';

export function quarantineTableOf(stream: string): string {
  return `${stream}${QUARANTINE_SUFFIX}`;
}

/** The quarantine table's shape: one row a record set aside, keyed, so a replay marks it replayed. */
export function quarantineSchemaMessage(table: string): Message {
  return {
    type: 'SCHEMA',
    stream: table,
    schema: {
      type: 'object',
      properties: {
        quarantine_id: { type: 'string' },
        stream: { type: 'string' },
        source_stream: { type: 'string' },
        step: { type: 'integer' },
        record: { type: 'object' },
        reason: { type: 'string' },
        run: { type: 'string' },
        quarantined_at: { type: 'string', format: 'date-time' },
        replayed_at: { type: ['null', 'string'], format: 'date-time' },
      },
    },
    keyProperties: ['quarantine_id'],
  };
}

export interface StepReport {
  readonly label: string;
  readonly kind: 'inspector' | 'transformer';
  in: number;
  out: number;
  changed: number;
  dropped: number;
  flagged: number;
  quarantined: number;
  ms: number;
  /** Lines the step wrote for the report (summaries, expectations). */
  readonly notes: string[];
}

interface PreparedStep {
  readonly config: StepConfig;
  readonly kind: 'inspector' | 'transformer';
  readonly instance: StepInstance;
  readonly report: StepReport;
  /** Stream names this step renamed (its input name → its output name). */
  readonly renamed: Map<string, string>;
}

export interface StepRunContext {
  readonly tap: string;
  readonly run: () => string;
  readonly log: (line: string) => void;
  /**
   * Sees what each step produced (`trib run --dry-run`): a stream's shape after step `index`, and each
   * record it let through. Index -1 is the streamer's own output.
   */
  readonly watch?: (
    index: number,
    label: string,
    output: { stream: string; shape?: StreamShape; record?: JsonObject },
  ) => void;
}

const FLAGS_LOGGED = 5;

/** Loads (modules are imported now), checks and makes each step for one run. */
export async function prepareSteps(
  configs: readonly StepConfig[],
  context: StepRunContext,
): Promise<PreparedRun> {
  const quarantined: QuarantinedRecord[] = [];
  const prepared: PreparedStep[] = [];
  for (const [index, config] of configs.entries()) {
    const definition = 'builtin' in config.source ? config.source.builtin : await importStep(config);
    const report: StepReport = {
      label: config.label,
      kind: definition.kind,
      in: 0,
      out: 0,
      changed: 0,
      dropped: 0,
      flagged: 0,
      quarantined: 0,
      ms: 0,
      notes: [],
    };
    const stepContext: StepContext = {
      tap: context.tap,
      run: context.run,
      log: context.log,
      flag: (stream, reason) => {
        report.flagged += 1;
        if (report.flagged <= FLAGS_LOGGED) context.log(`${config.label}: ${stream}: ${reason}`);
      },
      quarantine: (stream, record, reason) => {
        report.quarantined += 1;
        quarantined.push({ stream, record, reason, step: index + 1 });
      },
      note: (line) => {
        report.notes.push(line);
        context.log(`${config.label}: ${line}`);
      },
    };
    let instance: StepInstance;
    try {
      instance = await definition.create(config.options, stepContext);
    } catch (error) {
      throw new StepLoadError(`tap ${context.tap}: ${config.label}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (typeof instance?.record !== 'function')
      throw new StepLoadError(
        `tap ${context.tap}: ${config.label}: the step has no record(stream, record) function`,
      );
    prepared.push({ config, kind: definition.kind, instance, report, renamed: new Map() });
  }
  return new PreparedRun(prepared, quarantined, context);
}

/** A module's default export: a step definition (`defineStep`), or a bare factory (a transformer). */
export async function importStep(config: StepConfig): Promise<StepDefinition> {
  const path = 'module' in config.source ? config.source.module : '';
  let loaded: { default?: unknown };
  try {
    loaded = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    throw new StepLoadError(`${config.where}: cannot load ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const exported = loaded.default;
  if (typeof exported === 'function')
    return {
      name: config.use,
      kind: 'transformer',
      description: '',
      options: {},
      create: exported as StepDefinition['create'],
    };
  if (
    typeof exported === 'object' &&
    exported !== null &&
    typeof (exported as StepDefinition).create === 'function'
  ) {
    const definition = exported as StepDefinition;
    checkOptions(definition, config.options, config.where);
    return definition;
  }
  throw new StepLoadError(
    `${config.where}: ${path} must export default a factory (options, context) => ({ record(stream, record) { … } }), or defineStep({ … }); its default export is ${typeof exported}`,
  );
}

export class PreparedRun {
  private readonly finalNames = new Map<string, string>();
  private readonly quarantineSchemas = new Set<string>();

  constructor(
    private readonly steps: readonly PreparedStep[],
    private readonly quarantined: QuarantinedRecord[],
    private readonly context: StepRunContext,
  ) {}

  reports(): StepReport[] {
    return this.steps.map((step) => step.report);
  }

  /**
   * `recordsFrom`: the 0-based step RECORDs start at (a quarantine replay starts at the step that set
   * them aside); SCHEMAs always pass every step, so each later step sees the shape it expects.
   */
  async *apply(
    messages: AsyncIterable<Message>,
    options: { readonly recordsFrom?: number } = {},
  ): AsyncGenerator<Message> {
    const recordsFrom = options.recordsFrom ?? 0;
    for await (const message of messages) {
      switch (message.type) {
        case 'SCHEMA': {
          let shape: StreamShape = {
            stream: message.stream,
            schema: message.schema,
            keyProperties: message.keyProperties,
          };
          this.context.watch?.(-1, 'streamer', { stream: shape.stream, shape });
          for (const [index, step] of this.steps.entries()) {
            if (step.config.applies(shape.stream) && step.instance.schema !== undefined) {
              const before = shape;
              const result = await this.timed(step, () => step.instance.schema?.(before) as StreamShape);
              if (step.kind === 'transformer') {
                if (result.stream !== shape.stream) step.renamed.set(shape.stream, result.stream);
                shape = result;
              }
            }
            this.context.watch?.(index, step.config.label, { stream: shape.stream, shape });
          }
          this.finalNames.set(message.stream, shape.stream);
          yield {
            type: 'SCHEMA',
            stream: shape.stream,
            schema: shape.schema,
            keyProperties: shape.keyProperties,
            ...(message.bookmarkProperties === undefined
              ? {}
              : { bookmarkProperties: message.bookmarkProperties }),
          };
          break;
        }
        case 'RECORD':
          yield* this.record(message, recordsFrom);
          yield* this.flushQuarantine();
          break;
        case 'ACTIVATE_VERSION':
          yield { ...message, stream: this.finalNames.get(message.stream) ?? message.stream };
          break;
        case 'STATE':
          yield message;
          break;
      }
    }
    for (const step of this.steps)
      if (step.instance.finish !== undefined) await this.timed(step, () => step.instance.finish?.());
  }

  private async *record(message: RecordMessage, recordsFrom: number): AsyncGenerator<Message> {
    const exact = message.exact !== undefined;
    const original = message.exact ?? message.record;
    let items: { stream: string; record: JsonObject }[] = [{ stream: message.stream, record: original }];
    this.context.watch?.(-1, 'streamer', { stream: message.stream, record: original });
    for (const [index, step] of this.steps.entries()) {
      const next: { stream: string; record: JsonObject }[] = [];
      for (const item of items) {
        if (index < recordsFrom) {
          // Before the replay's start the record was already through this step; only a rename applies.
          next.push({ stream: step.renamed.get(item.stream) ?? item.stream, record: item.record });
          continue;
        }
        if (!step.config.applies(item.stream)) {
          next.push(item);
          continue;
        }
        step.report.in += 1;
        const result = await this.timed(step, () => step.instance.record(item.stream, item.record));
        const stream = step.renamed.get(item.stream) ?? item.stream;
        if (step.kind === 'inspector') {
          // An inspector may stop a record, never change it.
          if (result === null) step.report.dropped += 1;
          else {
            step.report.out += 1;
            next.push({ stream, record: item.record });
          }
          continue;
        }
        const produced =
          result === null || result === undefined ? [] : Array.isArray(result) ? result : [result];
        if (produced.length === 0) step.report.dropped += 1;
        else if (produced.length !== 1 || produced[0] !== item.record) step.report.changed += 1;
        step.report.out += produced.length;
        for (const record of produced) {
          if (typeof record !== 'object' || record === null || Array.isArray(record))
            throw new StepError(
              `${step.config.label}: stream ${item.stream}: record() returned ${JSON.stringify(record)}; return a record, a list of records, or null`,
            );
          next.push({ stream, record });
        }
      }
      items = next;
      for (const item of next) this.context.watch?.(index, step.config.label, item);
    }
    for (const entry of this.quarantined) entry.source ??= message.stream;
    for (const item of items) {
      const unchanged = item.record === original && item.stream === message.stream;
      if (unchanged) {
        yield message;
        continue;
      }
      const { raw: _raw, exact: _exact, ...rest } = message;
      yield exact
        ? { ...rest, stream: item.stream, record: plain(item.record), exact: item.record }
        : { ...rest, stream: item.stream, record: item.record };
    }
  }

  private *flushQuarantine(): Generator<Message> {
    for (const { stream, record, reason, step, source } of this.quarantined.splice(0)) {
      const table = quarantineTableOf(stream);
      if (!this.quarantineSchemas.has(table)) {
        this.quarantineSchemas.add(table);
        yield quarantineSchemaMessage(table);
      }
      const values = plain(record);
      const run = this.context.run();
      yield {
        type: 'RECORD',
        stream: table,
        record: {
          // The same record set aside twice in one run (a redelivered page) is one row.
          quarantine_id: createHash('sha256')
            .update(`${run}\n${step}\n${canonicalJson(values)}`)
            .digest('hex')
            .slice(0, 32),
          stream,
          source_stream: source ?? stream,
          step,
          record: values,
          reason,
          run,
          quarantined_at: new Date().toISOString(),
          replayed_at: null,
        },
      };
    }
  }

  private async timed<T>(step: PreparedStep, work: () => T | Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } catch (error) {
      if (error instanceof StepError) throw error;
      throw new StepError(`tap ${this.context.tap}: ${step.config.label}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      step.report.ms += performance.now() - started;
    }
  }
}

/** A record's values as plain JSON, exact numbers as doubles (the `record` beside the `exact` one). */
function plain(value: unknown): JsonObject {
  return JSON.parse(
    JSON.stringify(value, (_key, item) => (isExactNumber(item) ? Number(item.toString()) : item)),
  );
}
