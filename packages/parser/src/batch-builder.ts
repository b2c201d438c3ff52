/**
 * Fills one RecordBatch: typed arrays grown by doubling, per-batch dictionaries
 * (Map interning), plus the rejects among the same lines. A line parser stages a
 * row (numbers written at index `length`, strings as [start,end) slots into the
 * line's text) and calls `commit()`; a rejected line leaves no trace in the
 * dictionaries.
 */
import type { DictColumn, RecordBatch, Reject, RejectReason, StringColumn } from './types.ts';
import { decodeUtf8Lenient } from './utf8-text.ts';
import { Dict, ValueCaches } from './value-cache.ts';
import type { TimeRanges } from './time-ranges.ts';
import type { RangeCache } from './value-cache.ts';

export const COL_METHOD = 0;
export const COL_PATH = 1;
export const COL_QUERY = 2;
export const COL_PROTOCOL = 3;
export const COL_REFERER = 4;
export const COL_USER_AGENT = 5;
export const COL_VHOST = 6;
export const COL_USER = 7;
export const COL_FORWARDED_FOR = 8;
/** First column index of format-specific extras. */
export const COL_EXTRA = 9;

const EXCERPT_BYTES = 200;

/** Where the current line lives; set by the block parser before each line. */
export interface LineSource {
  text: string;
  bytes: Uint8Array;
  /** Bytes as a Buffer view (for fresh latin1 copies of new dictionary values). */
  buf: Buffer;
  /** The same bytes as a DataView (hashing four bytes a step). */
  dv: DataView;
  /** True when the current line holds a byte ≥ 0x80 (fields then decode as UTF-8). */
  lineHigh: boolean;
}

let batchSerial = 0;

const COLUMN_INDEX: Readonly<Record<Exclude<StringColumn, 'extra'>, number>> = {
  method: COL_METHOD, path: COL_PATH, query: COL_QUERY, protocol: COL_PROTOCOL, referer: COL_REFERER,
  userAgent: COL_USER_AGENT, vhost: COL_VHOST, user: COL_USER, forwardedFor: COL_FORWARDED_FOR,
};

/** 1 per string column left out of `columns` (undefined: none left out). */
export function skipMask(columns: readonly StringColumn[] | undefined, ncols: number): Uint8Array {
  const skip = new Uint8Array(ncols);
  if (columns === undefined) return skip;
  skip.fill(1);
  for (const name of columns) {
    if (name === 'extra') skip.fill(0, COL_EXTRA);
    else skip[COLUMN_INDEX[name]] = 0;
  }
  return skip;
}

function grow<T extends Float64Array | Int32Array | Uint16Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

export class BatchBuilder {
  length = 0;
  capacity: number;
  ts: Float64Array;
  status: Uint16Array;
  bytesSent: Float64Array;
  durationMs: Float64Array;
  upstreamMs: Float64Array;
  ipIds: Int32Array;
  ipKind: Uint8Array;
  input: Uint16Array;
  line: Float64Array;
  byteOffset: Float64Array;
  strIds: Int32Array[];
  readonly ipDict: Dict = new Dict();
  readonly dicts: Dict[];
  readonly extraNames: readonly string[];
  rejects: Reject[] = [];
  readonly inputIndex: number;

  /** Staged string slots of the current row: start < 0 means absent (null). */
  readonly slotStart: Int32Array;
  readonly slotEnd: Int32Array;
  /** Staged decoded values (JSON lines): used instead of the slot when not undefined. */
  readonly slotValue: (string | null | undefined)[];
  readonly caches: ValueCaches;
  /** Unique per batch across all parses (caches that outlive a batch key their ids by it). */
  readonly serial: number;
  private readonly rangeCaches: (RangeCache | undefined)[];

  /** Per string column: 1 when the caller did not ask for it (ParseOptions.columns); all null in the batch. */
  readonly skip: Uint8Array;
  /** Method, path, query and protocol are all skipped (a row parser need not split the request). */
  readonly skipRequest: boolean;
  /** Referer and user agent are both skipped. */
  readonly skipAgentPair: boolean;
  /**
   * `ParseOptions.allColumnsWithin`: rows whose time is in these ranges are filled as `skip` says (every
   * column), the others as `skipOutside`, `skipRequestOutside` and `skipAgentPairOutside` say (`columns`).
   * Null: `skip` applies to every row.
   */
  readonly within: TimeRanges | null;
  readonly skipOutside: Uint8Array;
  readonly skipRequestOutside: boolean;
  readonly skipAgentPairOutside: boolean;
  /**
   * Columns of `skipOutside` in a group a row parser fills together (the request's four, referer and user
   * agent) that is not skipped as a whole outside: it nulls them after filling the group on such a row.
   */
  readonly partialOutside: Int32Array;
  /** `ParseOptions.rowsWithin`: a row outside these ranges is not wanted at all (the line is skipped); null: every row. */
  readonly wanted: TimeRanges | null;

  constructor(capacity: number, extraNames: readonly string[], inputIndex: number, caches: ValueCaches = new ValueCaches(),
    columns?: readonly StringColumn[], within: TimeRanges | null = null, wanted: TimeRanges | null = null) {
    this.caches = caches;
    const ncols = COL_EXTRA + extraNames.length;
    this.wanted = wanted;
    this.within = columns === undefined ? null : within;
    this.skipOutside = skipMask(columns, ncols);
    this.skip = this.within === null ? this.skipOutside : skipMask(undefined, ncols);
    const sk = this.skip;
    this.skipRequest = sk[COL_METHOD] === 1 && sk[COL_PATH] === 1 && sk[COL_QUERY] === 1 && sk[COL_PROTOCOL] === 1;
    this.skipAgentPair = sk[COL_REFERER] === 1 && sk[COL_USER_AGENT] === 1;
    const so = this.skipOutside;
    this.skipRequestOutside = so[COL_METHOD] === 1 && so[COL_PATH] === 1 && so[COL_QUERY] === 1 && so[COL_PROTOCOL] === 1;
    this.skipAgentPairOutside = so[COL_REFERER] === 1 && so[COL_USER_AGENT] === 1;
    const partial: number[] = [];
    if (!this.skipRequestOutside) partial.push(...[COL_METHOD, COL_PATH, COL_QUERY, COL_PROTOCOL].filter((c) => so[c] === 1));
    if (!this.skipAgentPairOutside) partial.push(...[COL_REFERER, COL_USER_AGENT].filter((c) => so[c] === 1));
    this.partialOutside = Int32Array.from(partial);
    this.serial = ++batchSerial;
    this.capacity = capacity;
    this.extraNames = extraNames;
    this.inputIndex = inputIndex;
    this.ts = new Float64Array(capacity);
    this.status = new Uint16Array(capacity);
    this.bytesSent = new Float64Array(capacity);
    this.durationMs = new Float64Array(capacity);
    this.upstreamMs = new Float64Array(capacity);
    this.ipIds = new Int32Array(capacity);
    this.ipKind = new Uint8Array(capacity);
    this.input = new Uint16Array(capacity);
    this.line = new Float64Array(capacity);
    this.byteOffset = new Float64Array(capacity);
    this.strIds = [];
    this.dicts = [];
    for (let i = 0; i < ncols; i++) {
      this.strIds.push(new Int32Array(capacity));
      this.dicts.push(new Dict());
    }
    this.rangeCaches = [];
    this.slotStart = new Int32Array(ncols).fill(-1);
    this.slotEnd = new Int32Array(ncols);
    this.slotValue = new Array<string | null | undefined>(ncols).fill(undefined);
  }

  get pending(): number {
    return this.length + this.rejects.length;
  }

  /** Make room for one more row and reset its staged values (`used`: the format's string columns). */
  beginRow(used?: readonly number[]): void {
    if (this.length === this.capacity) this.growTo(this.capacity * 2);
    const r = this.length;
    this.status[r] = 0;
    this.bytesSent[r] = NaN;
    this.durationMs[r] = NaN;
    this.upstreamMs[r] = NaN;
    this.ipIds[r] = -1;
    this.ipKind[r] = 0;
    if (used === undefined) this.slotStart.fill(-1);
    else for (let k = 0; k < used.length; k++) this.slotStart[used[k] as number] = -1;
  }

  /** Make room for one more row without staging it (a row parser that writes every column itself). */
  reserveRow(): number {
    if (this.length === this.capacity) this.growTo(this.capacity * 2);
    return this.length;
  }

  /** Capacity for n rows in all. */
  ensureRows(n: number): void {
    if (n <= this.capacity) return;
    let c = this.capacity * 2;
    while (c < n) c *= 2;
    this.growTo(c);
  }

  private growTo(n: number): void {
    this.capacity = n;
    this.ts = grow(this.ts, n);
    this.status = grow(this.status, n);
    this.bytesSent = grow(this.bytesSent, n);
    this.durationMs = grow(this.durationMs, n);
    this.upstreamMs = grow(this.upstreamMs, n);
    this.ipIds = grow(this.ipIds, n);
    this.ipKind = grow(this.ipKind, n);
    this.input = grow(this.input, n);
    this.line = grow(this.line, n);
    this.byteOffset = grow(this.byteOffset, n);
    for (let i = 0; i < this.strIds.length; i++) this.strIds[i] = grow(this.strIds[i] as Int32Array, n);
  }

  /** Client text[start,end) → ipId * 8 + kind, or -1 when not an IP nor a host name. */
  client(src: LineSource, start: number, end: number): number {
    return this.caches.client.lookup(src.text, src.buf, start, end, this.ipDict, this.serial);
  }

  /** Intern a canonical client value (ip or host name) → dictionary id. */
  internIp(v: string): number {
    return this.ipDict.intern(v);
  }

  /** Intern text[start,end) of the current line into column `col`. */
  internRange(col: number, src: LineSource, start: number, end: number): number {
    if (!src.lineHigh) {
      const rc = this.rangeCaches[col] ?? (this.rangeCaches[col] = this.caches.column(col));
      return rc.lookup(src.text, src.buf, start, end, this.dicts[col] as Dict, this.serial);
    }
    return (this.dicts[col] as Dict).intern(decodeUtf8Lenient(src.bytes, start, end));
  }

  /** Commit the staged row. `used` lists the string columns the format can fill. */
  commit(src: LineSource, used: readonly number[], line: number, byteOffset: number): void {
    const r = this.length;
    const skip = this.within === null || this.within.has(this.ts[r] as number) ? this.skip : this.skipOutside;
    for (let k = 0; k < used.length; k++) {
      const c = used[k] as number;
      const v = this.slotValue[c];
      let id: number;
      if (skip[c] === 1) {
        id = -1;
        this.slotValue[c] = undefined;
      } else if (v !== undefined) {
        id = v === null ? -1 : (this.dicts[c] as Dict).intern(v);
        this.slotValue[c] = undefined;
      } else {
        const s = this.slotStart[c] as number;
        id = s < 0 ? -1 : this.internRange(c, src, s, this.slotEnd[c] as number);
      }
      (this.strIds[c] as Int32Array)[r] = id;
    }
    this.input[r] = this.inputIndex;
    this.line[r] = line;
    this.byteOffset[r] = byteOffset;
    this.length = r + 1;
  }

  /** Drop staged values of a row that turned out bad. */
  discardRow(used: readonly number[]): void {
    for (let k = 0; k < used.length; k++) this.slotValue[used[k] as number] = undefined;
  }

  reject(reason: RejectReason, detail: string, line: number, byteOffset: number, excerpt: string): void {
    this.rejects.push({ input: this.inputIndex, line, byteOffset, reason, detail, excerpt });
  }

  /** Freeze into a RecordBatch (the builder must not be used afterwards). */
  finish(): { records: RecordBatch; rejects: Reject[] } {
    const col = (i: number): DictColumn => {
      const ids = this.strIds[i] as Int32Array;
      if (this.skip[i] === 1) {
        ids.fill(-1, 0, this.length); // a column the caller did not ask for (a fast row parser may have filled it)
        return { ids, values: [] };
      }
      const values = (this.dicts[i] as Dict).values;
      if (values.length === 0) ids.fill(-1, 0, this.length); // a column the format never fills
      return { ids, values };
    };
    const extra = new Map<string, DictColumn>();
    this.extraNames.forEach((name, i) => extra.set(name, col(COL_EXTRA + i)));
    const records: RecordBatch = {
      length: this.length,
      ts: this.ts,
      status: this.status,
      bytesSent: this.bytesSent,
      durationMs: this.durationMs,
      upstreamMs: this.upstreamMs,
      ip: { ids: this.ipIds, values: this.ipDict.values },
      ipKind: this.ipKind,
      method: col(COL_METHOD),
      path: col(COL_PATH),
      query: col(COL_QUERY),
      protocol: col(COL_PROTOCOL),
      referer: col(COL_REFERER),
      userAgent: col(COL_USER_AGENT),
      vhost: col(COL_VHOST),
      user: col(COL_USER),
      forwardedFor: col(COL_FORWARDED_FOR),
      extra,
      input: this.input,
      line: this.line,
      byteOffset: this.byteOffset,
    };
    return { records, rejects: this.rejects };
  }
}

/** The start of a raw line, decoded leniently, for a reject excerpt. */
export function excerptOf(bytes: Uint8Array, start: number, end: number): string {
  return decodeUtf8Lenient(bytes, start, Math.min(end, start + EXCERPT_BYTES));
}
