/**
 * The TSV rows `alf load clickhouse` sends: one row per parsed record, columns in
 * ALF_TABLE_COLUMNS order (core/sql/schema.ts), attacker-written fields escaped
 * for ClickHouse's TabSeparated format. A batch needs no per-row bookkeeping:
 * raw tabs and newlines only separate fields and rows (escaping turns the others
 * into `\t`, `\n`), so a retry finds each row's input and line in its own text.
 */
import { ALF_TABLE_COLUMNS, ipHash, pathAsset, queryRandom, refererTraits } from '@alf/core';
import type { Geo } from '@alf/geo';
import type { DictColumn, RecordBatch } from '@alf/parser';

/** TSV escaping of ClickHouse's TabSeparated format. */
function tsv(s: string): string {
  if (!/[\\\t\n\r\0\b\f]/.test(s)) return s;
  return s.replace(/[\\\t\n\r\0\b\f]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\0' ? '\\0' : c === '\b' ? '\\b' : '\\f'));
}

/** ClickHouse TabSeparated unescaping (of one field). */
function untsv(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(.)/gs, (_, c: string) => ({ t: '\t', n: '\n', r: '\r', '0': '\0', b: '\b', f: '\f' })[c] ?? c);
}

const INPUT_COLUMN = ALF_TABLE_COLUMNS.findIndex(([n]) => n === 'input');
const LINE_COLUMN = ALF_TABLE_COLUMNS.findIndex(([n]) => n === 'line');

/** A growing byte buffer for one batch of TSV rows. */
export class TsvBuffer {
  buf: Buffer;
  pos = 0;
  rows = 0;
  /** Never a slice of Buffer's shared pool, so the bytes can be transferred to another thread. */
  constructor(initialBytes: number = 1 << 22, from?: Buffer) {
    this.buf = from ?? Buffer.allocUnsafeSlow(Math.max(64, initialBytes));
  }

  /** A batch received from a worker: `rows` whole rows in `bytes[0, length)`. */
  static of(bytes: ArrayBuffer, length: number, rows: number): TsvBuffer {
    const out = new TsvBuffer(0, Buffer.from(bytes, 0, bytes.byteLength));
    out.pos = length;
    out.rows = rows;
    return out;
  }
  /** Room for `n` more bytes after `pos`. */
  reserve(n: number): Buffer {
    if (this.pos + n <= this.buf.length) return this.buf;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    return next;
  }
  /** Appends whole rows (each ending with a newline). */
  appendRows(b: Uint8Array, rows: number): void {
    this.reserve(b.length).set(b, this.pos);
    this.pos += b.length;
    this.rows += rows;
  }

  /** The `input` (unescaped) and `line` of every row, in order. */
  keys(): string[] {
    const out: string[] = [];
    const buf = this.buf;
    for (let start = 0; start < this.pos;) {
      const end = buf.indexOf(10, start);
      const fields = buf.toString('utf8', start, end).split('\t');
      out.push(`${untsv(fields[INPUT_COLUMN]!)}\t${fields[LINE_COLUMN]!}`);
      start = end + 1;
    }
    return out;
  }

  /** A copy holding only the rows whose `input\tline` is not in `landed`, bytes unchanged. */
  without(landed: ReadonlySet<string>): TsvBuffer {
    const out = new TsvBuffer(this.pos);
    const keys = this.keys();
    let start = 0;
    for (const key of keys) {
      const end = this.buf.indexOf(10, start) + 1;
      if (!landed.has(key)) out.appendRows(this.buf.subarray(start, end), 1);
      start = end;
    }
    return out;
  }

  /** The bytes written so far (a view; the buffer is not reused). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * The batch buffers of one thread: sized from the largest batch so far (a batch grows
 * by doubling, copying what it holds, only until the size is known), and reused once
 * their insert is done (fresh 40 MB buffers cost page faults and external-memory GC).
 */
export class BatchBuffers {
  private readonly spare: Buffer[] = [];
  private size: number;
  constructor(batchRows: number) {
    // About 390 bytes a row on the bench corpus; a batch ends after the parser chunk that reaches batchRows.
    this.size = Math.min(64 << 20, Math.max(1 << 16, batchRows * 400));
  }
  next(): TsvBuffer {
    let b = this.spare.pop();
    while (b !== undefined && b.length < this.size) b = this.spare.pop();
    return new TsvBuffer(this.size, b);
  }
  /** A batch is full: later ones start at least this large. */
  sized(bytes: number): void {
    const want = bytes + (bytes >> 3);
    if (want > this.size) this.size = want;
  }
  /** A batch's buffer is no longer read (its insert is over). */
  release(buf: Buffer): void {
    if (this.spare.length < 4 && buf.length >= this.size) this.spare.push(buf);
  }
}

/** Encoded forms of one string column's values, kept across record batches (bounded: cleared when full). */
class PieceCache<T> {
  private map = new Map<string, T>();
  private readonly make: (v: string) => T;
  private readonly max: number;
  constructor(make: (v: string) => T, max = 1 << 16) {
    this.make = make;
    this.max = max;
  }
  get(v: string): T {
    let b = this.map.get(v);
    if (b === undefined) {
      if (this.map.size >= this.max) this.map = new Map();
      b = this.make(v);
      this.map.set(v, b);
    }
    return b;
  }
  /** The encoded forms of a batch's dictionary, by id (id -1, no value, is the caller's). */
  pieces(col: DictColumn): T[] {
    const values = col.values;
    const out = new Array<T>(values.length);
    for (let id = 0; id < values.length; id++) out[id] = this.get(values[id]!);
    return out;
  }
}

/** A value's field and the trait column derived from it (written further along the row). */
type WithTrait = readonly [Uint8Array, Uint8Array];

const bytesOf = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const NO_FIELD = bytesOf('\t');
const field = (v: string): Uint8Array => bytesOf(`${tsv(v)}\t`);

/** The client columns of a record without a client address, by its kind (0 host name, 4, 6). */
const NO_IP = [bytesOf('\t0\t0\t\t0\t\t\t'), bytesOf('\t4\t0\t\t0\t\t\t'), bytesOf('\t6\t0\t\t0\t\t\t')];
const NO_PATH: WithTrait = [NO_FIELD, bytesOf('0\t')];
const NO_QUERY: WithTrait = [NO_FIELD, bytesOf('0\t')];
const NO_REFERER: WithTrait = [NO_FIELD, bytesOf('0\t\t')];
const MINUS_ONE = bytesOf('-1\t');

/** `NNN\t` for the statuses 0..999. */
const STATUS: Uint8Array[] = Array.from({ length: 1000 }, (_, s) => bytesOf(`${s}\t`));

/** Copies `src` into `dst` at `p`; returns the end. */
function put(dst: Buffer, p: number, src: Uint8Array): number {
  const n = src.length;
  if (n > 16) {
    dst.set(src, p);
    return p + n;
  }
  for (let i = 0; i < n; i++) dst[p + i] = src[i]!;
  return p + n;
}

/** A non-negative integer below 2^31 in decimal at `p`; returns the end. */
function putSmall(dst: Buffer, p: number, x: number): number {
  const n = x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 1e4 ? 4 : x < 1e5 ? 5 : x < 1e6 ? 6 : x < 1e7 ? 7 : x < 1e8 ? 8 : x < 1e9 ? 9 : 10;
  let e = p + n;
  while (x >= 10) {
    const q = (x / 10) | 0;
    dst[--e] = 48 + x - q * 10;
    x = q;
  }
  dst[--e] = 48 + x;
  return p + n;
}

/** A non-negative integer below 2^53 in decimal, then a tab; returns the end. */
export function putUint(dst: Buffer, p: number, x: number): number {
  if (x < 2147483648) {
    p = putSmall(dst, p, x);
  } else {
    const hi = Math.floor(x / 1e9);
    p = putSmall(dst, p, hi);
    let lo = x - hi * 1e9;
    for (let e = p + 8; e >= p; e--) {
      const q = Math.floor(lo / 10);
      dst[e] = 48 + lo - q * 10;
      lo = q;
    }
    p += 9;
  }
  dst[p] = 9;
  return p + 1;
}

/** Longest decimal integer column (`-1`, or up to 16 digits) with its tab, times the number columns of a row. */
const NUMBERS_MAX = 6 * 18 + 40;

/**
 * Encodes record batches as TSV rows. The encoded form of each distinct value (its
 * escaped text, and for a client its kind, hash and geo answer) is computed once and
 * kept across batches (bounded caches), then copied as bytes into the batch buffer:
 * no per-row strings for the garbage collector.
 */
export class RowEncoder {
  private readonly ip: PieceCache<Uint8Array>;
  private readonly method = new PieceCache(field);
  private readonly path = new PieceCache((v): WithTrait => [field(v), bytesOf(`${pathAsset(v)}\t`)]);
  private readonly query = new PieceCache((v): WithTrait => [field(v), bytesOf(`${queryRandom(v)}\t`)]);
  private readonly protocol = new PieceCache(field);
  private readonly referer = new PieceCache((v): WithTrait => {
    const t = refererTraits(v);
    return [field(v), bytesOf(`${t.refClass}\t${tsv(t.refHost)}\t`)];
  });
  private readonly ua = new PieceCache(field);
  private readonly vhost = new PieceCache(field);
  private readonly inputs = new PieceCache(field, 64);
  private readonly tails = new PieceCache(bytesOf, 64);
  /** The kind of the client being encoded (the cache key is the address text, which fixes its kind). */
  private kind = 0;

  constructor(geo: Geo) {
    this.ip = new PieceCache((v) => {
      const g = geo.lookup(v);
      return bytesOf(`${tsv(v)}\t${this.kind}\t${ipHash(v)}\t${tsv(g.aggPrefix ?? '')}\t${g.asn ?? 0}\t${tsv(g.asOrg ?? '')}\t${tsv(g.country ?? '')}\t`);
    });
  }

  /**
   * Appends the TSV rows of one record batch to `out` (columns in ALF_TABLE_COLUMNS
   * order; `tail` holds the last columns, load_id and batch, with the newline).
   */
  encode(b: RecordBatch, inputName: string, tail: string, out: TsvBuffer): void {
    const kinds = b.ipKind;
    const ipIds = b.ip.ids;
    const ipValues = b.ip.values;
    const ips = new Array<Uint8Array>(ipValues.length);
    for (let i = 0; i < b.length; i++) {
      const id = ipIds[i]!;
      if (id >= 0 && ips[id] === undefined) {
        this.kind = kinds[i]!;
        ips[id] = this.ip.get(ipValues[id]!);
      }
    }
    const method = this.method.pieces(b.method);
    const path = this.path.pieces(b.path);
    const query = this.query.pieces(b.query);
    const protocol = this.protocol.pieces(b.protocol);
    const referer = this.referer.pieces(b.referer);
    const ua = this.ua.pieces(b.userAgent);
    const vhost = this.vhost.pieces(b.vhost);
    const input = this.inputs.get(inputName);
    const end = this.tails.get(tail);
    const fixed = NUMBERS_MAX + input.length + end.length + 16;
    const { ts, status, bytesSent, durationMs, line, byteOffset } = b;
    const mIds = b.method.ids;
    const pIds = b.path.ids;
    const qIds = b.query.ids;
    const prIds = b.protocol.ids;
    const rIds = b.referer.ids;
    const uIds = b.userAgent.ids;
    const vIds = b.vhost.ids;
    let buf = out.buf;
    let p = out.pos;
    for (let i = 0; i < b.length; i++) {
      const ipId = ipIds[i]!;
      const ipPiece = ipId >= 0 ? ips[ipId]! : NO_IP[kinds[i] === 4 ? 1 : kinds[i] === 6 ? 2 : 0]!;
      const m = mIds[i]!;
      const pa = pIds[i]!;
      const q = qIds[i]!;
      const pr = prIds[i]!;
      const r = rIds[i]!;
      const u = uIds[i]!;
      const v = vIds[i]!;
      const mP = m >= 0 ? method[m]! : NO_FIELD;
      const paW = pa >= 0 ? path[pa]! : NO_PATH;
      const qW = q >= 0 ? query[q]! : NO_QUERY;
      const prP = pr >= 0 ? protocol[pr]! : NO_FIELD;
      const rW = r >= 0 ? referer[r]! : NO_REFERER;
      const uP = u >= 0 ? ua[u]! : NO_FIELD;
      const vP = v >= 0 ? vhost[v]! : NO_FIELD;
      const paP = paW[0];
      const qP = qW[0];
      const rP = rW[0];
      const aP = paW[1];
      const raP = qW[1];
      const rtP = rW[1];
      const dur = durationMs[i]!;
      const durText = Number.isFinite(dur) ? `${dur}\t` : null;
      const need = fixed + ipPiece.length + mP.length + paP.length + qP.length + prP.length + rP.length + uP.length + vP.length
        + aP.length + raP.length + rtP.length + (durText === null ? 0 : durText.length);
      if (p + need > buf.length) {
        out.pos = p;
        buf = out.reserve(need);
      }
      const t = ts[i]!;
      const ok = Number.isFinite(t);
      p = putUint(buf, p, ok ? Math.max(0, Math.floor(t)) : 0);
      buf[p] = ok ? 49 : 48;
      buf[p + 1] = 9;
      p = put(buf, p + 2, ipPiece);
      p = put(buf, p, mP);
      p = put(buf, p, paP);
      p = put(buf, p, qP);
      p = put(buf, p, prP);
      const s = status[i]!;
      p = s < 1000 ? put(buf, p, STATUS[s]!) : putUint(buf, p, s);
      const bytes = bytesSent[i]!;
      p = Number.isFinite(bytes) && bytes >= 0 ? putUint(buf, p, Math.floor(bytes)) : put(buf, p, MINUS_ONE);
      p = durText === null ? put(buf, p, MINUS_ONE) : p + buf.write(durText, p, 'latin1');
      p = put(buf, p, rP);
      p = put(buf, p, uP);
      p = put(buf, p, vP);
      p = put(buf, p, aP);
      p = put(buf, p, raP);
      p = put(buf, p, rtP);
      p = put(buf, p, input);
      p = putUint(buf, p, line[i]!);
      p = putUint(buf, p, byteOffset[i]!);
      p = put(buf, p, end);
    }
    out.pos = p;
    out.rows += b.length;
  }
}
