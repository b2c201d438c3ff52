/**
 * Test and bench helper: large synthetic streams as RecordBatches built
 * straight into typed arrays (no row objects), e.g. 10M distinct IPv4 clients
 * with one request each plus one heavy attacker. Deterministic.
 */
import type { DictColumn, RecordBatch } from '@alf/parser';
import { IP_KIND_V4 } from '@alf/parser';
import { formatIpv4 } from '@alf/geo';

export interface DistinctStream {
  /** Distinct background clients, one request each, evenly spread over [fromMs, toMs). */
  readonly distinct: number;
  readonly fromMs: number;
  readonly toMs: number;
  /** Requests of one heavy client, evenly spread over [attackFromMs, attackToMs). */
  readonly attackerIp?: string;
  readonly attackerRequests?: number;
  readonly attackFromMs?: number;
  readonly attackToMs?: number;
  readonly batchRows?: number;
}

const PATHS = ['/', '/index.html', '/about', '/static/app.js', '/static/site.css', '/login', '/search', '/api/items'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/128.0', 'curl/8.5.0'];

function dict(values: readonly string[], ids: Int32Array): DictColumn {
  return { ids, values };
}

/**
 * Background client k is the IPv4 address `(k * 2654435761 + 0x0b000000) mod 2^32`
 * (distinct for distinct k: the multiplier is odd), so addresses scatter over the space.
 */
export function backgroundIp(k: number): number {
  return (Math.imul(k, 0x9e3779b1) + 0x0b000000) >>> 0;
}

function batch(n: number, fill: (i: number, ts: Float64Array, ipIds: Int32Array, ipValues: string[], pathIds: Int32Array, uaIds: Int32Array) => void): RecordBatch {
  const ts = new Float64Array(n);
  const status = new Uint16Array(n).fill(200);
  const bytesSent = new Float64Array(n).fill(1234);
  const nan = new Float64Array(n).fill(NaN);
  const ipIds = new Int32Array(n);
  const ipValues: string[] = [];
  const pathIds = new Int32Array(n);
  const uaIds = new Int32Array(n);
  const none = new Int32Array(n).fill(-1);
  const zeros = new Int32Array(n);
  const line = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    fill(i, ts, ipIds, ipValues, pathIds, uaIds);
    line[i] = i + 1;
  }
  return {
    length: n, ts, status, bytesSent, durationMs: nan, upstreamMs: nan,
    ip: dict(ipValues, ipIds), ipKind: new Uint8Array(n).fill(IP_KIND_V4), method: dict(['GET'], zeros), path: dict(PATHS, pathIds),
    query: dict([], none), protocol: dict(['HTTP/1.1'], zeros), referer: dict([], none), userAgent: dict(AGENTS, uaIds),
    vhost: dict([], none), user: dict([], none), forwardedFor: dict([], none), extra: new Map(), input: new Uint16Array(n), line, byteOffset: nan,
  };
}

/** The stream's batches: background first, then the attacker's (results do not depend on order). */
export function* distinctIpBatches(s: DistinctStream): Generator<RecordBatch> {
  const rows = s.batchRows ?? 65_536;
  const span = s.toMs - s.fromMs;
  for (let start = 0; start < s.distinct; start += rows) {
    const n = Math.min(rows, s.distinct - start);
    yield batch(n, (i, ts, ipIds, ipValues, pathIds, uaIds) => {
      const k = start + i;
      ts[i] = s.fromMs + Math.floor((k * span) / s.distinct / 1000) * 1000;
      ipIds[i] = ipValues.length;
      ipValues.push(formatIpv4(backgroundIp(k)));
      pathIds[i] = k % PATHS.length;
      uaIds[i] = k % 2;
    });
  }
  const total = s.attackerRequests ?? 0;
  if (s.attackerIp === undefined || total === 0) return;
  const from = s.attackFromMs ?? s.fromMs;
  const aspan = (s.attackToMs ?? s.toMs) - from;
  for (let start = 0; start < total; start += rows) {
    const n = Math.min(rows, total - start);
    yield batch(n, (i, ts, ipIds, ipValues, pathIds, uaIds) => {
      const k = start + i;
      ts[i] = from + Math.floor((k * aspan) / total);
      if (ipValues.length === 0) ipValues.push(s.attackerIp!);
      ipIds[i] = 0;
      pathIds[i] = 5; // /login
      uaIds[i] = 2; // curl
    });
  }
}
