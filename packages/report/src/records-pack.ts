/**
 * `records.arrow`: parsed records of the pack as one Arrow IPC file, enriched
 * with network prefix, ASN, country, the pack's input name and the burst id,
 * readable by DuckDB, pyarrow/pandas and Polars (docs/records.md).
 *
 * Columns: ts (Timestamp ms UTC), ip, prefix, asn (Uint32), country, method,
 * path, query, status (Uint16), bytes (Float64), referer, user_agent, input,
 * line (Int64), byte_offset (Int64), burst_id (Int32). Text columns are plain
 * Utf8, not dictionaries: readers differ in what they accept of dictionaries
 * in the IPC *file* format (which forbids replacing one and needs delta
 * messages for growth), and memory does not grow with distinct values. Nulls:
 * ts without a usable time, unknown prefix/asn/country, absent query/referer/
 * user agent, `-` bytes, burst_id outside every burst.
 *
 * The encoder is synchronous and returns the bytes of each batch (the caller
 * streams them with backpressure); the same rows in the same order give the
 * same bytes.
 */
import {
  Data, Field, Float64, Int32, Int64, RecordBatch as ArrowRecordBatch, RecordBatchFileWriter, Schema, Struct,
  TimestampMillisecond, Uint16, Uint32, Utf8, makeData, tableFromIPC,
} from 'apache-arrow';
import type { DictColumn, RecordBatch } from '@alf/parser';
import { ByteCollector, primitiveData } from './arrow-records.ts';

/** Pack file name. */
export const RECORDS_ARROW_FILE = 'records.arrow';

/** Column names of records.arrow, in order. */
export const RECORDS_ARROW_COLUMNS: readonly string[] = [
  'ts', 'ip', 'prefix', 'asn', 'country', 'method', 'path', 'query', 'status', 'bytes', 'referer', 'user_agent',
  'input', 'line', 'byte_offset', 'burst_id',
];

/** What the geo lookup says about one client address. */
export interface RecordEnrichment {
  /** Aggregation prefix (/24 for IPv4, /48 for IPv6), e.g. `203.0.113.0/24`. */
  readonly prefix: string | null;
  readonly asn: number | null;
  /** ISO 3166-1 alpha-2. */
  readonly country: string | null;
}

/** Rows of one parser batch to write. */
export interface RecordsSelection {
  /** Row indices into the batch, in the order they are written. */
  readonly rows: Int32Array;
  /** Rows used from `rows` and `burstIds`. */
  readonly count: number;
  /** Burst id per selected row; -1 for null. */
  readonly burstIds: Int32Array;
  /** The input's name in the pack. */
  readonly inputName: string;
  /** Enrichment of a client (canonical IP or host name, `RecordBatch.ipKind`); memoise per IP in the caller. */
  enrich(ip: string, ipKind: number): RecordEnrichment | null;
}

export interface RecordsArrowEncoder {
  /** Bytes for the selected rows (schema first on the first call); empty when `count` is 0. A copy, safe to hold. */
  encode(batch: RecordBatch, selection: RecordsSelection): Uint8Array;
  /** File footer (and the schema when no rows came). */
  finish(): Uint8Array;
  /** Rows encoded so far. */
  readonly rows: number;
}

/** The Arrow schema of records.arrow. */
export function recordsArrowSchema(metadata?: ReadonlyMap<string, string>): Schema {
  const text = (name: string, nullable = true): Field => new Field(name, new Utf8(), nullable);
  return new Schema([
    new Field('ts', new TimestampMillisecond('UTC'), true),
    text('ip'), text('prefix'),
    new Field('asn', new Uint32(), true),
    text('country'), text('method'), text('path'), text('query'),
    new Field('status', new Uint16(), false),
    new Field('bytes', new Float64(), true),
    text('referer'), text('user_agent'), text('input', false),
    new Field('line', new Int64(), false),
    new Field('byte_offset', new Int64(), false),
    new Field('burst_id', new Int32(), true),
  ], metadata ? new Map(metadata) : undefined);
}

/** Validity bitmap (LSB order) or null when every value is valid. */
function validity(length: number, isNull: (i: number) => boolean): { nullBitmap: Uint8Array | null; nullCount: number } {
  let nullBitmap: Uint8Array | null = null;
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (!isNull(i)) continue;
    if (!nullBitmap) nullBitmap = new Uint8Array((length + 7) >> 3).fill(0xff);
    nullBitmap[i >> 3]! &= ~(1 << (i & 7));
    nullCount++;
  }
  return { nullBitmap, nullCount };
}

/**
 * A plain Utf8 column from a dictionary column, gathered at `rows` (null: row j itself). Each
 * dictionary value used is encoded once into one scratch buffer; rows then copy its bytes (a
 * byte loop for the short values most fields hold, a native copy for long ones).
 */
function utf8Column(col: DictColumn, rows: Int32Array | null, count: number): Data<Utf8> {
  const ids = col.ids;
  const nValues = col.values.length;
  // Per value: its start in `pool` (-1 until encoded) and its byte length.
  const start = new Int32Array(nValues).fill(-1);
  const length = new Int32Array(nValues);
  const offsets = new Int32Array(count + 1);
  let poolSize = 0;
  let size = 0;
  for (let j = 0; j < count; j++) {
    const id = ids[rows ? rows[j]! : j]!;
    if (id >= 0) {
      if (start[id]! < 0) {
        start[id] = poolSize;
        const n = Buffer.byteLength(col.values[id]!, 'utf8');
        length[id] = n;
        poolSize += n;
      }
      size += length[id]!;
    }
    offsets[j + 1] = size;
  }
  const pool = Buffer.allocUnsafe(poolSize);
  for (let id = 0; id < nValues; id++) if (start[id]! >= 0) pool.write(col.values[id]!, start[id]!, 'utf8');
  const data = new Uint8Array(size);
  let nulls = 0;
  for (let j = 0; j < count; j++) {
    const id = ids[rows ? rows[j]! : j]!;
    if (id < 0) {
      nulls++;
      continue;
    }
    const from = start[id]!;
    const n = length[id]!;
    const at = offsets[j]!;
    if (n <= 32) for (let b = 0; b < n; b++) data[at + b] = pool[from + b]!;
    else pool.copy(data, at, from, from + n);
  }
  const { nullBitmap, nullCount } = nulls === 0 ? { nullBitmap: null, nullCount: 0 } : validity(count, (j) => ids[rows ? rows[j]! : j]! < 0);
  return makeData({ type: new Utf8(), length: count, nullCount, nullBitmap, valueOffsets: offsets, data });
}

/** A Utf8 column holding `value` on each of `count` rows (the input name): the bytes laid down by doubling copies, not row by row. */
function constUtf8Column(value: string, count: number): Data<Utf8> {
  const bytes = Buffer.from(value, 'utf8');
  const n = bytes.length;
  const offsets = new Int32Array(count + 1);
  for (let j = 1; j <= count; j++) offsets[j] = j * n;
  const data = new Uint8Array(n * count);
  if (count > 0 && n > 0) {
    data.set(bytes, 0);
    for (let filled = n; filled < data.length; filled *= 2) data.copyWithin(filled, 0, Math.min(filled, data.length - filled));
  }
  return makeData({ type: new Utf8(), length: count, nullCount: 0, nullBitmap: null, valueOffsets: offsets, data });
}

/** A parser dictionary column gathered at `rows` (ids still into `col.values`). */
function gatherIds(col: DictColumn, rows: Int32Array, count: number): DictColumn {
  const ids = new Int32Array(count);
  for (let j = 0; j < count; j++) ids[j] = col.ids[rows[j]!]!;
  return { ids, values: col.values };
}

/** Builds a batch-local dictionary column from per-row strings. */
function localDict(count: number, valueAt: (j: number) => string | null): DictColumn {
  const index = new Map<string, number>();
  const values: string[] = [];
  const ids = new Int32Array(count);
  for (let j = 0; j < count; j++) {
    const v = valueAt(j);
    if (v === null) { ids[j] = -1; continue; }
    let id = index.get(v);
    if (id === undefined) { id = values.length; index.set(v, id); values.push(v); }
    ids[j] = id;
  }
  return { ids, values };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * An Int64 column of non-negative integers below 2^53 (line numbers, byte offsets), gathered at
 * `rows`: written as little-endian 32-bit halves, without a BigInt per value.
 */
function int64Column(values: Float64Array, rows: Int32Array, count: number): Data<Int64> {
  const out = new BigInt64Array(count);
  if (!LITTLE_ENDIAN) {
    for (let j = 0; j < count; j++) out[j] = BigInt(values[rows[j]!]!);
    return makeData({ type: new Int64(), length: count, nullCount: 0, data: out });
  }
  const words = new Uint32Array(out.buffer);
  for (let j = 0; j < count; j++) {
    const v = values[rows[j]!]!;
    words[2 * j] = v >>> 0;
    words[2 * j + 1] = Math.floor(v / 4294967296);
  }
  return makeData({ type: new Int64(), length: count, nullCount: 0, data: out });
}

function gatherFloat(values: Float64Array, rows: Int32Array, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let j = 0; j < count; j++) out[j] = values[rows[j]!]!;
  return out;
}

/** An encoder for records.arrow (Arrow IPC file format). */
export function createRecordsArrowEncoder(metadata?: ReadonlyMap<string, string>): RecordsArrowEncoder {
  const schema = recordsArrowSchema(metadata);
  const field = (name: string): Field => schema.fields.find((f) => f.name === name)!;
  const sink = new ByteCollector();
  const writer = new RecordBatchFileWriter({ autoDestroy: false });
  writer.reset(sink, schema);
  let rows = 0;
  return {
    get rows(): number {
      return rows;
    },
    encode(batch, s) {
      const { rows: at, count } = s;
      if (count === 0) return new Uint8Array(0);
      const ips = gatherIds(batch.ip, at, count);
      const answers = new Array<RecordEnrichment | null>(count);
      for (let j = 0; j < count; j++) {
        const id = ips.ids[j]!;
        answers[j] = id < 0 ? null : s.enrich(ips.values[id]!, batch.ipKind[at[j]!]!);
      }
      const asn = new Uint32Array(count);
      for (let j = 0; j < count; j++) asn[j] = answers[j]?.asn ?? 0;
      const asnValid = validity(count, (j) => answers[j]?.asn == null);
      const burst = s.burstIds.slice(0, count);
      const burstValid = validity(count, (j) => burst[j]! < 0);
      const ts = gatherFloat(batch.ts, at, count);
      const bytes = gatherFloat(batch.bytesSent, at, count);
      const status = new Uint16Array(count);
      for (let j = 0; j < count; j++) status[j] = batch.status[at[j]!]!;
      const children: Data[] = [
        primitiveData('ts', field('ts').type, ts, count),
        utf8Column(ips, null, count),
        utf8Column(localDict(count, (j) => answers[j]?.prefix ?? null), null, count),
        makeData({ type: new Uint32(), length: count, ...asnValid, data: asn }),
        utf8Column(localDict(count, (j) => answers[j]?.country ?? null), null, count),
        utf8Column(batch.method, at, count),
        utf8Column(batch.path, at, count),
        utf8Column(batch.query, at, count),
        makeData({ type: new Uint16(), length: count, nullCount: 0, data: status }),
        primitiveData('float', field('bytes').type, bytes, count),
        utf8Column(batch.referer, at, count),
        utf8Column(batch.userAgent, at, count),
        constUtf8Column(s.inputName, count),
        int64Column(batch.line, at, count),
        int64Column(batch.byteOffset, at, count),
        makeData({ type: new Int32(), length: count, ...burstValid, data: burst }),
      ];
      const struct = makeData({ type: new Struct(schema.fields), length: count, nullCount: 0, children });
      writer.write(new ArrowRecordBatch(schema, struct));
      rows += count;
      return sink.take();
    },
    finish() {
      writer.finish();
      return sink.take();
    },
  };
}

/** What summary.md says about records.arrow and the evidence lines of each burst. */
export interface PackRecordsInfo {
  /** `records.arrow`, or null when it was not written (`--records none`). */
  readonly file: string | null;
  /** Rows of records.arrow per burst id (records of the burst). */
  readonly rowsByBurst: ReadonlyMap<number, number>;
  /** Evidence file per burst id (`evidence/burst-<id>.log`). */
  readonly evidenceFiles: ReadonlyMap<number, string>;
}

const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** The summary.md bullet of one burst: where its records and evidence lines are; null when neither was written. */
export function recordsBullet(burstId: number, info: PackRecordsInfo): string | null {
  const rows = info.rowsByBurst.get(burstId) ?? 0;
  const evidence = info.evidenceFiles.get(burstId);
  const parts: string[] = [];
  if (info.file !== null) parts.push(`\`${info.file}\` (burst_id = ${burstId}, ${thousands(rows)} row${rows === 1 ? '' : 's'})`);
  if (evidence !== undefined) parts.push(`evidence lines: \`${evidence}\``);
  if (parts.length === 0) return null;
  return `- **Records:** ${parts.join('; ')}`;
}

/** records.arrow read back as plain rows (tests, small files): Int64 and timestamps as numbers. */
export interface RecordsArrowContent {
  readonly columns: readonly string[];
  readonly metadata: ReadonlyMap<string, string>;
  readonly rows: readonly Readonly<Record<string, string | number | null>>[];
}

/** Reads a records.arrow file (all in memory). */
export function readRecordsArrow(bytes: Uint8Array): RecordsArrowContent {
  const table = tableFromIPC(bytes);
  const columns = table.schema.fields.map((f) => f.name);
  const rows = table.toArray().map((r: { toJSON(): Record<string, unknown> }) => {
    const o: Record<string, string | number | null> = {};
    for (const [k, v] of Object.entries(r.toJSON())) o[k] = typeof v === 'bigint' ? Number(v) : (v as string | number | null);
    return o;
  });
  return { columns, metadata: new Map(table.schema.metadata), rows };
}
