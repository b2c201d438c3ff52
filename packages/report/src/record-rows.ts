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

/** How one kind of output writes a cell; dictionary values are encoded once per batch. */
interface CellCodec {
  /** A string from the log (dictionary value or input name). */
  text(value: string): string;
  /** A timestamp (UTC epoch ms, finite). */
  time(iso: string): string;
  /** A missing value. */
  readonly nil: Cell;
}

/** Per-column cell readers for one batch; row → encoded cell. */
function makeRowReader(
  batch: RecordBatch,
  extraNames: readonly string[],
  inputNames: readonly string[] | undefined,
  codec: CellCodec,
): ((row: number) => Cell)[] {
  const fields = batch as unknown as Record<string, unknown>;
  const readers: ((row: number) => Cell)[] = RECORD_COLUMNS.map((col) => {
    const data = fields[col.name];
    switch (col.kind) {
      case 'dict':
        return dictReader(data as DictColumn, codec);
      case 'ts':
        return timeReader(data as Float64Array, codec);
      case 'float': {
        const v = data as Float64Array;
        return (i) => (Number.isNaN(v[i]) ? codec.nil : v[i]!);
      }
      default: {
        const v = data as Uint8Array | Uint16Array;
        if (col.name === 'input' && inputNames) {
          const names = inputNames.map((n) => codec.text(n));
          return (i) => names[v[i]!] ?? v[i]!;
        }
        return (i) => v[i]!;
      }
    }
  });
  for (const name of extraNames) {
    const col = batch.extra.get(name);
    readers.push(col ? dictReader(col, codec) : () => codec.nil);
  }
  return readers;
}

function dictReader(col: DictColumn, codec: CellCodec): (row: number) => Cell {
  const { ids, values } = col;
  const encoded: (string | undefined)[] = new Array<string | undefined>(values.length);
  return (i) => {
    const id = ids[i]!;
    if (id < 0 || id >= values.length) return codec.nil;
    return (encoded[id] ??= codec.text(values[id]!));
  };
}

/** ISO 8601 times, reusing the text of the previous row's second (logs have many rows per second). */
function timeReader(ts: Float64Array, codec: CellCodec): (row: number) => Cell {
  let lastSecond = NaN;
  let prefix = '';
  return (i) => {
    const raw = ts[i]!;
    if (!Number.isFinite(raw)) return codec.nil;
    const ms = Math.round(raw); // as in the Arrow output
    const second = Math.floor(ms / 1000);
    if (second !== lastSecond) {
      const iso = new Date(second * 1000).toISOString(); // …Thh:mm:ss.000Z
      prefix = iso.slice(0, iso.length - 4);
      lastSecond = second;
    }
    return codec.time(`${prefix}${String(ms - second * 1000).padStart(3, '0')}Z`);
  };
}

/** Header names for a set of extra variables. */
export function recordColumnNames(extraNames: readonly string[]): string[] {
  return [...RECORD_COLUMNS.map((c) => c.name), ...extraNames.map(extraColumnName)];
}

const NDJSON_CODEC: CellCodec = { text: (v) => JSON.stringify(v), time: (iso) => `"${iso}"`, nil: 'null' };

/**
 * NDJSON text for rows [start, end) of one batch (default: all): one JSON object
 * per record, each ending in '\n'.
 */
export function recordBatchToNdjson(batch: RecordBatch, options: RecordRowOptions = {}, start = 0, end: number = batch.length): string {
  const extraNames = options.extraNames ?? [...batch.extra.keys()];
  const keys = recordColumnNames(extraNames).map((n, c) => (c === 0 ? '{' : ',') + JSON.stringify(n) + ':');
  const readers = makeRowReader(batch, extraNames, options.inputNames, NDJSON_CODEC);
  let out = '';
  for (let row = start; row < end; row++) {
    let s = '';
    for (let c = 0; c < readers.length; c++) s += keys[c]! + String(readers[c]!(row));
    out += s + '}\n';
  }
  return out;
}

/** Turns batches into CSV text; the first call carries the header line. */
export interface CsvRecordEncoder {
  /** CSV text for rows [start, end) of one batch (default: all), with the header line on the first call. */
  encode(batch: RecordBatch, start?: number, end?: number): string;
  /** The header alone, when no batch was encoded (empty string otherwise). */
  finish(): string;
}

const CSV_CODEC: CellCodec = { text: neutraliseCsvCell, time: (iso) => iso, nil: '' };

export function createCsvRecordEncoder(options: RecordRowOptions = {}): CsvRecordEncoder {
  let extraNames: readonly string[] | undefined = options.extraNames;
  let headerWritten = false;
  const header = (): string => {
    headerWritten = true;
    return stringify([recordColumnNames(extraNames ?? [])], { eof: true });
  };
  return {
    encode(batch, start = 0, end = batch.length) {
      extraNames ??= [...batch.extra.keys()];
      const readers = makeRowReader(batch, extraNames, options.inputNames, CSV_CODEC);
      const rows: Cell[][] = [];
      for (let row = start; row < end; row++) {
        const cells: Cell[] = new Array<Cell>(readers.length);
        for (let c = 0; c < readers.length; c++) cells[c] = readers[c]!(row);
        rows.push(cells);
      }
      const head = headerWritten ? '' : header();
      return rows.length === 0 ? head : head + stringify(rows, { eof: true });
    },
    finish() {
      return headerWritten ? '' : header();
    },
  };
}
