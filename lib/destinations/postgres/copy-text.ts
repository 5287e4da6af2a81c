/**
 * Rows in PostgreSQL's COPY text format: columns separated by tabs, `\N` for NULL, and backslash,
 * newline, carriage return and tab escaped. (Measured against the binary format for ~1 KB records:
 * text was as fast to produce in Node and simpler to get exactly right.)
 */
import type { PlannedColumn } from '../../columns/column-plan.ts';
import { isExactNumber, stringifyExact } from '../../protocol/exact-json.ts';
import type { RowToLoad } from '../destination.ts';

const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function escapeCopyText(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(/[\\\n\r\t]/g, (char) => ESCAPES[char] ?? char) : text;
}

/**
 * A row's COPY fields from the version on, each after a tab: `\t<version>\t<column>…\n`. The caller
 * puts what goes first in front: the record's position for the temp table, or the chunk's system
 * columns for a COPY straight into the target.
 */
export function copyFields(row: RowToLoad, columns: readonly PlannedColumn[]): string {
  let line = `\t${row.version ?? '\\N'}`;
  const values = row.values;
  const exact = row.exact === true;
  // JSON text holds a backslash, newline, carriage return or tab in a string only as an escape that
  // starts with a backslash: a line without one has none in any string it gave, and a tenth of
  // the COPY text's time went to looking. What JSON.stringify writes is still looked at: it makes
  // escapes of its own (for a lone surrogate, in a line that was never UTF-8).
  const plain = row.raw !== undefined && !row.raw.text.includes('\\');
  for (const column of columns) {
    const value = values[column.property];
    if (value === undefined || value === null) {
      line += '\t\\N';
      continue;
    }
    const text = encode(value, column, exact);
    line += `\t${plain && typeof value !== 'object' && column.type.kind !== 'json' ? text : escapeCopyText(text)}`;
  }
  return `${line}\n`;
}

function encode(value: unknown, column: PlannedColumn, exact: boolean): string {
  if (column.type.kind === 'json') return exact ? stringifyExact(value) : JSON.stringify(value);
  if (typeof value === 'string') return value;
  if (isExactNumber(value)) return value.toString();
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
