/** Rows as aligned columns for a terminal: numbers to the right, words to the left. */
export function textTable(
  rows: readonly (readonly string[])[],
  rightAligned: (column: number) => boolean,
): string[] {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) =>
        rightAligned(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd(),
  );
}
