/**
 * A pipeline step: what runs between a tap's streamer and its chunk writer, so chunks hold what the
 * destination will load, in every runtime alike. Two kinds, as Jetstream separated them:
 * - an **inspector** sees every record and may flag, count, log or stop the run, but never changes one;
 * - a **transformer** may change, add or drop records, and says how it changes each stream's schema.
 *
 * A custom module needs nothing of ours: its default export is a factory `(options, context) => step`
 * returning a plain object with the functions below (sync or async). `defineStep` adds types and an
 * options schema on top.
 */
import type { JsonObject, JsonSchema } from '../protocol/messages.ts';

/** A stream's shape as a step sees and changes it. */
export interface StreamShape {
  readonly stream: string;
  readonly schema: JsonSchema;
  readonly keyProperties: readonly string[];
}

/** What a step's record function may return: the record (changed or not), several, or null to drop it. */
export type RecordResult = JsonObject | readonly JsonObject[] | null | undefined;

export interface StepInstance {
  /** A transformer's new shape for a stream (new, renamed or removed properties, a renamed stream). */
  schema?(shape: StreamShape): StreamShape | Promise<StreamShape>;
  /**
   * One record of `stream` (its name before this step). An inspector's return value is ignored, but
   * for null: an inspector may stop a record (drop or quarantine it), never change it.
   */
  record(stream: string, record: JsonObject): RecordResult | Promise<RecordResult>;
  /** Called once at the end of a run that read everything; an inspector may throw to fail it. */
  finish?(): void | Promise<void>;
}

/** What a step may use besides its options. */
export interface StepContext {
  readonly tap: string;
  /** The run's id (`r…`) once a run holds it. */
  readonly run: () => string;
  readonly log: (line: string) => void;
  /** An inspector's finding about a record: counted in the report, logged for the first few. */
  readonly flag: (stream: string, reason: string) => void;
  /**
   * Sets a record aside, with why, in the stream's quarantine table (`<stream>__quarantine`), through
   * the same chunks and exactly-once loading as every record. The record itself does not go on.
   */
  readonly quarantine: (stream: string, record: JsonObject, reason: string) => void;
  /** A line for the run report under the step (a summary, a failed expectation). */
  readonly note: (line: string) => void;
}

export type StepFactory = (options: JsonObject, context: StepContext) => StepInstance | Promise<StepInstance>;

export interface StepDefinition {
  readonly name: string;
  readonly kind: 'inspector' | 'transformer';
  readonly description: string;
  /** The step's own options (not `use` or `streams`), as JSON Schema; checked when the pipeline loads. */
  readonly options: JsonSchema;
  /** Rules beyond the schema (an expression that must parse, a key that must be there), at load too. */
  readonly check?: (options: JsonObject) => string | undefined;
  readonly create: StepFactory;
}

/** Declares a step with typed options; what built-ins are made with, and what custom modules may use. */
export function defineStep<Options extends JsonObject>(definition: {
  readonly name: string;
  readonly kind: 'inspector' | 'transformer';
  readonly description: string;
  readonly options: JsonSchema;
  readonly check?: (options: Options) => string | undefined;
  readonly create: (options: Options, context: StepContext) => StepInstance | Promise<StepInstance>;
}): StepDefinition {
  return definition as StepDefinition;
}

export class StepConfigError extends Error {
  override readonly name = 'StepConfigError';
}

/** A step failed on a record: names the step, the stream and the record, and what to do. */
export class StepError extends Error {
  override readonly name = 'StepError';
}
