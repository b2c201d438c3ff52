/**
 * `--from`/`--to` for `alf analyze`: the rows of a batch inside [fromMs, toMs).
 * Rows without a usable timestamp are kept (core counts them as such). A batch
 * wholly inside is returned as it is; otherwise a new batch sharing the
 * dictionaries' values.
 */
import type { DictColumn, RecordBatch } from '@alf/parser';

export interface FilteredBatch {
  readonly batch: RecordBatch;
  /** Rows left out (outside the bounds). */
  readonly skipped: number;
}

function pickTyped<T extends Float64Array | Uint16Array | Uint8Array>(src: T, rows: Int32Array, make: (n: number) => T): T {
  const out = make(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = src[rows[i]!]!;
  return out;
}

function pickDict(col: DictColumn, rows: Int32Array): DictColumn {
  const ids = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) ids[i] = col.ids[rows[i]!]!;
  return { ids, values: col.values };
}

/** The rows of `batch` with `fromMs <= ts < toMs` (null: no bound), plus rows without a timestamp. */
export function filterByTime(batch: RecordBatch, fromMs: number | null, toMs: number | null): FilteredBatch {
  if (fromMs === null && toMs === null) return { batch, skipped: 0 };
  const lo = fromMs ?? -Infinity;
  const hi = toMs ?? Infinity;
  const keep = new Int32Array(batch.length);
  let n = 0;
  for (let i = 0; i < batch.length; i++) {
    const t = batch.ts[i]!;
    if (!(t < lo || t >= hi)) keep[n++] = i; // NaN passes
  }
  if (n === batch.length) return { batch, skipped: 0 };
  const rows = keep.subarray(0, n);
  const extra = new Map<string, DictColumn>();
  for (const [k, col] of batch.extra) extra.set(k, pickDict(col, rows));
  const f64 = (a: Float64Array): Float64Array => pickTyped(a, rows, (m) => new Float64Array(m));
  return {
    skipped: batch.length - n,
    batch: {
      length: n,
      ts: f64(batch.ts),
      status: pickTyped(batch.status, rows, (m) => new Uint16Array(m)),
      bytesSent: f64(batch.bytesSent),
      durationMs: f64(batch.durationMs),
      upstreamMs: f64(batch.upstreamMs),
      ip: pickDict(batch.ip, rows),
      ipKind: pickTyped(batch.ipKind, rows, (m) => new Uint8Array(m)),
      method: pickDict(batch.method, rows),
      path: pickDict(batch.path, rows),
      query: pickDict(batch.query, rows),
      protocol: pickDict(batch.protocol, rows),
      referer: pickDict(batch.referer, rows),
      userAgent: pickDict(batch.userAgent, rows),
      vhost: pickDict(batch.vhost, rows),
      user: pickDict(batch.user, rows),
      forwardedFor: pickDict(batch.forwardedFor, rows),
      extra,
      input: pickTyped(batch.input, rows, (m) => new Uint16Array(m)),
      line: f64(batch.line),
      byteOffset: f64(batch.byteOffset),
    },
  };
}

/** First and last finite timestamp of a batch (null when none). */
export function batchSpan(batch: RecordBatch): { firstMs: number; lastMs: number } | null {
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < batch.length; i++) {
    const t = batch.ts[i]!;
    if (t < first) first = t;
    if (t > last) last = t;
  }
  return first <= last ? { firstMs: first, lastMs: last } : null;
}
