/**
 * A stateless batch step: the rows of a RecordBatch at given indexes, as a new
 * batch sharing the dictionaries' values. Used by every record filter
 * (`--vhost`, `--from/--to`) so that all passes see the same records.
 */
import type { DictColumn, RecordBatch } from '@alf/parser';

function pickTyped<T extends Float64Array | Uint16Array | Uint8Array>(src: T, rows: Int32Array, out: T): T {
  for (let i = 0; i < rows.length; i++) out[i] = src[rows[i]!]!;
  return out;
}

function pickDict(col: DictColumn, rows: Int32Array): DictColumn {
  const ids = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) ids[i] = col.ids[rows[i]!]!;
  return { ids, values: col.values };
}

/** The rows of `batch` with the given indexes (ascending); dictionaries' values are shared. */
export function selectRows(batch: RecordBatch, rows: Int32Array): RecordBatch {
  const n = rows.length;
  const extra = new Map<string, DictColumn>();
  for (const [k, col] of batch.extra) extra.set(k, pickDict(col, rows));
  return {
    length: n,
    ts: pickTyped(batch.ts, rows, new Float64Array(n)),
    status: pickTyped(batch.status, rows, new Uint16Array(n)),
    bytesSent: pickTyped(batch.bytesSent, rows, new Float64Array(n)),
    durationMs: pickTyped(batch.durationMs, rows, new Float64Array(n)),
    upstreamMs: pickTyped(batch.upstreamMs, rows, new Float64Array(n)),
    ip: pickDict(batch.ip, rows),
    ipKind: pickTyped(batch.ipKind, rows, new Uint8Array(n)),
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
    input: pickTyped(batch.input, rows, new Uint16Array(n)),
    line: pickTyped(batch.line, rows, new Float64Array(n)),
    byteOffset: pickTyped(batch.byteOffset, rows, new Float64Array(n)),
  };
}

