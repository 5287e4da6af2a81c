/**
 * The PostgreSQL destination (RDS, Aurora, any server). Each load is one transaction on one pooled
 * connection, holding a transaction-scoped advisory lock on its tap: two taps load side by side, two
 * loads of one tap take turns. Rows are COPYed (text format) straight into the stream's table, with
 * the chunk's system columns on each line. A keyed stream's COPY runs under a savepoint: if a key is
 * already there (a unique violation), the same rows go through a temp table instead and are merged
 * with `INSERT … ON CONFLICT` (the last record of a key wins), and that table keeps taking the merge
 * path until a merge updates nothing. The ledger row goes in the same transaction.
 */
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
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
import { redactUrlsIn } from '../redact-url.ts';
import { RepeatedKeys } from '../repeated-keys.ts';
import { qualified, quoteIdentifier } from '../sql-text.ts';
import { traceSql, tracingSql } from '../sql-trace.ts';
import { StatementQueue } from '../statement-queue.ts';
import { connectionLost } from './connection-lost.ts';
import { CopyBuffer } from './copy-buffer.ts';
import { copyFields, escapeCopyText } from './copy-text.ts';
import { postgresType } from './postgres-types.ts';
import { parsePostgresUrl } from './postgres-url.ts';

export interface PostgresOptions {
  /** Mark rows of replaced versions with `_tributary_deleted_at` instead of deleting them. @default false */
  readonly softDelete?: boolean;
  /** Connections in the pool. @default 4 */
  readonly maxConnections?: number;
  readonly undeclaredProperties?: UndeclaredProperties;
}

const SYSTEM_COLUMNS = [
  '_tributary_loaded_at timestamp with time zone',
  '_tributary_run text',
  '_tributary_seq integer',
  '_tributary_version bigint',
  '_tributary_deleted_at timestamp with time zone',
];
const UNIQUE_VIOLATION = '23505';
const SYSTEM_NAMES = new Set(SYSTEM_COLUMNS.map((column) => column.split(' ')[0]));
/**
 * A stream's COPY buffer is sent once it holds this many bytes; COPY runs while Node goes on. At a
 * chunk's end Node waits for what the server has not yet read, so a smaller buffer makes loads in
 * 5,000-record transactions faster (4 MB: 4.5 s for 200k records, 2 MB: 3.9 s), until each COPY's
 * own round trips cost more than that (1 MB slowed a single load by a tenth). A keyed COPY runs
 * under a savepoint, which is a subtransaction: at 2 MB a 100,000-record transaction of 1 KB records
 * holds about 50, below the 64 PostgreSQL caches per session.
 */
const COPY_BUFFER_BYTES = 2 * 1024 * 1024;
/**
 * COPY buffers that may wait for the server before Node waits for the oldest (at most 16 MB more
 * memory). A merge keeps the server busy for a while (25,000 rows: about a quarter of a second);
 * with 2 allowed, Node stopped after filling two and the server then waited for Node. With 8, Node
 * keeps filling through most of a merge: an upsert of 100,000 records into 1M took 2.58 → 2.38 s
 * (with MERGE_ROWS below); a single load and a load in 5,000-record transactions are unchanged.
 */
const MAX_SENDS_IN_FLIGHT = 8;
/**
 * Rows are merged from the temp table into the target once this many are waiting. The merge queued
 * at a transaction's end cannot overlap Node's work, so smaller merges leave less of it: 50,000 →
 * 25,000 took an upsert of 100,000 from 2.58 to 2.47 s.
 */
const MERGE_ROWS = 25_000;
/**
 * The system columns each COPY line starts with, in order, whether it goes straight into the target
 * or through the temp table: a buffer is written before it is known which way it goes.
 */
const LINE_COLUMNS = ['_tributary_loaded_at', '_tributary_run', '_tributary_seq', '_tributary_version'];

export class PostgresConnectionError extends Error {
  override readonly name = 'PostgresConnectionError';
}

export class PostgresDestination implements Destination {
  readonly description: string;
  readonly undeclaredProperties: UndeclaredProperties;
  /**
   * Keyed tables where a direct COPY met a key already there: their rows go through the merge until
   * a merge updates nothing, so an upsert-heavy stream pays for one refused COPY, not one per buffer.
   */
  private readonly mergeFirst = new Set<string>();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly ledgerTable: string,
    /** The table and column names given to each tap's streams (warehouse-names.ts). */
    private readonly namesTable: string,
    private readonly schemaFor: (tap: string) => string,
    private readonly options: PostgresOptions,
    private readonly serverVersion: number,
    redacted: string,
  ) {
    this.description = redacted;
    this.undeclaredProperties = options.undeclaredProperties ?? 'keep';
  }

  /** @example const warehouse = await PostgresDestination.open(process.env.PGURL); */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresDestination> {
    const location = parsePostgresUrl(url);
    const pool = new pg.Pool({
      connectionString: location.connectionString,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: 15_000,
      application_name: 'tributary',
    });
    // An idle client that loses its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    // Errors of a broken connection arrive on the client too; the statement under way reports them.
    // Once per connection: a listener per transaction on a pooled client piles up in a warm Lambda.
    pool.on('connect', (client) => client.on('error', () => {}));
    const prefix =
      location.schemaPrefix === undefined ? undefined : sanitizeIdentifier(location.schemaPrefix);
    const ledgerSchema = prefix ?? 'public';
    const ledgerTable = qualified(ledgerSchema, '_tributary_chunks');
    const namesTable = qualified(ledgerSchema, '_tributary_names');
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      await pool.end().catch(() => {});
      throw connectionError(location.redacted, error);
    }
    let serverVersion = 0;
    try {
      serverVersion = Number(
        (await client.query(`SELECT current_setting('server_version_num') AS v`)).rows[0]?.v,
      );
      await client.query('BEGIN');
      // Two processes creating the ledger at once would collide in the catalog.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('tributary:ledger'))`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(ledgerSchema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${ledgerTable} (tap text NOT NULL, run text NOT NULL, seq integer NOT NULL, bookmark jsonb, records bigint NOT NULL, counts jsonb NOT NULL, loaded_at timestamp with time zone NOT NULL, PRIMARY KEY (tap, run, seq))`,
      );
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${namesTable} (tap text NOT NULL, stream text NOT NULL, kind text NOT NULL, property text NOT NULL, name text NOT NULL, PRIMARY KEY (tap, stream, kind, property))`,
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw new PostgresConnectionError(
        `${location.redacted}: cannot create the ledger table ${ledgerTable}: ${(error as Error).message}`,
        { cause: error },
      );
    } finally {
      client.release();
    }
    const schemaFor = (tap: string) => sanitizeIdentifier(prefix === undefined ? tap : `${prefix}_${tap}`);
    return new PostgresDestination(
      pool,
      ledgerTable,
      namesTable,
      schemaFor,
      options,
      serverVersion,
      location.redacted,
    );
  }

  async begin(tap: string): Promise<LoadTransaction> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw connectionError(this.description, error);
    }
    let loadedAt: string;
    try {
      await client.query('BEGIN');
      await client.query("SET LOCAL TimeZone = 'UTC'");
      // The transaction's start time (now()) stamps every row, as the merge's now() does.
      const started = await client.query('SELECT pg_advisory_xact_lock(hashtext($1)), now()::text AS now', [
        `tributary:tap:${tap}`,
      ]);
      loadedAt = String(started.rows[0]?.now);
    } catch (error) {
      client.release(true);
      throw connectionError(this.description, error);
    }
    return new PostgresLoad(
      client,
      tap,
      loadedAt,
      this.mergeFirst,
      this.schemaFor(tap),
      this.ledgerTable,
      this.namesTable,
      { ...this.options, serverVersion: this.serverVersion },
      this.description,
    );
  }

  async ledger(tap: string): Promise<LedgerEntry[]> {
    const result = await this.pool.query(
      `SELECT run, seq, bookmark::text AS bookmark, records, counts FROM ${this.ledgerTable} WHERE tap = $1 ORDER BY run, seq`,
      [tap],
    );
    return result.rows.map((row) => ({
      tap,
      run: String(row.run),
      seq: Number(row.seq),
      bookmark: exactBookmark(row.bookmark),
      records: Number(row.records),
      counts: row.counts,
    }));
  }

  /** Runs a query (status, tests). */
  async query(sql: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
    return (await this.pool.query(sql, values)).rows;
  }

  /** The schema a tap's tables go in. */
  schemaOf(tap: string): string {
    return this.schemaFor(tap);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

interface StreamTarget {
  readonly definition: StreamDefinition;
  readonly plan: ColumnPlan;
  /** The stream's table, qualified and quoted. */
  readonly table: string;
  /** Every column the table has now (name → type), so an upsert can clear the ones this schema lacks. */
  readonly tableColumns: ReadonlyMap<string, string>;
  /** The temp table rows go through to be merged, created when a buffer first needs it. */
  readonly temp: string;
  tempCreated: boolean;
  /** COPY lines (the system columns, then `copyFields`) and each one's position in its chunk. */
  readonly buffer: CopyBuffer;
  /** Rows copied into the temp table and not yet merged. */
  staged: number;
  /** Rows handed to COPY since the last merge was queued. */
  queued: number;
  /** Whether a key repeats since the last merge (keyed streams), to skip the dedup sort when none does. */
  readonly keys: RepeatedKeys | undefined;
  counts: StreamLoadCounts;
}

class PostgresLoad implements LoadTransaction {
  private readonly streams = new Map<string, StreamTarget>();
  private temps = 0;
  private chunk: ChunkPosition = { run: '', seq: 0 };
  /** The system columns every line of this chunk starts with (see LINE_COLUMNS); a buffer never spans chunks. */
  private linePrefix = '';
  private readonly statements = new StatementQueue();
  private finished = false;
  private broken = false;
  /**
   * Whether the savepoint a keyed COPY runs under is set (left set after the COPY: what follows in
   * the transaction runs inside it, harmlessly, until the next keyed COPY releases and sets it again).
   */
  private savepointSet = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly tap: string,
    /** `now()` of this transaction, as COPY text. */
    private readonly loadedAt: string,
    private readonly mergeFirst: Set<string>,
    private readonly schema: string,
    private readonly ledgerTable: string,
    private readonly namesTable: string,
    private readonly options: PostgresOptions & { readonly serverVersion: number },
    private readonly where: string,
  ) {}

  /** The stream's table and columns, recording any name given now in this transaction. */
  private async namesFor(definition: StreamDefinition): Promise<StreamNames> {
    const result = await this.sql(
      `SELECT kind, stream, property, name FROM ${this.namesTable} WHERE tap = $1`,
      [this.tap],
    );
    const recorded = recordedNamesOf(
      result.rows as { kind: string; stream: string; property: string; name: string }[],
    );
    const properties = Object.keys((definition.schema.properties ?? {}) as Record<string, unknown>);
    const names = streamNamesFor(definition.stream, properties, recorded);
    for (const added of names.added)
      await this.sql(
        `INSERT INTO ${this.namesTable} (tap, stream, kind, property, name) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [this.tap, added.stream, added.kind, added.property, added.name],
      );
    return names;
  }

  loaded(position: ChunkPosition): Promise<{ readonly bookmark: unknown } | undefined> {
    return this.serial(async () => {
      const result = await this.sql(
        `SELECT bookmark::text AS bookmark FROM ${this.ledgerTable} WHERE tap = $1 AND run = $2 AND seq = $3`,
        [this.tap, position.run, position.seq],
      );
      const row = result.rows[0];
      return row === undefined ? undefined : { bookmark: exactBookmark(row.bookmark) };
    });
  }

  ledgerIsEmpty(): Promise<boolean> {
    return this.serial(async () => {
      const result = await this.sql(`SELECT 1 FROM ${this.ledgerTable} WHERE tap = $1 LIMIT 1`, [this.tap]);
      return result.rows.length === 0;
    });
  }

  startChunk(position: ChunkPosition): void {
    this.chunk = position;
    this.linePrefix = `${this.loadedAt}\t${escapeCopyText(position.run)}\t${position.seq}`;
  }

  async defineStream(definition: StreamDefinition): Promise<void> {
    const known = this.streams.get(definition.stream);
    // Each chunk repeats its streams' SCHEMA: the same one again changes nothing, and must not wait.
    if (known !== undefined && sameDefinition(known.definition, definition)) return;
    if (known !== undefined) await this.flush(known);
    const target = await this.serial(async () => {
      await this.sql(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(this.schema)}`);
      const names = await this.namesFor(definition);
      const tableName = names.table;
      const table = qualified(this.schema, tableName);
      const existing = await this.columnsOf(table);
      const plan = planColumns(definition, existing, postgresType, names);
      if (existing === undefined) {
        const columns = plan.columns.map(
          (column) => `${quoteIdentifier(column.column)} ${postgresType(column.type)}`,
        );
        await this.sql(`CREATE TABLE ${table} (${[...columns, ...SYSTEM_COLUMNS].join(', ')})`);
      } else {
        for (const column of plan.additions) {
          await this.sql(
            `ALTER TABLE ${table} ADD COLUMN ${quoteIdentifier(column.column)} ${postgresType(column.type)}`,
          );
        }
      }
      if (plan.keyColumns.length > 0) {
        // ON CONFLICT needs a unique index on exactly the key columns; NULLS NOT DISTINCT so a null key
        // part still matches itself (PostgreSQL 15+).
        const index = sanitizeIdentifier(`${tableName}_tributary_key_${plan.keyColumns.join('_')}`);
        const nullsNotDistinct = this.options.serverVersion >= 150000 ? ' NULLS NOT DISTINCT' : '';
        await this.sql(
          `CREATE UNIQUE INDEX IF NOT EXISTS ${quoteIdentifier(index)} ON ${table} (${plan.keyColumns.map(quoteIdentifier).join(', ')})${nullsNotDistinct}`,
        );
      }
      const tableColumns = new Map([
        ...(existing ?? []),
        ...plan.additions.map((column) => [column.column, postgresType(column.type)] as const),
      ]);
      return {
        definition,
        plan,
        table,
        tableColumns,
        temp: `_tributary_batch_${this.temps++}`,
        tempCreated: false,
        buffer: new CopyBuffer(COPY_BUFFER_BYTES + 256 * 1024),
        staged: 0,
        queued: 0,
        keys: plan.keyColumns.length > 0 ? new RepeatedKeys(definition.keyProperties) : undefined,
        counts: known?.counts ?? emptyCounts(),
      } satisfies StreamTarget;
    });
    this.streams.set(definition.stream, target);
  }

  write(stream: string, row: RowToLoad): Promise<void> | undefined {
    this.statements.throwIfFailed();
    const target = this.target(stream);
    if (this.linePrefix === '') throw new Error('write before startChunk');
    target.buffer.append(row.position, this.linePrefix, copyFields(row, target.plan.columns));
    target.keys?.note(row.values, () => keyText(row, target.definition.keyProperties));
    if (target.buffer.bytes < COPY_BUFFER_BYTES) return undefined;
    // COPY and merges run in the background while Node goes on; a failure is kept in `failure`
    // and thrown by the next call. Node waits only when PostgreSQL falls behind.
    this.sendBuffer(target).catch(() => {});
    if (target.queued >= MERGE_ROWS) this.flush(target).catch(() => {});
    return this.waitIfBehind();
  }

  async activateVersion(stream: string, version: number): Promise<void> {
    const target = this.target(stream);
    await this.flush(target);
    await this.serial(async () => {
      const table = target.table;
      const result = this.options.softDelete
        ? await this.sql(
            `UPDATE ${table} SET _tributary_deleted_at = now() WHERE _tributary_version IS DISTINCT FROM $1 AND _tributary_deleted_at IS NULL`,
            [version],
          )
        : await this.sql(`DELETE FROM ${table} WHERE _tributary_version IS DISTINCT FROM $1`, [version]);
      target.counts.deleted += result.rowCount ?? 0;
    });
  }

  finishChunk(chunk: {
    readonly bookmark: unknown;
    readonly records: number;
  }): Promise<Record<string, StreamLoadCounts>> {
    // Everything of this chunk is queued before this returns (its counts are the ones its statements
    // add up), so the caller may go on to the next chunk while the server finishes this one.
    // A failed flush is the queue's `failure`: the ledger row queued next is refused with it.
    for (const target of this.streams.values()) this.flush(target).catch(nothing);
    const position = this.chunk;
    return this.serial(async () => {
      const counts = countsByStream(this.streams.values());
      await this.sql(
        `INSERT INTO ${this.ledgerTable} (tap, run, seq, bookmark, records, counts, loaded_at) VALUES ($1, $2, $3, $4, $5, $6, now())`,
        ledgerValues(this.tap, position, chunk, counts),
      );
      for (const target of this.streams.values()) target.counts = emptyCounts();
      return counts;
    });
  }

  async commit(): Promise<void> {
    try {
      await this.serial(async () => {
        await this.sql('COMMIT');
      });
    } finally {
      this.finish();
    }
  }

  async rollback(): Promise<void> {
    try {
      await this.statements.settled();
      if (!this.broken) await this.client.query('ROLLBACK');
    } catch {
      this.broken = true;
    } finally {
      this.finish();
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    // A connection that failed is thrown away rather than handed to the next load.
    this.client.release(this.broken || this.statements.failure !== undefined ? true : undefined);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    return this.statements.run(work);
  }

  /**
   * The COPY buffers handed over and not yet sent, oldest first. Node waits for the oldest while more
   * than MAX_SENDS_IN_FLIGHT wait, so memory stays bounded when the server is slow, and the server
   * always has the next buffer ready (waiting for all of them left it idle while Node filled one).
   */
  private readonly inFlight: Promise<void>[] = [];
  private async waitIfBehind(): Promise<void> {
    while (this.inFlight.length > MAX_SENDS_IN_FLIGHT) await this.inFlight.shift();
    this.statements.throwIfFailed();
  }

  private sendBuffer(target: StreamTarget): Promise<void> {
    if (target.buffer.rows === 0) return this.serial(async () => {});
    const lines = target.buffer.take();
    target.queued += lines.positions.length;
    const repeatsKey = target.keys?.repeated === true;
    const sent = this.serial(async () => {
      const direct = await this.copyDirect(target, lines, repeatsKey);
      if (direct === 'needs merge') await this.copyToTemp(target, lines);
    });
    // Its failure is the statement queue's to report (`failure`); this only tells when it is done.
    this.inFlight.push(sent.then(nothing, nothing));
    return sent;
  }

  /**
   * COPYs a buffer straight into the stream's table, where that keeps "the last record of a key
   * wins": always for an unkeyed stream; for a keyed one only when no earlier row of this load waits
   * in the temp table (it would be merged over these later ones), no key repeats in the buffer, and
   * under a savepoint, so a key already in the table sends the buffer to the merge instead.
   */
  private async copyDirect(
    target: StreamTarget,
    lines: CopiedLines,
    repeatsKey: boolean,
  ): Promise<'copied' | 'needs merge'> {
    const keyed = target.plan.keyColumns.length > 0;
    if (keyed && (target.staged > 0 || repeatsKey || this.mergeFirst.has(target.table))) return 'needs merge';
    const statement = `COPY ${target.table} (${lineColumns(target)}) FROM STDIN`;
    const doing = `COPY into stream "${target.definition.stream}"`;
    const rows = lines.positions.length;
    if (!keyed) {
      await this.copy(statement, doing, lines);
      target.counts.inserted += rows;
      return 'copied';
    }
    // The previous keyed COPY's savepoint is released in the same round trip that sets this one's
    // (a simple query: no parameters), so one subtransaction is open at a time and each COPY costs
    // one round trip more, not two: 600 fewer for 1M records, on a server across a network as many ms.
    await this.sql(
      this.savepointSet
        ? 'RELEASE SAVEPOINT tributary_copy; SAVEPOINT tributary_copy'
        : 'SAVEPOINT tributary_copy',
    );
    this.savepointSet = true;
    try {
      await this.copy(statement, doing, lines);
    } catch (error) {
      if ((error as { cause?: { code?: unknown } }).cause?.code !== UNIQUE_VIOLATION) throw error;
      await this.sql('ROLLBACK TO SAVEPOINT tributary_copy');
      this.mergeFirst.add(target.table);
      return 'needs merge';
    }
    target.counts.inserted += rows;
    return 'copied';
  }

  /**
   * COPYs a buffer into the temp table, the same lines as for the target. `_tributary_pos` numbers
   * the rows in the order COPY reads them, which is the order they were written: the merge keeps the
   * last row of a key by it.
   */
  private async copyToTemp(target: StreamTarget, lines: CopiedLines): Promise<void> {
    const temp = quoteIdentifier(target.temp);
    if (!target.tempCreated) {
      const columns = target.plan.columns.map(
        (column) => `, ${quoteIdentifier(column.column)} ${postgresType(column.type)}`,
      );
      await this.sql(
        `CREATE TEMP TABLE ${temp} (_tributary_pos bigint GENERATED ALWAYS AS IDENTITY, _tributary_loaded_at timestamp with time zone, _tributary_run text, _tributary_seq integer, _tributary_version bigint${columns.join('')}) ON COMMIT DROP`,
      );
      target.tempCreated = true;
    }
    await this.copy(
      `COPY ${temp} (${lineColumns(target)}) FROM STDIN`,
      `COPY into stream "${target.definition.stream}"`,
      lines,
    );
    target.staged += lines.positions.length;
  }

  private async copy(statement: string, doing: string, lines: CopiedLines): Promise<void> {
    const started = tracingSql ? performance.now() : 0;
    let stream: ReturnType<typeof copyFrom>;
    try {
      stream = this.client.query(copyFrom(statement));
    } catch (error) {
      throw this.explain(error, doing); // a closed connection refuses at once
    }
    try {
      await new Promise<void>((resolve, reject) => {
        stream.on('error', (error: Error) => reject(this.explain(error, doing, lines.positions)));
        stream.on('finish', () => resolve());
        stream.end(lines.data);
      });
    } finally {
      if (tracingSql) traceSql(started, statement);
    }
  }

  /**
   * Sends what is buffered and merges the temp table into the target table. Both are queued before
   * this returns, so whatever is written after (the next chunk's rows) goes after them.
   */
  private flush(target: StreamTarget): Promise<void> {
    // A failed send is the queue's `failure`: the merge queued next is refused with it.
    this.sendBuffer(target).catch(nothing);
    target.queued = 0;
    const deduplicate = target.keys?.repeated === true;
    target.keys?.clear();
    return this.serial(async () => {
      if (target.staged === 0) return;
      const updated = await this.merge(target, deduplicate);
      await this.sql(`TRUNCATE ${quoteIdentifier(target.temp)}`);
      target.staged = 0;
      // Nothing there to update (and no key repeated): the keys are new again, worth a direct COPY.
      if (updated === 0 && !deduplicate) this.mergeFirst.delete(target.table);
    });
  }

  /** Merges the temp table into a keyed stream's table; resolves to the rows it updated. */
  private async merge(target: StreamTarget, deduplicate: boolean): Promise<number> {
    const table = target.table;
    const names = target.plan.columns.map((column: PlannedColumn) => quoteIdentifier(column.column));
    const insertColumns = [
      ...names,
      '_tributary_loaded_at',
      '_tributary_run',
      '_tributary_seq',
      '_tributary_version',
    ];
    const values = [
      ...names,
      '_tributary_loaded_at',
      '_tributary_run',
      '_tributary_seq',
      '_tributary_version',
    ];
    const temp = quoteIdentifier(target.temp);
    const keys = target.plan.keyColumns.map(quoteIdentifier);
    // The record replaces the row: columns this schema does not have (an old type's column) are cleared.
    const planned = new Set(target.plan.columns.map((column) => column.column));
    const keySet = new Set(target.plan.keyColumns);
    const updates = [
      ...target.plan.columns
        .filter((column) => !keySet.has(column.column))
        .map((column) => `${quoteIdentifier(column.column)} = EXCLUDED.${quoteIdentifier(column.column)}`),
      ...[...target.tableColumns.keys()]
        .filter((column) => !planned.has(column) && !SYSTEM_NAMES.has(column))
        .map((column) => `${quoteIdentifier(column)} = NULL`),
      ...['_tributary_loaded_at', '_tributary_run', '_tributary_seq', '_tributary_version'].map(
        (column) => `${column} = EXCLUDED.${column}`,
      ),
      '_tributary_deleted_at = NULL',
    ];
    const result = await this.sql(
      `WITH upserted AS (INSERT INTO ${table} (${insertColumns.join(', ')}) SELECT ${deduplicate ? `DISTINCT ON (${keys.join(', ')}) ` : ''}${values.join(', ')} FROM ${temp}${deduplicate ? ` ORDER BY ${keys.join(', ')}, _tributary_pos DESC` : ''} ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${updates.join(', ')} RETURNING (xmax = 0) AS inserted) SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM upserted`,
    );
    const updated = Number(result.rows[0]?.updated ?? 0);
    target.counts.inserted += Number(result.rows[0]?.inserted ?? 0);
    target.counts.updated += updated;
    return updated;
  }

  private async columnsOf(table: string): Promise<Map<string, string> | undefined> {
    const result = await this.sql(
      'SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum',
      [table],
    );
    if (result.rows.length === 0) return undefined;
    return new Map(result.rows.map((row) => [String(row.name), String(row.type)]));
  }

  private target(stream: string): StreamTarget {
    const target = this.streams.get(stream);
    if (target === undefined) throw new Error(`stream "${stream}" was written before its SCHEMA was defined`);
    return target;
  }

  private async sql(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    const started = tracingSql ? performance.now() : 0;
    try {
      return await this.client.query(text, values);
    } catch (error) {
      throw this.explain(error, text.slice(0, 80));
    } finally {
      if (tracingSql) traceSql(started, text);
    }
  }

  private explain(error: unknown, doing: string, positions?: readonly number[]): Error {
    if (connectionLost(error)) {
      this.broken = true;
      return new PostgresConnectionError(
        `${this.where}: the connection failed during ${doing}: ${(error as Error).message}. Nothing of this load was committed; run again to retry it.`,
        { cause: error },
      );
    }
    // COPY names the line of its own input; `positions` holds each line's record position in the chunk.
    const line = /COPY [^,]+, line (\d+)/.exec(String((error as { where?: string }).where ?? ''))?.[1];
    const position = line === undefined ? undefined : positions?.[Number(line) - 1];
    const record = position === undefined ? '' : `record ${position} of the chunk: `;
    return new DestinationLoadError(`${doing}: PostgreSQL refused ${record}${(error as Error).message}`, {
      cause: error,
    });
  }
}

function connectionError(where: string, error: unknown): PostgresConnectionError {
  const code = (error as { code?: string }).code;
  const hint =
    code === '28P01' || code === '28000'
      ? ' Check the user name and password in the destination URL.'
      : code === '3D000'
        ? ' The database does not exist: create it or fix the URL.'
        : code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT'
          ? ' Is the server running and reachable at that host and port?'
          : '';
  return new PostgresConnectionError(
    `cannot connect to ${where}: ${redactUrlsIn((error as Error).message)}.${hint}`,
    { cause: error },
  );
}

/** A ledger bookmark read as text: jsonb keeps numbers exact, and so must we (the driver parses doubles). */
function exactBookmark(text: unknown): unknown {
  return typeof text === 'string' ? (parseJsonExactly(text) ?? undefined) : undefined;
}

/** A buffer handed to COPY. */
interface CopiedLines {
  readonly data: Buffer;
  readonly positions: readonly number[];
}

function lineColumns(target: StreamTarget): string {
  return [...LINE_COLUMNS, ...target.plan.columns.map((column) => column.column)]
    .map(quoteIdentifier)
    .join(', ');
}

function keyText(row: RowToLoad, keyProperties: readonly string[]): string {
  return keyProperties.map((property) => JSON.stringify(row.values[property] ?? null)).join(',');
}

function nothing(): void {}
