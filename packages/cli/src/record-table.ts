/**
 * A short human table of the first records, shown instead of binary Arrow when
 * stdout is a terminal and no `--to` was given.
 */
import type { DictColumn, RecordBatch } from '@alf/parser';
import { terminalSafe } from './terminal-text.ts';

export const TABLE_ROWS = 20;

interface Row { ts: string; ip: string; method: string; status: string; bytes: string; path: string }

function text(col: DictColumn, i: number): string {
  const id = col.ids[i]!;
  return id < 0 ? '-' : (col.values[id] ?? '-');
}

/** Collects the first `limit` records of the batches it is given. */
export class RecordTable {
  readonly #rows: Row[] = [];
  readonly #limit: number;

  constructor(limit: number = TABLE_ROWS) {
    this.#limit = limit;
  }

  get full(): boolean {
    return this.#rows.length >= this.#limit;
  }

  add(batch: RecordBatch): void {
    for (let i = 0; i < batch.length && !this.full; i++) {
      const ts = batch.ts[i]!;
      this.#rows.push({
        ts: Number.isFinite(ts) ? new Date(ts).toISOString().replace('.000Z', 'Z') : '-',
        ip: terminalSafe(text(batch.ip, i), 39),
        method: terminalSafe(text(batch.method, i), 8),
        status: String(batch.status[i]),
        bytes: Number.isNaN(batch.bytesSent[i]) ? '-' : String(batch.bytesSent[i]),
        path: terminalSafe(text(batch.path, i) + (batch.query.ids[i]! >= 0 ? `?${text(batch.query, i)}` : ''), 400),
      });
    }
  }

  /** The table as text, fitted to `width` columns (paths are cut). */
  render(width = 120): string {
    const header: Row = { ts: 'time (UTC)', ip: 'client', method: 'method', status: 'status', bytes: 'bytes', path: 'path' };
    const rows = [header, ...this.#rows];
    const keys = ['ts', 'ip', 'method', 'status', 'bytes'] as const;
    const widths = keys.map((k) => Math.max(...rows.map((r) => r[k].length)));
    const used = widths.reduce((a, b) => a + b + 2, 0);
    const pathWidth = Math.max(10, width - used);
    return rows.map((r) => {
      const cells = keys.map((k, c) => (k === 'status' || k === 'bytes' ? r[k].padStart(widths[c]!) : r[k].padEnd(widths[c]!)));
      const path = r.path.length > pathWidth ? `${r.path.slice(0, pathWidth - 1)}…` : r.path;
      return `${cells.join('  ')}  ${path}`;
    }).join('\n') + '\n';
  }
}
