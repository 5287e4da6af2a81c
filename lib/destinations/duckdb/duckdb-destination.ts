/**
 * The embedded default destination: a DuckDB file. One schema per tap, one table per stream, and the
 * `main._tributary_chunks` ledger. Rows reach DuckDB through NDJSON batches read by `read_ndjson`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { ChunkPosition } from '../../chunks/chunk-position.ts';
import { type ColumnPlan, type PlannedColumn, planColumns } from '../../columns/column-plan.ts';
import { sanitizeIdentifier } from '../../columns/identifiers.ts';
import { recordedNamesOf, type StreamNames, streamNamesFor } from '../../columns/warehouse-names.ts';
import { parseJsonExactly } from '../../protocol/exact-json.ts';
import {
  countsByStream,
  type Destination,
  DestinationLoadError,
  emptyCounts,
  type LedgerEntry,
  type LoadTransaction,
  ledgerValues,
  type RowToLoad,
  type StreamDefinition,
  type StreamLoadCounts,
  sameDefinition,
  type UndeclaredProperties,
} from '../destination.ts';
import { qualified, quoteIdentifier, quoteLiteral } from '../sql-text.ts';
import { traceSql, tracingSql } from '../sql-trace.ts';
import { StatementQueue } from '../statement-queue.ts';
import { duckDbReadType, duckDbType } from './duckdb-types.ts';
import { DEFAULT_MAX_OBJECT_BYTES, NdjsonBatch } from './ndjson-batch.ts';

/**
 * DuckDB's threads for a load: all cores but one, which is Node's. A load is a pipeline of Node
 * parsing and validating records and DuckDB merging the batches before them; with a thread per core
 * DuckDB takes the core Node needs. Measured here (2 cores, 1M records, one run of `npm run bench --
 * --only duckdb` each, 1 thread against 2): single load flat 13.9 against 16.7 s, nested 16.7 against
 * 21.7 s; a transaction per 5,000 flat 24.8 against 29.2 s, nested 36.9 against 37.6 s; the persister's
 * batches of ten chunks flat 20.4 against 22.8 s, nested 28.6 against 37.1 s; upserts of 100,000 flat
 * 2.1 against 2.3 s, nested 2.8 against 4.7 s. Peak memory alike (±40 MB either way).
 */
export function loadThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

export interface DuckDbOptions {
  /** DuckDB's memory limit, e.g. `512MB`. @default 256MB */
  readonly memoryLimit?: string;
  /** Worker threads. @default all cores but one (loadThreads): give all of them for queries alone. */
  readonly threads?: number;
  readonly undeclaredProperties?: UndeclaredProperties;
}

/**
 * What holds a load's memory. DuckDB's allocator keeps what a query freed for the next one, and a
 * load is many short queries over batches: without a low flush threshold the process grows to about
 * four times the buffer pool. The buffer pool itself is capped, so a large table's blocks are read
 * again from the file rather than kept.
 */
const DEFAULT_MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;
const MEMORY_SETTINGS: Record<string, string> = {
  memory_limit: `${DEFAULT_MEMORY_LIMIT_BYTES / 1024 / 1024}MB`,
  allocator_flush_threshold: '8MB',
  allocator_bulk_deallocation_flush_threshold: '8MB',
};

/**
 * DuckDB checkpoints (writes the WAL's changes into the file) once the WAL passes this size, inside
 * the COMMIT that crossed it, each time rewriting the table's last, partly filled row group; until
 * then what the WAL holds stays in memory, uncompressed. At DuckDB's 16 MB a load in 5,000-record
 * transactions checkpointed every fifth commit: a quarter of its time. With row groups of 32,768
 * rows (below), 1M flat records in 5,000-record transactions: 128 MB 21.7–22.6 s and 407–424 MB,
 * 256 MB 22.1–22.8 s and 460–479 MB; 64 MB was slower (300k records: 7.7–7.9 s against 7.1–7.3 s).
 * A committed transaction is durable in the WAL either way; a larger WAL only makes the next open
 * after a crash replay more (190 MB: half a second).
 */
const CHECKPOINT_THRESHOLD = '128MB';

/**
 * Rows per row group in the warehouse file: 32,768, not DuckDB's 122,880. A transaction that appends
 * at least a row group writes it to the file as it goes; a smaller one goes through the WAL and stays
 * in memory, uncompressed, until the next checkpoint, and the row group being filled is held in
 * memory too. Peak memory at 1M flat records: a single load 449–465 → 372 MB, an upsert of 100,000
 * into them 515–559 → 294 MB; `trib run` of 1M sample records 539 → 364 MB (its 50,000-record chunks
 * each hold more than a row group); load times alike or faster (upsert 2.2 → 1.8 s). The file is 3–8%
 * larger (smaller groups compress a little less); scans and point lookups measured alike. The size
 * applies to what is written from now on: a file made with another size keeps its row groups.
 */
const ROW_GROUP_ROWS = 32_768;

/**
 * DuckDB's JSON reader holds a few lines' worth of buffer per thread, so a batch with a long line
 * (a 64 MB record) needs more than the default limit: a merge raises our default for as long as it
 * runs. A limit the user set is theirs and stays; a line that needs more fails with DuckDB's advice.
 */
interface MemoryPolicy {
  readonly raisable: boolean;
  readonly threads: number;
}
const LINE_BUFFERS_PER_THREAD = 3;

/** The catalog the warehouse file is attached as; no tap schema can be named so. */
const CATALOG = '_warehouse';
const LEDGER = 'main._tributary_chunks';
/** The table and column names given to each tap's streams, so a collision suffix never changes. */
const NAMES = 'main._tributary_names';
const SYSTEM_COLUMNS = [
  '_tributary_loaded_at TIMESTAMP WITH TIME ZONE',
  '_tributary_run VARCHAR',
  '_tributary_seq INTEGER',
  '_tributary_version BIGINT',
];

/**
 * `trib persist` into DuckDB commits every 500,000 records, not 100,000: each commit waits for the
 * last merge, and DuckDB then waits while Node fills the next batch, so the two cores stop working
 * together at every commit. 1M flat records: 12.6–13.0 s in 100,000-record transactions, 11.3–11.8 s
 * in 500,000 (peak memory alike). A crash costs at most one transaction's records read again.
 */
const COMMIT_EVERY = 500_000;

export class DuckDbDestination implements Destination {
  readonly description: string;
  readonly commitEvery = COMMIT_EVERY;
  private lock: Promise<void> = Promise.resolve();

  private constructor(
    /** The memory limit a merge may raise for a large line: only ours, never one the user set. */
    private readonly memory: MemoryPolicy,
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    readonly undeclaredProperties: UndeclaredProperties,
  ) {
    this.description = `duckdb:${path}`;
  }

  /** @example const warehouse = await DuckDbDestination.open('warehouse.duckdb'); */
  static async open(path: string, options: DuckDbOptions = {}): Promise<DuckDbDestination> {
    const absolute = resolve(path);
    // Without the ICU extension (not bundled, and never downloaded here) DuckDB keeps TIMESTAMPTZ in UTC.
    const settings: Record<string, string> = {
      autoinstall_known_extensions: 'false',
      checkpoint_threshold: CHECKPOINT_THRESHOLD,
      ...MEMORY_SETTINGS,
    };
    if (options.memoryLimit !== undefined) settings.memory_limit = options.memoryLimit;
    const threads = options.threads ?? loadThreads();
    settings.threads = String(threads);
    let instance: DuckDBInstance;
    let writer: DuckDBConnection;
    let reader: DuckDBConnection;
    try {
      // The file is attached under a name no tap's schema can have (tap names start with a letter):
      // opened directly, its catalog would be named after the file, and `events.events` in a file
      // events.duckdb would be ambiguous between the catalog and the tap's schema.
      instance = await DuckDBInstance.create(':memory:', settings);
      writer = await instance.connect();
      await writer.run(`ATTACH ${quoteLiteral(absolute)} AS ${CATALOG} (ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`);
      await writer.run(`USE ${CATALOG}`);
      reader = await instance.connect();
      await reader.run(`USE ${CATALOG}`);
    } catch (error) {
      const reason = (error as Error).message;
      const hint = /lock/i.test(reason)
        ? ' Another process has it open: DuckDB allows one writer per file.'
        : '';
      throw new Error(`cannot open DuckDB file ${absolute}: ${reason}.${hint}`, { cause: error });
    }
    await writer.run(
      `CREATE TABLE IF NOT EXISTS ${LEDGER} (tap VARCHAR NOT NULL, run VARCHAR NOT NULL, seq INTEGER NOT NULL, bookmark JSON, records BIGINT NOT NULL, counts JSON NOT NULL, loaded_at TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (tap, run, seq))`,
    );
    await writer.run(
      `CREATE TABLE IF NOT EXISTS ${NAMES} (tap VARCHAR NOT NULL, stream VARCHAR NOT NULL, kind VARCHAR NOT NULL, property VARCHAR NOT NULL, name VARCHAR NOT NULL, PRIMARY KEY (tap, stream, kind, property))`,
    );
    const memory: MemoryPolicy = {
      raisable: options.memoryLimit === undefined,
      threads,
    };
    return new DuckDbDestination(
      memory,
      absolute,
      instance,
      writer,
      reader,
      options.undeclaredProperties ?? 'keep',
    );
  }

  async begin(tap: string): Promise<LoadTransaction> {
    // One writer connection: transactions take turns (this also serialises chunks of one tap).
    let release: () => void = () => {};
    const turn = new Promise<void>((resolvePromise) => {
      release = resolvePromise;
    });
    const previous = this.lock;
    this.lock = previous.then(() => turn);
    await previous;
    try {
      const folder = await mkdtemp(join(tmpdir(), 'tributary-duckdb-'));
      await this.writer.run('BEGIN TRANSACTION');
      return new DuckDbLoad(this.writer, tap, folder, release, this.memory);
    } catch (error) {
      release();
      throw error;
    }
  }

  async ledger(tap: string): Promise<LedgerEntry[]> {
    const reader = await this.reader.runAndReadAll(
      `SELECT run, seq, bookmark::VARCHAR AS bookmark, records, counts::VARCHAR AS counts FROM ${LEDGER} WHERE tap = $1 ORDER BY run, seq`,
      [tap],
    );
    return reader.getRowObjectsJS().map((row) => ({
      tap,
      run: String(row.run),
      seq: Number(row.seq),
      bookmark: row.bookmark === null ? undefined : parseJsonExactly(String(row.bookmark)),
      records: Number(row.records),
      counts: JSON.parse(String(row.counts)),
    }));
  }

  /** Runs a read-only query (status, tests, the README's example). */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    return (await this.reader.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  }

  async close(): Promise<void> {
    await this.lock;
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
  }
}

interface StreamTarget {
  readonly definition: StreamDefinition;
  readonly plan: ColumnPlan;
  /** The planned columns of the stream's key, in key order. */
  readonly keys: readonly PlannedColumn[];
  batch: NdjsonBatch | undefined;
  counts: StreamLoadCounts;
}

async function run(connection: DuckDBConnection, sql: string, values?: DuckDBValue[]) {
  const started = tracingSql ? performance.now() : 0;
  const result = values === undefined ? await connection.run(sql) : await connection.run(sql, values);
  if (tracingSql) traceSql(started, sql);
  return result;
}

/**
 * Rows are flushed to DuckDB in batches of this many per stream: the merge of one batch runs on
 * DuckDB's threads while Node parses and validates the next, so the two cores work together.
 * 50,000 made `trib persist` of 1M records 4–8% faster but `trib run` of 1M sample records peak at
 * 484–500 MB instead of 338 MB (each of its 50,000-record chunks was then merged as one batch).
 */
const FLUSH_ROWS = 25_000;

class DuckDbLoad implements LoadTransaction {
  private readonly schema: string;
  private readonly streams = new Map<string, StreamTarget>();
  private batches = 0;
  private chunk: ChunkPosition = { run: '', seq: 0 };
  private finished = false;
  private readonly statements = new StatementQueue();

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly tap: string,
    private readonly folder: string,
    private readonly release: () => void,
    private readonly memory: MemoryPolicy,
  ) {
    this.schema = sanitizeIdentifier(tap);
  }

  loaded(position: ChunkPosition): Promise<{ readonly bookmark: unknown } | undefined> {
    return this.serial(async () => {
      const reader = await this.connection.runAndReadAll(
        `SELECT bookmark::VARCHAR AS bookmark FROM ${LEDGER} WHERE tap = $1 AND run = $2 AND seq = $3`,
        [this.tap, position.run, position.seq],
      );
      const row = reader.getRowObjectsJS()[0];
      return row === undefined
        ? undefined
        : { bookmark: row.bookmark === null ? undefined : parseJsonExactly(String(row.bookmark)) };
    });
  }

  ledgerIsEmpty(): Promise<boolean> {
    return this.serial(async () => {
      const reader = await this.connection.runAndReadAll(`SELECT 1 FROM ${LEDGER} WHERE tap = $1 LIMIT 1`, [
        this.tap,
      ]);
      return reader.getRowObjectsJS().length === 0;
    });
  }

  startChunk(position: ChunkPosition): void {
    this.chunk = position;
  }

  async defineStream(definition: StreamDefinition): Promise<void> {
    const known = this.streams.get(definition.stream);
    // Each chunk repeats its streams' SCHEMA: the same one again changes nothing, and must not wait.
    if (known !== undefined && sameDefinition(known.definition, definition)) return;
    if (known !== undefined) await this.flush(known);
    const plan = await this.serial(async () => {
      await run(this.connection, `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(this.schema)}`);
      const names = await this.namesFor(definition);
      const existing = await this.columnsOf(names.table);
      const planned = planColumns(definition, existing, duckDbType, names);
      const target = qualified(this.schema, planned.table);
      if (existing === undefined) {
        const columns = planned.columns.map(
          (column) => `${quoteIdentifier(column.column)} ${duckDbType(column.type)}`,
        );
        await run(this.connection, `CREATE TABLE ${target} (${[...columns, ...SYSTEM_COLUMNS].join(', ')})`);
      } else {
        for (const column of planned.additions) {
          await run(
            this.connection,
            `ALTER TABLE ${target} ADD COLUMN ${quoteIdentifier(column.column)} ${duckDbType(column.type)}`,
          );
        }
      }
      return planned;
    });
    this.streams.set(definition.stream, {
      definition,
      plan,
      keys: plan.keyColumns.map(
        (key) => plan.columns.find((column) => column.column === key) as PlannedColumn,
      ),
      batch: undefined,
      counts: known?.counts ?? emptyCounts(),
    });
  }

  write(stream: string, row: RowToLoad): Promise<void> | undefined {
    this.statements.throwIfFailed();
    const target = this.target(stream);
    target.batch ??= new NdjsonBatch(
      join(this.folder, `batch-${this.batches++}`),
      target.plan.columns,
      target.keys,
    );
    const written = target.batch.write(row);
    if (written === undefined) {
      this.flushIfFull(target);
      return undefined;
    }
    return written.then(() => this.flushIfFull(target));
  }

  private flushIfFull(target: StreamTarget): void {
    // A failure of this background merge is kept in `failure` and thrown by the next call.
    if ((target.batch?.rows ?? 0) >= FLUSH_ROWS) this.flush(target).catch(() => {});
  }

  async activateVersion(stream: string, version: number): Promise<void> {
    const target = this.target(stream);
    await this.flush(target);
    await this.serial(async () => {
      const result = await run(
        this.connection,
        `DELETE FROM ${qualified(this.schema, target.plan.table)} WHERE _tributary_version IS DISTINCT FROM $1`,
        [version],
      );
      target.counts.deleted += Number(result.rowsChanged);
    });
  }

  finishChunk(chunk: {
    readonly bookmark: unknown;
    readonly records: number;
  }): Promise<Record<string, StreamLoadCounts>> {
    // Everything of this chunk is queued before this returns (its counts are the ones its merges
    // add up), so the caller may go on to the next chunk while DuckDB merges this one.
    // A failed merge is the queue's `failure`: the ledger row queued next is refused with it.
    for (const target of this.streams.values()) this.flush(target).catch(() => {});
    const position = this.chunk;
    return this.serial(async () => {
      const counts = countsByStream(this.streams.values());
      await run(
        this.connection,
        `INSERT INTO ${LEDGER} (tap, run, seq, bookmark, records, counts, loaded_at) VALUES ($1, $2, $3, $4::JSON, $5, $6::JSON, now())`,
        ledgerValues(this.tap, position, chunk, counts),
      );
      for (const target of this.streams.values()) target.counts = emptyCounts();
      return counts;
    });
  }

  async commit(): Promise<void> {
    try {
      await this.serial(() => run(this.connection, 'COMMIT').then(() => {}));
    } finally {
      await this.cleanUp();
    }
  }

  async rollback(): Promise<void> {
    try {
      await this.statements.settled(); // let a statement under way finish; its failure is already recorded
      await run(this.connection, 'ROLLBACK');
    } finally {
      await this.cleanUp();
    }
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    return this.statements.run(work);
  }

  private async cleanUp(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    for (const target of this.streams.values()) await target.batch?.remove();
    await rm(this.folder, { recursive: true, force: true });
    this.release();
  }

  private target(stream: string): StreamTarget {
    const target = this.streams.get(stream);
    if (target === undefined) throw new Error(`stream "${stream}" was written before its SCHEMA was defined`);
    return target;
  }

  /** The stream's table and columns, recording any name given now in this transaction. */
  private async namesFor(definition: StreamDefinition): Promise<StreamNames> {
    const reader = await this.connection.runAndReadAll(
      `SELECT kind, stream, property, name FROM ${NAMES} WHERE tap = $1`,
      [this.tap],
    );
    const recorded = recordedNamesOf(
      reader.getRowObjectsJS().map((row) => ({
        kind: String(row.kind),
        stream: String(row.stream),
        property: String(row.property),
        name: String(row.name),
      })),
    );
    const properties = Object.keys((definition.schema.properties ?? {}) as Record<string, unknown>);
    const names = streamNamesFor(definition.stream, properties, recorded);
    for (const added of names.added)
      await run(
        this.connection,
        `INSERT OR IGNORE INTO ${NAMES} (tap, stream, kind, property, name) VALUES ($1, $2, $3, $4, $5)`,
        [this.tap, added.stream, added.kind, added.property, added.name],
      );
    return names;
  }

  private async columnsOf(table: string): Promise<Map<string, string> | undefined> {
    const reader = await this.connection.runAndReadAll(
      'SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = $1 AND table_name = $2',
      [this.schema, table],
    );
    const rows = reader.getRowObjectsJS();
    if (rows.length === 0) return undefined;
    return new Map(rows.map((row) => [String(row.column_name), String(row.data_type)]));
  }

  /** Queues a stream's buffered rows for its table (upsert by key, or append). */
  private flush(target: StreamTarget): Promise<void> {
    const batch = target.batch;
    if (batch === undefined) return this.serial(async () => {});
    target.batch = undefined;
    const chunk = this.chunk;
    const closed = batch.close();
    return this.serial(async () => {
      try {
        await closed;
        if (batch.rows > 0) await this.withMemoryFor(batch, () => this.merge(target, batch, chunk));
      } catch (error) {
        const reason = (error as Error).message;
        const hint = /Out of Memory/i.test(reason)
          ? ' Give the load more memory: destination.memory_limit in the pipeline file (e.g. 2GB).'
          : '';
        throw new DestinationLoadError(
          `stream "${target.definition.stream}": DuckDB refused ${batch.describeError(reason)}${hint}`,
          { cause: error },
        );
      } finally {
        await batch.remove();
      }
    });
  }

  private async withMemoryFor(batch: NdjsonBatch, work: () => Promise<void>): Promise<void> {
    const needed =
      DEFAULT_MEMORY_LIMIT_BYTES + LINE_BUFFERS_PER_THREAD * this.memory.threads * batch.maxObjectBytes;
    const raise = this.memory.raisable && batch.maxObjectBytes > DEFAULT_MAX_OBJECT_BYTES;
    if (!raise) return work();
    await run(this.connection, `SET memory_limit = '${Math.ceil(needed / 1024 / 1024)}MB'`);
    try {
      await work();
    } finally {
      await run(this.connection, `SET memory_limit = '${MEMORY_SETTINGS.memory_limit}'`);
    }
  }

  private async merge(target: StreamTarget, batch: NdjsonBatch, chunk: ChunkPosition): Promise<void> {
    const table = qualified(this.schema, target.plan.table);
    const source = batchSource(batch);
    const names = batch.columns.map((column) => quoteIdentifier(column.column));
    const insertColumns = [
      ...names,
      '_tributary_loaded_at',
      '_tributary_run',
      '_tributary_seq',
      '_tributary_version',
    ].join(', ');
    const values = [...names, 'now()', quoteLiteral(chunk.run), String(chunk.seq), '_tributary_version'].join(
      ', ',
    );
    const keys = target.plan.keyColumns.map(quoteIdentifier);
    if (keys.length === 0) {
      const result = await run(
        this.connection,
        `INSERT INTO ${table} (${insertColumns}) SELECT ${values} FROM (${source}) ORDER BY _tributary_pos`,
      );
      target.counts.inserted += Number(result.rowsChanged);
      return;
    }
    // The rows these keys replace go first, found through the batch's small key file; then the rows
    // are inserted straight from the batch files, keeping only a key's last row when it repeats.
    const matches = keys.map((key) => `${table}.${key} IS NOT DISTINCT FROM batch_keys.${key}`).join(' AND ');
    const deleted = await run(
      this.connection,
      `DELETE FROM ${table} USING (${keySource(batch)}) AS batch_keys WHERE ${matches}`,
    );
    const lastOfEachKey = batch.repeatedKey
      ? ` QUALIFY row_number() OVER (PARTITION BY ${keys.join(', ')} ORDER BY _tributary_pos DESC) = 1`
      : '';
    const inserted = await run(
      this.connection,
      `INSERT INTO ${table} (${insertColumns}) SELECT ${values} FROM (${source})${lastOfEachKey}`,
    );
    const updated = Number(deleted.rowsChanged);
    target.counts.updated += updated;
    target.counts.inserted += Number(inserted.rowsChanged) - updated;
  }
}

/** The batch's distinct keys, typed and named as the table's key columns. */
function keySource(batch: NdjsonBatch): string {
  const { keys } = batch.files;
  if (keys === undefined) throw new Error('a keyed batch without its key file');
  const read = batch.keyColumns.map((column, index) => `k${index}: '${duckDbReadType(column.type)}'`);
  const selected = batch.keyColumns.map(
    (column, index) => `CAST(k${index} AS ${duckDbType(column.type)}) AS ${quoteIdentifier(column.column)}`,
  );
  return `SELECT DISTINCT ${selected.join(', ')} FROM read_ndjson(${quoteLiteral(keys)}, columns = {${read.join(', ')}}, format = 'newline_delimited')`;
}

/**
 * A SELECT over a batch's files giving `_tributary_pos`, `_tributary_version` and one typed column
 * per planned column, whichever files the batch has.
 */
function batchSource(batch: NdjsonBatch): string {
  const { fast, exact } = batch.files;
  const parts: string[] = [];
  const options = `format = 'newline_delimited', maximum_object_size = ${batch.maxObjectBytes}`;
  const cast = (expression: string, column: PlannedColumn) =>
    `CAST(${expression} AS ${duckDbType(column.type)}) AS ${quoteIdentifier(column.column)}`;
  if (fast !== undefined) {
    const readType = (column: PlannedColumn) =>
      column.type.kind === 'decimal' && batch.decimalsReadExactly
        ? duckDbType(column.type)
        : duckDbReadType(column.type);
    const fields = batch.columns.map((column) => `${quoteIdentifier(column.property)} ${readType(column)}`);
    const recordType = fields.length === 0 ? 'JSON' : `STRUCT(${fields.join(', ')})`;
    const columns = `{p: 'BIGINT', m: ${quoteLiteral(`STRUCT(version BIGINT, record ${recordType})`)}}`;
    const selected = batch.columns.map((column) =>
      cast(`m.record.${quoteIdentifier(column.property)}`, column),
    );
    parts.push(
      `SELECT ${['p AS _tributary_pos', 'm.version AS _tributary_version', ...selected].join(', ')} FROM read_ndjson(${quoteLiteral(fast)}, columns = ${columns}, ${options})`,
    );
  }
  if (exact !== undefined) {
    const readColumns = [
      `p: 'BIGINT'`,
      `v: 'BIGINT'`,
      ...batch.columns.map((column, index) => `c${index}: '${duckDbReadType(column.type)}'`),
    ];
    const selected = batch.columns.map((column, index) => cast(`c${index}`, column));
    parts.push(
      `SELECT ${['p AS _tributary_pos', 'v AS _tributary_version', ...selected].join(', ')} FROM read_ndjson(${quoteLiteral(exact)}, columns = {${readColumns.join(', ')}}, ${options})`,
    );
  }
  return parts.join(' UNION ALL ');
}
