import { maxOf } from './extent.js';

/**
 * Rows of cells as aligned text lines: each column as wide as its longest cell, two spaces
 * between columns, the columns in `rightAligned` padded on the left. The first row is
 * usually the header.
 */
export function formatTable(rows: ReadonlyArray<readonly string[]>, rightAligned: ReadonlySet<number> = new Set()): string[] {
  const columns = maxOf(rows.map((row) => row.length));
  const widths = Array.from({ length: Math.max(0, columns) }, (_, c) => Math.max(0, maxOf(rows.map((row) => (row[c] ?? '').length))));
  return rows.map((row) =>
    row
      .map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}
