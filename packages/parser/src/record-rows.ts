/**
 * One row of a RecordBatch as a plain object: for tests, NDJSON output and
 * debugging, never for the hot path.
 */
import type { DictColumn, RecordBatch } from './types.ts';

export interface RecordRow {
  ts: number;
  status: number;
  bytesSent: number;
  durationMs: number;
  upstreamMs: number;
  ip: string | null;
  ipKind: number;
  method: string | null;
  path: string | null;
  query: string | null;
  protocol: string | null;
  referer: string | null;
  userAgent: string | null;
  vhost: string | null;
  user: string | null;
  forwardedFor: string | null;
  extra: Record<string, string | null>;
  input: number;
  line: number;
  byteOffset: number;
}

function at(c: DictColumn, i: number): string | null {
  const id = c.ids[i] as number;
  return id < 0 ? null : (c.values[id] ?? null);
}

export function recordAt(b: RecordBatch, i: number): RecordRow {
  const extra: Record<string, string | null> = {};
  for (const [k, col] of b.extra) extra[k] = at(col, i);
  return {
    ts: b.ts[i] as number, status: b.status[i] as number, bytesSent: b.bytesSent[i] as number,
    durationMs: b.durationMs[i] as number, upstreamMs: b.upstreamMs[i] as number,
    ip: at(b.ip, i), ipKind: b.ipKind[i] as number,
    method: at(b.method, i), path: at(b.path, i), query: at(b.query, i), protocol: at(b.protocol, i),
    referer: at(b.referer, i), userAgent: at(b.userAgent, i), vhost: at(b.vhost, i), user: at(b.user, i),
    forwardedFor: at(b.forwardedFor, i), extra,
    input: b.input[i] as number, line: b.line[i] as number, byteOffset: b.byteOffset[i] as number,
  };
}

/** All rows of a list of batches. */
export function recordRows(batches: Iterable<RecordBatch>): RecordRow[] {
  const out: RecordRow[] = [];
  for (const b of batches) for (let i = 0; i < b.length; i++) out.push(recordAt(b, i));
  return out;
}
