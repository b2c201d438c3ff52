/** The closing table of `pnpm bench`. */

export interface Result {
  readonly name: string;
  readonly size: string;
  readonly lines: number;
  readonly seconds?: number | undefined;
  readonly rate?: number | undefined;
  readonly mbPerSecond?: number | undefined;
  readonly rssMb?: number | undefined;
  /** lines/s over the baseline's lines/s (set when printed). */
  ratio?: number;
  readonly note?: string;
  readonly failed?: boolean;
  readonly extra?: ReadonlyArray<readonly [string, string]>;
}

const HEADER = ['measurement', 'size', 'lines', 'lines/s', 'MB/s', 'peak RSS MB', 'x newline', 'seconds', 'note'];

function num(n: number | undefined, digits = 0): string {
  return n === undefined ? '' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function formatTable(results: readonly Result[]): string {
  const rows = results.map((r) => [
    r.name,
    r.size,
    num(r.lines),
    num(r.rate),
    num(r.mbPerSecond, 1),
    num(r.rssMb, 0),
    num(r.ratio, 3),
    num(r.seconds, 2),
    r.note ?? (r.extra?.find(([k]) => k === 'accounting') ? `accounting ${r.extra.find(([k]) => k === 'accounting')![1]}` : ''),
  ]);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const fmt = (row: string[]): string =>
    row.map((cell, i) => (i === 0 || i === 1 || i === row.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [fmt(HEADER), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}
