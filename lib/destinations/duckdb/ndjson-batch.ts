/**
 * A stream's rows for one load, as newline-delimited JSON files that DuckDB reads in parallel with
 * `read_ndjson`. Two files, because DuckDB's JSON reader takes every in-range number through a double:
 * - `fast`: the original message line, wrapped as `{"p":<position>,"m":<line>}`: no re-encoding at
 *   all, DuckDB extracts `m.record` as a typed STRUCT. Used when every number in the line is exact as a
 *   double (the parser flags the others). Its decimals are read as DECIMAL straight from the number
 *   when every one in the batch survives the reader's double (see `decimalsReadExactly`), else as
 *   their text and cast.
 * - `exact`: values re-encoded by position (`c0`, `c1`, ...), decimals as strings, for rows that hold
 *   numbers a double cannot (integers beyond 2^53, long decimals), or that have no line.
 */

import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { PlannedColumn } from '../../columns/column-plan.ts';
import { isExactNumber, stringifyExact } from '../../protocol/exact-json.ts';
import { Utf8Pieces } from '../../text/utf8-pieces.ts';
import type { RowToLoad } from '../destination.ts';
import { RepeatedKeys } from '../repeated-keys.ts';

/** DuckDB's default line limit; raised per batch only when a line needs it (a large limit is slow). */
export const DEFAULT_MAX_OBJECT_BYTES = 16 * 1024 * 1024;

export class NdjsonBatch {
  rows = 0;
  /** The `maximum_object_size` this batch needs: DuckDB's default, or more for a larger line. */
  maxObjectBytes = DEFAULT_MAX_OBJECT_BYTES;
  private fast: BatchFile | undefined;
  private exact: BatchFile | undefined;
  /**
   * DuckDB's STRUCT field names ignore case, so a record with both `Id` and `id` cannot be read as one:
   * such streams take the exact path, which reads values by position.
   */
  private readonly fastAllowed: boolean;
  /** The chunk position of each row, by file line: an error DuckDB gives by line maps back to a record. */
  private readonly fastPositions: number[] = [];
  private readonly exactPositions: number[] = [];

  /**
   * For a keyed stream, each row's key values (`k0`, `k1`, …) in a small file of their own: the merge
   * deletes the rows these keys replace by reading it, and inserts straight from the batch files.
   */
  private keys: BatchFile | undefined;
  private readonly keysNoted: RepeatedKeys;

  /**
   * Whether DuckDB can read this batch's fast-file decimals as DECIMAL straight from the number, which
   * costs it a third less than reading their text and casting. The reader takes a number through the
   * nearest double and rounds that to the column's scale: exact for a value with at most `scale`
   * places whose scaled magnitude is below 2^50, as nothing there lies near a rounding boundary.
   * Values reaching here have at most `scale` places (the warehouse checks refuse the others), so
   * only the magnitude is left to check, row by row.
   */
  decimalsReadExactly = true;
  private readonly decimalColumns: readonly { readonly property: string; readonly limit: number }[];

  constructor(
    private readonly pathPrefix: string,
    readonly columns: readonly PlannedColumn[],
    readonly keyColumns: readonly PlannedColumn[] = [],
  ) {
    this.keysNoted = new RepeatedKeys(keyColumns.map((column) => column.property));
    this.fastAllowed =
      new Set(columns.map((column) => column.property.toLowerCase())).size === columns.length;
    this.decimalColumns = columns.flatMap((column) =>
      column.type.kind === 'decimal'
        ? [{ property: column.property, limit: 2 ** 50 / 10 ** column.type.scale }]
        : [],
    );
  }

  /** Whether some key appears twice in this batch, so the merge must keep only a key's last row. */
  get repeatedKey(): boolean {
    return this.keysNoted.repeated;
  }

  /** The files written, by kind. */
  get files(): { readonly fast?: string; readonly exact?: string; readonly keys?: string } {
    return {
      ...(this.fast === undefined ? {} : { fast: this.fast.path }),
      ...(this.exact === undefined ? {} : { exact: this.exact.path }),
      ...(this.keys === undefined ? {} : { keys: this.keys.path }),
    };
  }

  /** Writes a row: a promise only when a file is behind and the caller must wait for it. */
  write(row: RowToLoad): Promise<void> | undefined {
    this.rows += 1;
    const keyWritten = this.keyColumns.length > 0 ? this.writeKey(row) : undefined;
    const rowWritten = this.writeRow(row);
    if (keyWritten === undefined) return rowWritten;
    return rowWritten === undefined ? keyWritten : Promise.all([keyWritten, rowWritten]).then(() => {});
  }

  private writeRow(row: RowToLoad): Promise<void> | undefined {
    if (row.raw !== undefined && this.fastAllowed) {
      this.fast ??= new BatchFile(`${this.pathPrefix}.fast.ndjson`);
      this.fastPositions.push(row.position);
      if (this.decimalsReadExactly) this.checkDecimals(row);
      const prefix = `{"p":${row.position},"m":`;
      const line = row.raw.utf8 ?? row.raw.text;
      // A string's UTF-8 takes at most 3 bytes for each of its UTF-16 units.
      const most = prefix.length + (typeof line === 'string' ? line.length * 3 : line.length) + 2;
      if (most > this.maxObjectBytes) this.raiseLineLimit(prefix.length + Buffer.byteLength(line) + 2);
      this.fast.append(prefix);
      this.fast.append(line);
      this.fast.append('}\n');
      return this.fast.endLine();
    }
    let line = `{"p":${row.position}`;
    if (row.version !== undefined) line += `,"v":${row.version}`;
    const values = row.values;
    for (let index = 0; index < this.columns.length; index += 1) {
      const column = this.columns[index] as PlannedColumn;
      const value = values[column.property];
      if (value === undefined || value === null) continue;
      line += `,"c${index}":${encode(value, column, row.exact === true)}`;
    }
    line += '}\n';
    if (line.length * 3 > this.maxObjectBytes) this.raiseLineLimit(Buffer.byteLength(line));
    this.exact ??= new BatchFile(`${this.pathPrefix}.exact.ndjson`);
    this.exactPositions.push(row.position);
    this.exact.append(line);
    return this.exact.endLine();
  }

  private checkDecimals(row: RowToLoad): void {
    for (const { property, limit } of this.decimalColumns) {
      const value = row.values[property];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'number' || !(Math.abs(value) < limit)) {
        this.decimalsReadExactly = false;
        return;
      }
    }
  }

  private writeKey(row: RowToLoad): Promise<void> | undefined {
    let line = '{';
    for (let index = 0; index < this.keyColumns.length; index += 1) {
      const column = this.keyColumns[index] as PlannedColumn;
      const value = row.values[column.property];
      const text = value === undefined || value === null ? 'null' : encode(value, column, row.exact === true);
      line += `${index === 0 ? '' : ','}"k${index}":${text}`;
    }
    line += '}';
    this.keysNoted.note(row.values, line);
    this.keys ??= new BatchFile(`${this.pathPrefix}.keys.ndjson`);
    this.keys.append(line);
    this.keys.append('\n');
    return this.keys.endLine();
  }

  /**
   * DuckDB's message about this batch, in the chunk's terms: the record it names (by its position in
   * the chunk) instead of a temporary file and line, without advice about reader options.
   */
  describeError(message: string): string {
    const match = /in file "([^"]+)", in line (\d+)/.exec(message);
    let where = '';
    if (match?.[1] !== undefined && match[2] !== undefined) {
      const positions = match[1].endsWith('.fast.ndjson') ? this.fastPositions : this.exactPositions;
      const position = positions[Number(match[2]) - 1];
      if (position !== undefined) where = `record ${position} of the chunk: `;
    }
    const reason = message
      .split('\n')
      .filter(
        (line) => !/^\s*(Try setting|If this error occurred|LINE \d+:|\^)/.test(line) && line.trim() !== '',
      )
      .join(' ')
      .replace(/ in file "[^"]+", in line \d+/, '')
      .replace(/\/[^\s"']*tributary-duckdb-[^\s"']*/g, '(batch)');
    return `${where}${reason}`;
  }

  /** Lets DuckDB read a line of this many bytes in this batch. */
  private raiseLineLimit(bytes: number): void {
    this.maxObjectBytes = Math.max(this.maxObjectBytes, bytes + 1024);
  }

  async close(): Promise<void> {
    await this.fast?.close();
    await this.exact?.close();
    await this.keys?.close();
  }

  async remove(): Promise<void> {
    await this.fast?.remove();
    await this.exact?.remove();
    await this.keys?.remove();
  }
}

/**
 * One of a batch's files. Lines are gathered as UTF-8 into pieces of 256 KB before they reach the
 * stream: a write per line costs a Buffer and a slot in the stream's queue each, which was a tenth
 * of a load's time. A record's original line is copied in as the bytes it was read as; encoding it
 * again from its text (and first flattening the text gathered) was another tenth.
 */
class BatchFile {
  private readonly output: WriteStream;
  private readonly lines: Utf8Pieces;
  private failure: Error | undefined;

  constructor(readonly path: string) {
    const output = createWriteStream(path, { highWaterMark: 1 << 20 });
    this.output = output;
    this.lines = new Utf8Pieces(PIECE_BYTES, (piece) => output.write(piece));
    // Kept for the next call to throw: an 'error' event without a listener would end the process.
    this.output.on('error', (error) => {
      this.failure ??= error;
    });
  }

  /** Adds to the line being written; `endLine` ends it. */
  append(part: string | Buffer): void {
    this.lines.add(part);
  }

  /**
   * Ends a line: a promise only when the file's stream is behind and the caller must wait, or it
   * failed (rejected, never thrown: a row's key line and its row line are waited for together).
   */
  endLine(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.output.writableNeedDrain ? this.drained() : undefined;
  }

  private async drained(): Promise<void> {
    await once(this.output, 'drain');
  }

  async close(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.output.closed) return;
    this.lines.flush();
    this.output.end();
    await once(this.output, 'close');
    if (this.failure !== undefined) throw this.failure;
  }

  async remove(): Promise<void> {
    this.lines.clear();
    if (!this.output.closed) {
      this.output.destroy();
      await once(this.output, 'close').catch(() => {});
    }
    await rm(this.path, { force: true });
  }
}

const PIECE_BYTES = 256 * 1024;

function encode(value: unknown, column: PlannedColumn, exact: boolean): string {
  switch (column.type.kind) {
    case 'decimal':
      // As text: DuckDB's JSON reader would round a decimal through a double.
      return JSON.stringify(isExactNumber(value) ? value.toString() : String(value));
    case 'json':
      return exact ? stringifyExact(value) : JSON.stringify(value);
    default:
      return isExactNumber(value) ? value.toString() : JSON.stringify(value);
  }
}
