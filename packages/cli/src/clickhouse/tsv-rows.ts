/**
 * The TSV rows `alf load clickhouse` sends: one row per parsed record, columns in
 * ALF_TABLE_COLUMNS order (core/sql/schema.ts), attacker-written fields escaped
 * for ClickHouse's TabSeparated format, with the bookkeeping that lets a retry
 * resend only the rows that did not land.
 */
import { ipHash, pathAsset, queryRandom, refererTraits } from '@alf/core';
import type { Geo } from '@alf/geo';
import type { RecordBatch } from '@alf/parser';

/** TSV escaping of ClickHouse's TabSeparated format. */
function tsv(s: string): string {
  if (!/[\\\t\n\r\0\b\f]/.test(s)) return s;
  return s.replace(/[\\\t\n\r\0\b\f]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\0' ? '\\0' : c === '\b' ? '\\b' : '\\f'));
}

/**
 * A growing byte buffer for one batch of TSV rows: values are copied in as
 * bytes (each distinct dictionary value encoded once per record batch), numbers
 * written digit by digit: no per-row strings for the garbage collector.
 */
export class TsvBuffer {
  buf: Buffer;
  pos = 0;
  rows = 0;
  /** Per row: byte offset of its start, its input's index in `inputNames`, its line number (to resend only missing rows). */
  readonly starts: number[] = [];
  readonly inputs: number[] = [];
  readonly lines: number[] = [];
  readonly inputNames: string[] = [];
  constructor(initialBytes = 1 << 22) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  bytes(b: Uint8Array): void {
    const n = b.length;
    this.ensure(n);
    if (n < 24) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) buf[p++] = b[i]!;
      this.pos = p;
    } else {
      this.buf.set(b, this.pos);
      this.pos += n;
    }
  }
  /** A non-negative integer below 2^53, then a tab (or `end`). */
  uint(x: number, end = 9): void {
    this.ensure(18);
    const buf = this.buf;
    if (x < 10) {
      buf[this.pos++] = 48 + x;
    } else {
      let digits = 0;
      for (let y = x; y >= 1; y = Math.floor(y / 10)) digits++;
      let p = this.pos + digits;
      this.pos = p;
      for (let y = x; y >= 1; y = Math.floor(y / 10)) buf[--p] = 48 + (y % 10);
    }
    buf[this.pos++] = end;
  }
  ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }
  /** Starts a row of input `name`, line `line`. */
  startRow(name: string, line: number): void {
    let k = this.inputNames.length - 1;
    if (k < 0 || this.inputNames[k] !== name) {
      k = this.inputNames.indexOf(name);
      if (k < 0) k = this.inputNames.push(name) - 1;
    }
    this.starts.push(this.pos);
    this.inputs.push(k);
    this.lines.push(line);
    this.rows++;
  }

  /** A copy holding only the rows whose `input\tline` is not in `landed`. */
  without(landed: ReadonlySet<string>): TsvBuffer {
    const out = new TsvBuffer(Math.max(1024, this.pos));
    for (let r = 0; r < this.rows; r++) {
      const name = this.inputNames[this.inputs[r]!]!;
      if (landed.has(`${name}\t${this.lines[r]!}`)) continue;
      out.startRow(name, this.lines[r]!);
      out.bytes(this.buf.subarray(this.starts[r]!, r + 1 < this.rows ? this.starts[r + 1]! : this.pos));
    }
    return out;
  }

  /** The bytes written so far (a view; the buffer is not reused). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Per-batch memo of a dictionary column's encoded values (`none` for a missing value). */
function encoded(values: readonly string[], f: (v: string, id: number) => string, none: string): (id: number) => Uint8Array {
  const memo: (Uint8Array | undefined)[] = new Array(values.length);
  const noneBytes = Buffer.from(none, 'utf8');
  return (id) => {
    if (id < 0) return noneBytes;
    let v = memo[id];
    if (v === undefined) v = memo[id] = Buffer.from(f(values[id]!, id), 'utf8');
    return v;
  };
}

/**
 * Appends the TSV rows of one record batch to `out` (columns in ALF_TABLE_COLUMNS
 * order; `tail` holds the last columns, load_id and batch, with the newline).
 */
export function encodeBatch(b: RecordBatch, geo: Geo, inputName: string, tail: string, out: TsvBuffer): void {
  const kinds = b.ipKind;
  const firstRow = new Int32Array(b.ip.values.length).fill(-1);
  for (let i = 0; i < b.length; i++) {
    const id = b.ip.ids[i]!;
    if (id >= 0 && firstRow[id]! < 0) firstRow[id] = i;
  }
  const ipBlock = encoded(b.ip.values, (v, id) => {
    const g = geo.lookup(v);
    return `${tsv(v)}\t${kinds[firstRow[id]!]!}\t${ipHash(v)}\t${tsv(g.aggPrefix ?? '')}\t${g.asn ?? 0}\t${tsv(g.asOrg ?? '')}\t${tsv(g.country ?? '')}\t`;
  }, '');
  const field = (v: string): string => `${tsv(v)}\t`;
  const method = encoded(b.method.values, field, '\t');
  const path = encoded(b.path.values, field, '\t');
  const query = encoded(b.query.values, field, '\t');
  const protocol = encoded(b.protocol.values, field, '\t');
  const referer = encoded(b.referer.values, field, '\t');
  const ua = encoded(b.userAgent.values, field, '\t');
  const vhost = encoded(b.vhost.values, field, '\t');
  const asset = encoded(b.path.values, (v) => `${pathAsset(v)}\t`, '0\t');
  const random = encoded(b.query.values, (v) => `${queryRandom(v)}\t`, '0\t');
  const refTraits = encoded(b.referer.values, (v) => {
    const t = refererTraits(v);
    return `${t.refClass}\t${tsv(t.refHost)}\t`;
  }, '0\t\t');
  const input = Buffer.from(`${tsv(inputName)}\t`, 'utf8');
  const end = Buffer.from(tail, 'utf8');
  const noIp = Buffer.from('\t', 'utf8');
  for (let i = 0; i < b.length; i++) {
    const t = b.ts[i]!;
    const ok = Number.isFinite(t);
    out.startRow(inputName, b.line[i]!);
    out.uint(ok ? Math.max(0, Math.floor(t)) : 0);
    out.uint(ok ? 1 : 0);
    const ip = b.ip.ids[i]!;
    if (ip >= 0) {
      out.bytes(ipBlock(ip));
    } else {
      out.bytes(noIp);
      out.uint(kinds[i]!);
      out.ascii('0\t\t0\t\t\t');
    }
    out.bytes(method(b.method.ids[i]!));
    out.bytes(path(b.path.ids[i]!));
    out.bytes(query(b.query.ids[i]!));
    out.bytes(protocol(b.protocol.ids[i]!));
    out.uint(b.status[i]!);
    const bytes = b.bytesSent[i]!;
    if (Number.isFinite(bytes) && bytes >= 0) out.uint(Math.floor(bytes));
    else out.ascii('-1\t');
    const dur = b.durationMs[i]!;
    out.ascii(Number.isFinite(dur) ? `${dur}\t` : '-1\t');
    out.bytes(referer(b.referer.ids[i]!));
    out.bytes(ua(b.userAgent.ids[i]!));
    out.bytes(vhost(b.vhost.ids[i]!));
    out.bytes(asset(b.path.ids[i]!));
    out.bytes(random(b.query.ids[i]!));
    out.bytes(refTraits(b.referer.ids[i]!));
    out.bytes(input);
    out.uint(b.line[i]!);
    out.uint(b.byteOffset[i]!);
    out.bytes(end);
  }
}
