/**
 * Parsed records as text rows: NDJSON (one JSON object per line) and CSV
 * (csv-stringify). Both take whole `RecordBatch`es and return one string per
 * batch, so a caller writes in batches and can await drain between them.
 *
 * Column order is shared with the Arrow writer (`RECORD_COLUMNS`). `ts` is
 * written as ISO 8601 UTC; NaN numbers become `null` (NDJSON) or an empty cell
 * (CSV); dictionary nulls likewise. CSV string cells go through
 * `neutraliseCsvCell` (formula prefix, visible escapes for control characters):
 * every field here is attacker-written. NDJSON keeps the exact strings (JSON escapes them).
 */
import { stringify } from 'csv-stringify/sync';
import type { DictColumn, RecordBatch } from '@alf/parser';
import { neutraliseCsvCell } from './escape.ts';

/** How a column is stored in a `RecordBatch`. */
export type RecordColumnKind = 'dict' | 'ts' | 'float' | 'uint8' | 'uint16';

export interface RecordColumn {
  /** Output column name (the `RecordBatch` field name). */
  readonly name: string;
  readonly kind: RecordColumnKind;
}

/** Fixed columns, in output order. `extra` fields follow as `extra_<name>`. */
export const RECORD_COLUMNS: readonly RecordColumn[] = [
  { name: 'input', kind: 'uint16' },
  { name: 'line', kind: 'float' },
  { name: 'byteOffset', kind: 'float' },
  { name: 'ts', kind: 'ts' },
  { name: 'ip', kind: 'dict' },
  { name: 'ipKind', kind: 'uint8' },
  { name: 'method', kind: 'dict' },
  { name: 'path', kind: 'dict' },
  { name: 'query', kind: 'dict' },
  { name: 'protocol', kind: 'dict' },
  { name: 'status', kind: 'uint16' },
  { name: 'bytesSent', kind: 'float' },
  { name: 'durationMs', kind: 'float' },
  { name: 'upstreamMs', kind: 'float' },
  { name: 'referer', kind: 'dict' },
  { name: 'userAgent', kind: 'dict' },
  { name: 'vhost', kind: 'dict' },
  { name: 'user', kind: 'dict' },
  { name: 'forwardedFor', kind: 'dict' },
];

/** Output name of an `extra` format variable. */
export function extraColumnName(variable: string): string {
  return `extra_${variable}`;
}

export interface RecordRowOptions {
  /** Input names (file paths, `-`) by input index; the `input` cell shows the name. Index otherwise. */
  readonly inputNames?: readonly string[] | undefined;
  /**
   * Names of the `extra` variables to write, in order. Default: those of the
   * first batch. A later batch lacking one writes null; one it has beyond these is left out.
   */
  readonly extraNames?: readonly string[] | undefined;
}

type Cell = string | number | null;

/** Reads one row of a batch as cells in column order (numbers stay numbers, nulls are null). */
function makeRowReader(
  batch: RecordBatch,
  extraNames: readonly string[],
  inputNames: readonly string[] | undefined,
): (row: number, out: Cell[]) => void {
  const fields = batch as unknown as Record<string, unknown>;
  const readers: ((row: number) => Cell)[] = RECORD_COLUMNS.map((col) => {
    const data = fields[col.name];
    switch (col.kind) {
      case 'dict':
        return dictReader(data as DictColumn);
      case 'ts': {
        const ts = data as Float64Array;
        return (i) => (Number.isFinite(ts[i]) ? new Date(ts[i]!).toISOString() : null);
      }
      case 'float': {
        const v = data as Float64Array;
        return (i) => (Number.isNaN(v[i]) ? null : v[i]!);
      }
      default: {
        const v = data as Uint8Array | Uint16Array;
        if (col.name === 'input' && inputNames) return (i) => inputNames[v[i]!] ?? v[i]!;
        return (i) => v[i]!;
      }
    }
  });
  for (const name of extraNames) {
    const col = batch.extra.get(name);
    readers.push(col ? dictReader(col) : () => null);
  }
  return (row, out) => {
    for (let c = 0; c < readers.length; c++) out[c] = readers[c]!(row);
  };
}

function dictReader(col: DictColumn): (row: number) => string | null {
  const { ids, values } = col;
  return (i) => {
    const id = ids[i]!;
    return id < 0 ? null : (values[id] ?? null);
  };
}

/** Header names for a set of extra variables. */
export function recordColumnNames(extraNames: readonly string[]): string[] {
  return [...RECORD_COLUMNS.map((c) => c.name), ...extraNames.map(extraColumnName)];
}

/** NDJSON text for one batch: one JSON object per record, each ending in '\n'. */
export function recordBatchToNdjson(batch: RecordBatch, options: RecordRowOptions = {}): string {
  const extraNames = options.extraNames ?? [...batch.extra.keys()];
  const names = recordColumnNames(extraNames).map((n) => JSON.stringify(n));
  const read = makeRowReader(batch, extraNames, options.inputNames);
  const cells: Cell[] = new Array<Cell>(names.length);
  const lines: string[] = new Array<string>(batch.length);
  for (let row = 0; row < batch.length; row++) {
    read(row, cells);
    let s = '{';
    for (let c = 0; c < names.length; c++) {
      const v = cells[c];
      s += (c === 0 ? '' : ',') + names[c] + ':' + (typeof v === 'string' ? JSON.stringify(v) : v === null ? 'null' : String(v));
    }
    lines[row] = s + '}\n';
  }
  return lines.join('');
}

/** Turns batches into CSV text; the first call carries the header line. */
export interface CsvRecordEncoder {
  /** CSV text for one batch (with the header line on the first call). */
  encode(batch: RecordBatch): string;
  /** The header alone, when no batch was encoded (empty string otherwise). */
  finish(): string;
}

export function createCsvRecordEncoder(options: RecordRowOptions = {}): CsvRecordEncoder {
  let extraNames: readonly string[] | undefined = options.extraNames;
  let headerWritten = false;
  const header = (): string => {
    headerWritten = true;
    return stringify([recordColumnNames(extraNames ?? [])], { eof: true });
  };
  return {
    encode(batch) {
      extraNames ??= [...batch.extra.keys()];
      const read = makeRowReader(batch, extraNames, options.inputNames);
      const width = RECORD_COLUMNS.length + extraNames.length;
      const rows: Cell[][] = new Array<Cell[]>(batch.length);
      for (let row = 0; row < batch.length; row++) {
        const cells: Cell[] = new Array<Cell>(width);
        read(row, cells);
        for (let c = 0; c < width; c++) {
          const v = cells[c];
          if (typeof v === 'string') cells[c] = neutraliseCsvCell(v);
          else if (v === null) cells[c] = '';
        }
        rows[row] = cells;
      }
      const head = headerWritten ? '' : header();
      return rows.length === 0 ? head : head + stringify(rows, { eof: true });
    },
    finish() {
      return headerWritten ? '' : header();
    },
  };
}
