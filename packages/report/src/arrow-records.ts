/**
 * Parsed records as Apache Arrow: a parser `RecordBatch` maps one-to-one onto
 * an Arrow `RecordBatch` (typed arrays → primitive vectors, `DictColumn`s →
 * Dictionary<Utf8, Int32>, `ts` → Timestamp(ms, UTC)), and encoders write the
 * IPC stream format (each batch carries its own dictionaries: replacement
 * dictionary messages, memory stays bounded) or the IPC file format (which
 * forbids replacement: dictionaries grow across batches by delta messages).
 *
 * Encoders are synchronous and return the bytes of each batch, so callers
 * control backpressure (`arrowIpcChunks` for `stream.pipeline`). Returned bytes
 * are copies: the parser may reuse its arrays after the next batch.
 */
import {
  AsyncByteQueue, Data, Dictionary, Field, Float64, Int32, RecordBatch as ArrowRecordBatch,
  RecordBatchFileWriter, RecordBatchStreamWriter, Schema, Struct, Table, TimestampMillisecond, Uint16, Uint8, Utf8,
  Vector, makeData, vectorFromArray,
} from 'apache-arrow';
import type { DataType } from 'apache-arrow';
import type { DictColumn, RecordBatch } from '@alf/parser';
import { RECORD_COLUMNS, extraColumnName } from './record-rows.ts';
import type { RecordColumnKind } from './record-rows.ts';

export type ArrowIpcKind = 'stream' | 'file';

export interface ArrowRecordOptions {
  /** `extra` variables to include, in order. Default: those of the first batch. */
  readonly extraNames?: readonly string[] | undefined;
  /** Schema metadata (e.g. `alf.inputs` → JSON list of input names). */
  readonly metadata?: ReadonlyMap<string, string> | undefined;
}

function arrowType(kind: RecordColumnKind, dictId: number): DataType {
  switch (kind) {
    case 'dict': return new Dictionary(new Utf8(), new Int32(), dictId);
    case 'ts': return new TimestampMillisecond('UTC');
    case 'float': return new Float64();
    case 'uint8': return new Uint8();
    case 'uint16': return new Uint16();
  }
}

/** The Arrow schema of parsed records with the given `extra` variables. */
export function recordSchema(extraNames: readonly string[] = [], metadata?: ReadonlyMap<string, string>): Schema {
  let dictId = 0;
  const fields = RECORD_COLUMNS.map((c) => new Field(c.name, arrowType(c.kind, dictId++), c.kind === 'dict' || c.kind === 'ts' || c.kind === 'float'));
  for (const name of extraNames) fields.push(new Field(extraColumnName(name), arrowType('dict', dictId++), true));
  return new Schema(fields, metadata ? new Map(metadata) : undefined);
}

/** Validity bitmap (LSB order) or null when every value is valid. */
function validity(length: number, isNull: (i: number) => boolean): { bitmap: Uint8Array | null; nullCount: number } {
  let bitmap: Uint8Array | null = null;
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (isNull(i)) {
      if (!bitmap) bitmap = new Uint8Array((length + 7) >> 3).fill(0xff);
      bitmap[i >> 3]! &= ~(1 << (i & 7));
      nullCount++;
    }
  }
  return { bitmap, nullCount };
}

/** Maps dictionary ids of one column into an Arrow dictionary; stream mode: one dictionary per batch. */
export type DictEncoder = (col: DictColumn | undefined, length: number, type: Dictionary<Utf8, Int32>) => Data;

function dictData(ids: Int32Array, length: number, type: Dictionary<Utf8, Int32>, dictionary: Vector<Utf8>): Data {
  const { bitmap, nullCount } = validity(length, (i) => ids[i]! < 0);
  const indices = nullCount === 0 ? ids.subarray(0, length) : ids.slice(0, length).map((id) => (id < 0 ? 0 : id));
  return makeData({ type, length, nullCount, nullBitmap: bitmap, data: indices, dictionary });
}

const perBatchDict: DictEncoder = (col, length, type) => {
  const values = col ? (col.values as string[]) : [];
  const ids = col ? col.ids : new Int32Array(length).fill(-1);
  return dictData(ids, length, type, vectorFromArray(values, new Utf8()));
};

/**
 * File mode: one growing dictionary per column. New values of each batch are
 * appended as a chunk of the same `Vector`, which the Arrow writer emits as a
 * delta dictionary message.
 */
export function cumulativeDict(): DictEncoder {
  const globalIds = new Map<string, number>();
  let chunks: Data<Utf8>[] = [];
  return (col, length, type) => {
    const ids = new Int32Array(length).fill(-1);
    if (col) {
      const local = new Int32Array(col.values.length).fill(-1);
      const added: string[] = [];
      for (let i = 0; i < length; i++) {
        const id = col.ids[i]!;
        if (id < 0) continue;
        let g = local[id]!;
        if (g < 0) {
          const value = col.values[id]!;
          g = globalIds.get(value) ?? -1;
          if (g < 0) {
            g = globalIds.size;
            globalIds.set(value, g);
            added.push(value);
          }
          local[id] = g;
        }
        ids[i] = g;
      }
      if (added.length > 0) chunks = [...chunks, ...vectorFromArray(added, new Utf8()).data];
    }
    if (chunks.length === 0) chunks = [...vectorFromArray([] as string[], new Utf8()).data];
    return dictData(ids, length, type, new Vector(chunks));
  };
}

export function primitiveData(kind: RecordColumnKind, type: DataType, array: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, length: number): Data {
  if (kind === 'ts') {
    const ms = array as Float64Array;
    const { bitmap, nullCount } = validity(length, (i) => !Number.isFinite(ms[i]));
    const values = new BigInt64Array(length);
    for (let i = 0; i < length; i++) values[i] = Number.isFinite(ms[i]) ? BigInt(Math.round(ms[i]!)) : 0n;
    return makeData({ type: type as TimestampMillisecond, length, nullCount, nullBitmap: bitmap, data: values });
  }
  if (kind === 'float') {
    const v = (array as Float64Array).subarray(0, length);
    const { bitmap, nullCount } = validity(length, (i) => Number.isNaN(v[i]));
    return makeData({ type: type as Float64, length, nullCount, nullBitmap: bitmap, data: v });
  }
  const v = (array as Uint8Array | Uint16Array).subarray(0, length);
  return makeData({ type: type as Uint8 | Uint16, length, nullCount: 0, data: v } as never);
}

/** Converts parser batches to Arrow record batches of one schema. */
export class ArrowRecordConverter {
  readonly #options: ArrowRecordOptions;
  #schema: Schema | undefined;
  #extraNames: readonly string[] | undefined;
  #dicts: DictEncoder[] = [];
  readonly #cumulative: boolean;

  /** `cumulativeDictionaries`: grow dictionaries across batches (IPC file format). */
  constructor(options: ArrowRecordOptions = {}, cumulativeDictionaries = false) {
    this.#options = options;
    this.#cumulative = cumulativeDictionaries;
    this.#extraNames = options.extraNames;
  }

  /** The schema; fixed by the options or by the first batch converted. */
  get schema(): Schema {
    if (!this.#schema) {
      this.#schema = recordSchema(this.#extraNames ?? [], this.#options.metadata);
      this.#dicts = this.#schema.fields.map(() => (this.#cumulative ? cumulativeDict() : perBatchDict));
    }
    return this.#schema;
  }

  convert(batch: RecordBatch): ArrowRecordBatch {
    this.#extraNames ??= [...batch.extra.keys()];
    const schema = this.schema;
    const fields = batch as unknown as Record<string, unknown>;
    const { length } = batch;
    const children: Data[] = schema.fields.map((field, c) => {
      const column = RECORD_COLUMNS[c];
      if (column === undefined) {
        const col = batch.extra.get(this.#extraNames![c - RECORD_COLUMNS.length]!);
        return this.#dicts[c]!(col, length, field.type as Dictionary<Utf8, Int32>);
      }
      if (column.kind === 'dict') return this.#dicts[c]!(fields[column.name] as DictColumn, length, field.type as Dictionary<Utf8, Int32>);
      return primitiveData(column.kind, field.type, fields[column.name] as Float64Array, length);
    });
    const struct = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
    return new ArrowRecordBatch(schema, struct);
  }
}

/** All batches as one Arrow Table (in memory; for tests and small outputs). */
export function recordsToTable(batches: Iterable<RecordBatch>, options: ArrowRecordOptions = {}): Table {
  const converter = new ArrowRecordConverter(options);
  const arrowBatches = [...batches].map((b) => converter.convert(b));
  return arrowBatches.length > 0 ? new Table(arrowBatches) : new Table(converter.schema);
}

/** Collects what an Arrow writer emits, synchronously. */
export class ByteCollector extends AsyncByteQueue {
  chunks: Uint8Array[] = [];
  override write(value: ArrayBufferView | ArrayBuffer | string): void {
    const bytes = value instanceof Uint8Array ? value : typeof value === 'string' ? new TextEncoder().encode(value)
      : ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
    if (bytes.byteLength > 0) this.chunks.push(bytes);
  }
  take(): Uint8Array {
    const { chunks } = this;
    this.chunks = [];
    let size = 0;
    for (const c of chunks) size += c.byteLength;
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) { out.set(c, at); at += c.byteLength; }
    return out;
  }
}

/** Encodes parser batches as Arrow IPC bytes, one call per batch. */
export interface ArrowIpcEncoder {
  /** Bytes for one batch (the schema message precedes the first). A copy, safe to hold. */
  encode(batch: RecordBatch): Uint8Array;
  /** Closing bytes (end-of-stream marker; file footer). Writes the schema too when no batch came. */
  finish(): Uint8Array;
}

export function createArrowIpcEncoder(kind: ArrowIpcKind = 'stream', options: ArrowRecordOptions = {}): ArrowIpcEncoder {
  const converter = new ArrowRecordConverter(options, kind === 'file');
  const sink = new ByteCollector();
  const writer = kind === 'file' ? new RecordBatchFileWriter({ autoDestroy: false }) : new RecordBatchStreamWriter({ autoDestroy: false });
  writer.reset(sink);
  let started = false;
  return {
    encode(batch) {
      const arrowBatch = converter.convert(batch);
      if (!started) { writer.reset(sink, converter.schema); started = true; }
      writer.write(arrowBatch);
      return sink.take();
    },
    finish() {
      if (!started) { writer.reset(sink, converter.schema); started = true; }
      writer.finish();
      return sink.take();
    },
  };
}

/** Arrow IPC bytes for a stream of parser batches; use as a `stream.pipeline` source. */
export async function* arrowIpcChunks(
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  kind: ArrowIpcKind = 'stream',
  options: ArrowRecordOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const encoder = createArrowIpcEncoder(kind, options);
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    yield encoder.encode(batch);
  }
  yield encoder.finish();
}
