/**
 * Test-only helpers: build RecordBatches without the parser. `BatchBuilder`
 * interns strings per batch like the parser does; `parseCombined` reads Apache
 * combined / common lines (enough for the real logs in testdata/real).
 */
import type { DictColumn, RecordBatch } from '@alf/parser';
import { IP_KIND_HOSTNAME, IP_KIND_V4, IP_KIND_V6 } from '@alf/parser';

export interface TestRow {
  readonly ts: number;
  readonly ip: string;
  readonly path?: string;
  readonly query?: string | null;
  readonly status?: number;
  readonly bytes?: number;
  readonly ua?: string | null;
  readonly referer?: string | null;
  readonly method?: string;
}

class Dict {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  id(v: string | null | undefined): number {
    if (v === null || v === undefined) return -1;
    let id = this.index.get(v);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(v);
      this.index.set(v, id);
    }
    return id;
  }
}

export class BatchBuilder {
  private readonly rows: TestRow[] = [];
  push(row: TestRow): void {
    this.rows.push(row);
  }
  get size(): number {
    return this.rows.length;
  }
  build(): RecordBatch {
    return makeBatch(this.rows);
  }
}

function kindOf(ip: string): number {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return IP_KIND_V4;
  if (ip.includes(':')) return IP_KIND_V6;
  return IP_KIND_HOSTNAME;
}

/** One batch from rows; typed arrays are over-allocated like the parser's. */
export function makeBatch(rows: readonly TestRow[]): RecordBatch {
  const cap = Math.max(1, rows.length * 2);
  const ts = new Float64Array(cap);
  const status = new Uint16Array(cap);
  const bytesSent = new Float64Array(cap).fill(NaN);
  const durationMs = new Float64Array(cap).fill(NaN);
  const upstreamMs = new Float64Array(cap).fill(NaN);
  const ipKind = new Uint8Array(cap);
  const input = new Uint16Array(cap);
  const line = new Float64Array(cap);
  const byteOffset = new Float64Array(cap);
  const dicts = { ip: new Dict(), method: new Dict(), path: new Dict(), query: new Dict(), protocol: new Dict(), referer: new Dict(), ua: new Dict(), none: new Dict() };
  const ids = { ip: new Int32Array(cap), method: new Int32Array(cap), path: new Int32Array(cap), query: new Int32Array(cap), protocol: new Int32Array(cap), referer: new Int32Array(cap), ua: new Int32Array(cap), none: new Int32Array(cap).fill(-1) };
  rows.forEach((r, i) => {
    ts[i] = r.ts;
    status[i] = r.status ?? 200;
    bytesSent[i] = r.bytes ?? 512;
    ipKind[i] = kindOf(r.ip);
    line[i] = i + 1;
    ids.ip[i] = dicts.ip.id(r.ip);
    ids.method[i] = dicts.method.id(r.method ?? 'GET');
    ids.path[i] = dicts.path.id(r.path ?? '/');
    ids.query[i] = dicts.query.id(r.query ?? null);
    ids.protocol[i] = dicts.protocol.id('HTTP/1.1');
    ids.referer[i] = dicts.referer.id(r.referer === undefined ? '-' : r.referer);
    ids.ua[i] = dicts.ua.id(r.ua === undefined ? 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0' : r.ua);
  });
  const col = (k: keyof typeof dicts): DictColumn => ({ ids: ids[k], values: dicts[k].values });
  return {
    length: rows.length, ts, status, bytesSent, durationMs, upstreamMs,
    ip: col('ip'), ipKind, method: col('method'), path: col('path'), query: col('query'),
    protocol: col('protocol'), referer: col('referer'), userAgent: col('ua'), vhost: col('none'),
    user: col('none'), forwardedFor: col('none'), extra: new Map(), input, line, byteOffset,
  };
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const LINE = /^(\S+) \S+ \S+ \[(\d\d)\/(\w\w\w)\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\] "(\S+) ?(\S*)[^"]*" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?/;

/** Apache combined/common lines → rows (unparseable lines skipped). */
export function parseCombined(lines: readonly string[]): TestRow[] {
  const out: TestRow[] = [];
  for (const l of lines) {
    const m = LINE.exec(l);
    if (m === null) continue;
    const sign = m[8] === '-' ? -1 : 1;
    const offMin = sign * (Number(m[9]) * 60 + Number(m[10]));
    const ts = Date.UTC(Number(m[4]), MONTHS[m[3]!]!, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7])) - offMin * 60_000;
    const target = m[12] ?? '/';
    const q = target.indexOf('?');
    out.push({
      ts, ip: m[1]!, method: m[11]!, path: q >= 0 ? target.slice(0, q) : target, query: q >= 0 ? target.slice(q + 1) : null,
      status: Number(m[13]), bytes: m[14] === '-' ? NaN : Number(m[14]), referer: m[15] ?? null, ua: m[16] ?? null,
    });
  }
  return out;
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poisson sample (Knuth below 30, normal approximation above). */
export function poisson(rand: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda < 30) {
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= rand();
    } while (p > l);
    return k - 1;
  }
  const u = Math.max(1e-12, rand());
  const v = rand();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
}

/** Split rows into batches of `size`. */
export function toBatches(rows: readonly TestRow[], size: number): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (let i = 0; i < rows.length; i += size) out.push(makeBatch(rows.slice(i, i + size)));
  return out;
}
