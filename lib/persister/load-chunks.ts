/**
 * Loads chunks into a destination, exactly once in effect (DESIGN.md rules 3 and 4):
 * - a chunk already in the ledger is skipped, so replays and redeliveries load nothing twice;
 * - a chunk loads only after the chunk it follows is in the ledger;
 * - a chunk at or behind the committed bookmark that is not in the ledger is an orphan (a writer
 *   that lost its lease or crashed before recording it): the tap's chain went on without it, and
 *   loading it would load its records twice, so it never loads;
 * - rows and ledger row commit in one transaction; records are validated before they are written,
 *   and any failure rolls the whole transaction back.
 * After the commit the committed bookmark moves forward only.
 */
import type { ChunkMetadata } from '../chunks/chunk-metadata.ts';
import { type ChunkPosition, comparePositions } from '../chunks/chunk-position.ts';
import { readChunk } from '../chunks/read-chunk.ts';
import { EXTRA_PROPERTY } from '../columns/column-plan.ts';
import {
  type Destination,
  DestinationLoadError,
  type LoadTransaction,
  type RowToLoad,
  type StreamLoadCounts,
  type UndeclaredProperties,
} from '../destinations/destination.ts';
import type { JsonObject, ParsedMessage, SchemaMessage } from '../protocol/messages.ts';
import type { ChunkMessage } from '../queue/chunk-queue.ts';
import type { Stage } from '../stage/stage.ts';
import { isDropped, type LoadGuards, type StateStore } from '../state/state-store.ts';
import { ChunkGapError, RecordValidationError } from './persister-errors.ts';
import { RecordChecks, type StreamRecordCheck } from './record-check.ts';
import { holdsNul, withoutNul } from './warehouse-values.ts';

export interface ChunkToLoad extends Omit<ChunkMetadata, 'records' | 'streams' | 'previous'> {
  /**
   * The chunk that must be in the ledger first (null: the tap's first chunk, which loads only into an
   * empty ledger), or 'unchained' for loads that are not a staged chain (`trib persist` from stdin,
   * where the stream itself keeps the order).
   */
  readonly previous: ChunkMetadata['previous'] | 'unchained';
  /** Names the chunk in errors: its key, path or URI. */
  readonly source: string;
  /**
   * The chunk's messages, a batch at a time: the load handles each batch in a plain loop, which saves
   * a promise a message (a tenth of a parse and validation of small records).
   */
  readonly messages: () => AsyncIterable<readonly ParsedMessage[]>;
}

/** A staged chunk, named by its queue message or chain entry, read from the stage (checksum checked). */
export function stagedChunk(stage: Stage, message: ChunkMessage): ChunkToLoad {
  return {
    ...message,
    source: stage.uriOf(message.key),
    messages: () => readChunk(stage, message.key, message),
  };
}

export interface ChunkOutcome extends ChunkPosition {
  /**
   * skipped: already in the ledger; dropped: an operator dropped it (`trib rewind`); orphaned: not on
   * the tap's chain (its records were read again by a later run). Neither of the last two ever loads.
   */
  readonly status: 'loaded' | NotLoaded;
  readonly records: number;
  readonly bookmark: unknown;
  readonly counts: Record<string, StreamLoadCounts>;
  /** Whether the committed bookmark moved (false for chunks at or behind it). */
  readonly bookmarkMoved: boolean;
}

export interface LoadOptions {
  readonly destination: Destination;
  /** Where the committed bookmark is recorded; omitted by `trib persist`, which prints it instead. */
  readonly stateStore?: StateStore;
  /** Record checks, compiled once per schema: pass one set to every load of a process. */
  readonly checks?: RecordChecks;
}

/**
 * Loads several waiting chunks of one tap in one transaction (each with its own ledger row):
 * one commit for many chunks is several times faster in DuckDB. Chunks must be in (run, seq) order.
 */
export async function loadChunks(
  tap: string,
  chunks: readonly ChunkToLoad[],
  options: LoadOptions,
): Promise<ChunkOutcome[]> {
  const checks = options.checks ?? new RecordChecks();
  // A queue may still deliver chunks a rewind dropped, or an operator replay an orphan: neither may
  // load (their records are read again). Read before the transaction, the committed position can only
  // lag the truth, which makes the orphan check weaker (the ledger's gap check still holds), never wrong.
  const guards = options.stateStore === undefined ? undefined : await options.stateStore.loadGuards(tap);
  const transaction = await options.destination.begin(tap);
  const outcomes: Promise<LoadedChunk>[] = [];
  // Each is awaited below, with the others, before the commit; a failure is not unhandled meanwhile.
  const track = (outcome: Promise<LoadedChunk>) => {
    outcome.catch(() => {});
    outcomes.push(outcome);
    return outcome;
  };
  let loaded: LoadedChunk[];
  try {
    // Every ledger check is made before any chunk loads, so a chunk's statements can run while the
    // next chunk is read: the next one no longer asks the ledger after them.
    const plans = await planLoads(transaction, tap, chunks, guards);
    const outcomeOf = new Map<ChunkToLoad, Promise<LoadedChunk>>();
    const undeclared = options.destination.undeclaredProperties ?? 'keep';
    for (const plan of plans) {
      if ('outcome' in plan) track(Promise.resolve(plan.outcome));
      else if ('again' in plan) {
        // The same chunk twice in a batch (a redelivery): skipped, with the bookmark its first load commits.
        const first = outcomeOf.get(plan.again) as Promise<LoadedChunk>;
        track(first.then((outcome) => ({ ...outcome, ...nothingLoaded('skipped', outcome.bookmark) })));
      } else {
        const { outcome } = await loadOne(transaction, plan.load, checks, undeclared);
        outcomeOf.set(plan.load, track(outcome));
      }
    }
    loaded = await Promise.all(outcomes);
    await transaction.commit();
  } catch (error) {
    // A chunk's statements may still be running when the next chunk fails on theirs: the first
    // chunk whose statements failed is the one to name.
    const settled = await Promise.allSettled(outcomes);
    const earlier = settled.find((outcome) => outcome.status === 'rejected');
    await transaction.rollback().catch(() => {});
    throw earlier === undefined ? error : earlier.reason;
  }
  return markCommitted(tap, loaded, options.stateStore);
}

type LoadedChunk = Omit<ChunkOutcome, 'bookmarkMoved'>;

/** What a chunk of a batch comes to: loaded, the same as an earlier chunk of the batch, or known without loading. */
type LoadPlan =
  | { readonly load: ChunkToLoad }
  | { readonly again: ChunkToLoad }
  | { readonly outcome: LoadedChunk };

/**
 * The ledger's rules for each chunk of a batch, in order, as if the chunks before it were loaded:
 * a chunk already in the ledger (or earlier in the batch) is skipped; one whose predecessor is
 * neither in the ledger nor loaded before it in the batch is a gap, and nothing of the batch loads.
 */
async function planLoads(
  transaction: LoadTransaction,
  tap: string,
  chunks: readonly ChunkToLoad[],
  guards: LoadGuards | undefined,
): Promise<LoadPlan[]> {
  const plans: LoadPlan[] = [];
  const loading = new Map<string, ChunkToLoad>();
  let ledgerIsEmpty: boolean | undefined;
  for (const chunk of chunks) {
    const position = { run: chunk.run, seq: chunk.seq };
    const earlier = loading.get(positionKey(position));
    if (earlier !== undefined) {
      plans.push({ again: earlier });
      continue;
    }
    // The ledger first: a chunk loaded just before a rewind dropped it (its committed mark lost to a
    // crash) is skipped with its bookmark, which moves the committed one forward past the drop, so
    // the next run does not read its records again.
    const ledgered = await transaction.loaded(position);
    if (ledgered !== undefined) {
      plans.push({ outcome: { ...position, ...nothingLoaded('skipped', ledgered.bookmark) } });
      continue;
    }
    if (guards !== undefined && isDropped(guards, chunk)) {
      plans.push({ outcome: { ...position, ...nothingLoaded('dropped', undefined) } });
      continue;
    }
    // The chain up to the committed chunk is all in the ledger: one behind it that is not was never on it.
    if (guards?.committed !== undefined && comparePositions(position, guards.committed) <= 0) {
      plans.push({ outcome: { ...position, ...nothingLoaded('orphaned', undefined) } });
      continue;
    }
    // Every chunk waits for its predecessor; the first chunk of a tap for an empty ledger.
    if (chunk.previous === null) {
      ledgerIsEmpty ??= await transaction.ledgerIsEmpty();
      if (!ledgerIsEmpty || loading.size > 0) throw new ChunkGapError(tap, position, null);
    } else if (
      chunk.previous !== 'unchained' &&
      !loading.has(positionKey(chunk.previous)) &&
      (await transaction.loaded(chunk.previous)) === undefined
    ) {
      throw new ChunkGapError(tap, position, chunk.previous);
    }
    loading.set(positionKey(position), chunk);
    plans.push({ load: chunk });
  }
  return plans;
}

type NotLoaded = 'skipped' | 'dropped' | 'orphaned';

function nothingLoaded(status: NotLoaded, bookmark: unknown) {
  return { status, records: 0, bookmark, counts: {} };
}

function positionKey(position: ChunkPosition): string {
  return `${position.run}\u0000${position.seq}`;
}

/** After the commit: each chunk moves the committed bookmark, forward only. */
async function markCommitted(
  tap: string,
  outcomes: readonly LoadedChunk[],
  stateStore: StateStore | undefined,
): Promise<ChunkOutcome[]> {
  const results: ChunkOutcome[] = [];
  for (const outcome of outcomes) {
    let bookmarkMoved = false;
    // A skipped chunk moves the bookmark too: its load may have committed just before a crash that
    // kept the bookmark write from happening. Forward-only writes make this safe for any replay.
    if (outcome.bookmark !== undefined && stateStore !== undefined) {
      bookmarkMoved = (
        await stateStore.markCommitted(tap, {
          run: outcome.run,
          seq: outcome.seq,
          bookmark: outcome.bookmark,
          at: new Date().toISOString(),
        })
      ).ok;
    }
    results.push({ ...outcome, bookmarkMoved });
  }
  return results;
}

/**
 * Reads a chunk and writes its rows; resolves once all of it is queued in the transaction, with the
 * chunk's outcome to come when the destination has run it (wrapped, so it is not awaited here).
 */
async function loadOne(
  transaction: LoadTransaction,
  chunk: ChunkToLoad,
  checks: RecordChecks,
  undeclared: UndeclaredProperties,
): Promise<{ readonly outcome: Promise<LoadedChunk> }> {
  const position = { run: chunk.run, seq: chunk.seq };
  transaction.startChunk(position);
  try {
    const { records, bookmark } = await loadRecords(transaction, chunk, checks, undeclared);
    const finished = transaction.finishChunk({ bookmark, records });
    return {
      outcome: finished.then(
        (counts) => ({ ...position, status: 'loaded' as const, records, bookmark, counts }),
        (error: unknown) => {
          throw namingChunk(chunk, error);
        },
      ),
    };
  } catch (error) {
    throw namingChunk(chunk, error);
  }
}

/** The destination names the stream and record; the chunk is named here, as the parser names it. */
function namingChunk(chunk: ChunkToLoad, error: unknown): unknown {
  return error instanceof DestinationLoadError
    ? new DestinationLoadError(`${chunk.source}: ${error.message}`, { cause: error.cause })
    : error;
}

async function loadRecords(
  transaction: LoadTransaction,
  chunk: ChunkToLoad,
  checks: RecordChecks,
  undeclared: UndeclaredProperties,
): Promise<{ readonly records: number; readonly bookmark: unknown }> {
  const streams = new Map<
    string,
    { schema: SchemaMessage; check: StreamRecordCheck; declared: ReadonlySet<string> }
  >();
  const pendingVersions = new Map<string, number>();
  let bookmark: unknown;
  let records = 0;
  for await (const batch of chunk.messages()) {
    for (const { line, message } of batch) {
      switch (message.type) {
        case 'SCHEMA': {
          const known = streams.get(message.stream);
          if (known === undefined || JSON.stringify(known.schema) !== JSON.stringify(message)) {
            await transaction.defineStream(undeclared === 'drop' ? { ...message, undeclared } : message);
            streams.set(message.stream, {
              schema: message,
              check: checks.forSchema(message),
              declared: new Set(Object.keys((message.schema.properties ?? {}) as object)),
            });
          }
          const pending = pendingVersions.get(message.stream);
          if (pending !== undefined) {
            pendingVersions.delete(message.stream);
            await transaction.activateVersion(message.stream, pending);
          }
          break;
        }
        case 'RECORD': {
          const stream = streams.get(message.stream);
          if (stream === undefined) continue; // the parser already refuses a RECORD before its SCHEMA
          const checked = stream.check.check(message.record, message.exact);
          if (!checked.ok)
            throw new RecordValidationError(chunk.source, line, message.stream, checked.problem);
          if (stream.schema.keyProperties.length === 0 && message.keyProperties !== undefined) {
            const keyed: SchemaMessage = { ...stream.schema, keyProperties: message.keyProperties };
            await transaction.defineStream(undeclared === 'drop' ? { ...keyed, undeclared } : keyed);
            streams.set(message.stream, { ...stream, schema: keyed });
          }
          records += 1;
          const nul = holdsNul(checked.values, message.raw?.text);
          const values = nul ? withoutNul(checked.values) : checked.values;
          const extra = undeclared === 'keep' ? undeclaredOf(values, stream.declared) : undefined;
          // Built field by field: this runs once a record, and spreads of optional fields cost more.
          const row: { -readonly [K in keyof RowToLoad]: RowToLoad[K] } = {
            values: extra === undefined ? values : { ...values, [EXTRA_PROPERTY]: extra },
            position: records,
          };
          if (message.version !== undefined) row.version = message.version;
          if (message.exact !== undefined) row.exact = true;
          // The original line serves only while it says exactly what is loaded.
          else if (!checked.changed && !nul && extra === undefined && message.raw !== undefined)
            row.raw = message.raw;
          const written = transaction.write(message.stream, row);
          if (written !== undefined) await written;
          break;
        }
        case 'ACTIVATE_VERSION':
          // Some taps send it before the stream's SCHEMA (pipelinewise's fixtures do): it takes effect
          // when the SCHEMA comes, before any record of the chunk.
          if (streams.has(message.stream)) await transaction.activateVersion(message.stream, message.version);
          else pendingVersions.set(message.stream, message.version);
          break;
        case 'STATE':
          bookmark = message.value;
          break;
      }
    }
  }
  return { records, bookmark };
}

/** A record's properties its schema does not declare, or undefined when it has none. */
function undeclaredOf(values: JsonObject, declared: ReadonlySet<string>): JsonObject | undefined {
  let extra: Record<string, unknown> | undefined;
  for (const key in values) {
    if (declared.has(key) || key === EXTRA_PROPERTY) continue;
    extra ??= {};
    extra[key] = values[key];
  }
  return extra as JsonObject | undefined;
}
