/**
 * The SQL of the ClickHouse engine: exact GROUP BY queries whose small results
 * rebuild core's pass-1 and pass-2 states (sql/build-state.ts). Written for
 * ClickHouse 18.16 and current versions alike: no CTEs, no window functions,
 * no IP types, no toStartOfInterval, ORDER BY by name; aliases only where a
 * value is used twice. Exact aggregates only (count, sum, uniqExact, min, max).
 */
import type { SqlColumns } from './columns.ts';
import { capKeyExpr, sqlString } from './columns.ts';

/** One window's time ranges (epoch ms; `to` exclusive), as core's attribution uses them. */
export interface SqlWindowRange {
  readonly insideFromMs: number;
  readonly insideToMs: number;
  readonly refBefore: readonly [number, number];
  readonly refAfter: readonly [number, number];
}

/** A query and the names of the columns it returns, in order. */
export interface SqlQuery {
  readonly name: string;
  readonly sql: string;
  readonly columns: readonly string[];
}

const int = (x: number): string => {
  if (!Number.isSafeInteger(x)) throw new Error(`not an integer time: ${x}`);
  return String(x);
};

/** Records with a time. */
const timed = (c: SqlColumns): string => `${c.ts_ok} = 1`;

/** Pass 1 totals: records with and without a time, first and last time. */
export function totalsQuery(table: string, c: SqlColumns): SqlQuery {
  return {
    name: 'totals',
    sql: `SELECT countIf(${c.ts_ok} = 1) AS records, countIf(${c.ts_ok} != 1) AS without_time, minIf(${c.ts_ms}, ${c.ts_ok} = 1) AS min_ms, maxIf(${c.ts_ms}, ${c.ts_ok} = 1) AS max_ms FROM ${table}`,
    columns: ['records', 'without_time', 'min_ms', 'max_ms'],
  };
}

/** Pass 1: the per-second timeline (requests, status classes 2xx–5xx, bytes). */
export function timelineQuery(table: string, c: SqlColumns): SqlQuery {
  const cls = (k: number): string => `sum(${c.status} >= ${k * 100} AND ${c.status} < ${k * 100 + 100}) AS s${k}xx`;
  return {
    name: 'timeline',
    sql: `SELECT intDiv(${c.ts_ms}, 1000) AS sec, count() AS requests, ${cls(2)}, ${cls(3)}, ${cls(4)}, ${cls(5)}, sum(if(${c.bytes} > 0, ${c.bytes}, 0)) AS bytes_sent FROM ${table} WHERE ${timed(c)} GROUP BY sec ORDER BY sec`,
    columns: ['sec', 'requests', 's2xx', 's3xx', 's4xx', 's5xx', 'bytes_sent'],
  };
}

/**
 * Pass 1: the per-minute HyperLogLog registers of client IPs, exactly as core's
 * hllAdd builds them from hashString(ip): register = top 7 bits of the hash,
 * rank = 26 − bit length of the low 25 bits (integer comparisons, no log2).
 */
export function ipSketchQuery(table: string, c: SqlColumns): SqlQuery {
  const low = 'bitAnd(__alf_ih, 33554431)';
  const bitLength = Array.from({ length: 25 }, (_, k) => `(${low} >= ${2 ** k})`).join(' + ');
  const hash = `toUInt32(${c.ip_hash})`;
  return {
    name: 'ip_sketch',
    sql: `SELECT intDiv(${c.ts_ms}, 60000) AS minute, bitShiftRight(${hash}, 25) AS reg, max(arrayElement(arrayMap(__alf_ih -> 26 - (${bitLength}), [${hash}]), 1)) AS rank `
      + `FROM ${table} WHERE ${timed(c)} AND ${c.ip} != '' GROUP BY minute, reg ORDER BY minute, reg`,
    columns: ['minute', 'reg', 'rank'],
  };
}

const inRange = (c: SqlColumns, from: number, to: number): string => `(${c.ts_ms} >= ${int(from)} AND ${c.ts_ms} < ${int(to)})`;

/**
 * Which inside IPs a per-IP detail query covers: a hash limit (the IPs with `hashString(ip) <
 * limit`, pass 2's detail sample; 2^32: every IP) or a list of client texts (the detail pass).
 */
export type IpSelection = number | readonly string[];

/** The selection as a condition; with limit 2^32 (every IP) no hash is computed. */
const selected = (c: SqlColumns, sel: IpSelection): string => {
  if (typeof sel !== 'number') return sel.length === 0 ? '0' : `${c.ip} IN (${sel.map(sqlString).join(', ')})`;
  return sel >= 2 ** 32 ? '1' : `toUInt64(toUInt32(${c.ip_hash})) < ${int(sel)}`;
};
const atOrAbove = (c: SqlColumns, limit: number): string => (limit >= 2 ** 32 ? '0' : `toUInt64(toUInt32(${c.ip_hash})) >= ${int(limit)}`);

/** Records inside window `k` (with a time and an IP: pass 2 skips the others). */
export function insideCondition(c: SqlColumns, ranges: readonly SqlWindowRange[], k: number): string {
  const r = ranges[k]!;
  return `${timed(c)} AND ${c.ip} != '' AND ${inRange(c, r.insideFromMs, r.insideToMs)}`;
}

/** Records in window `k`'s reference periods and inside no window. */
export function referenceCondition(c: SqlColumns, ranges: readonly SqlWindowRange[], k: number): string {
  const r = ranges[k]!;
  const ref = [r.refBefore, r.refAfter].filter(([a, b]) => b > a).map(([a, b]) => inRange(c, a, b));
  if (ref.length === 0) return '0';
  const anyInside = ranges.map((w) => inRange(c, w.insideFromMs, w.insideToMs)).join(' OR ');
  return `${timed(c)} AND ${c.ip} != '' AND (${ref.join(' OR ')}) AND NOT (${anyInside})`;
}

/** Pass 2, per window: each IP's inside counts (the window's aggregate is their sum). */
export function insideIpsQuery(table: string, c: SqlColumns, ranges: readonly SqlWindowRange[], k: number, sel: IpSelection): SqlQuery {
  const st = c.status;
  return {
    name: `window_${k}_ips`,
    sql: `SELECT ${c.ip} AS client, max(${c.ip_kind}) AS kind, count() AS requests, min(${c.ts_ms}) AS first_ms, max(${c.ts_ms}) AS last_ms, `
      + `sum(${c.path_asset}) AS assets, sum(${c.query_random}) AS random_query, `
      + `sum(${c.ref_class} = 0) AS ref_none, sum(${c.ref_class} = 1) AS ref_search, sum(${c.ref_class} = 2) AS ref_social, sum(${c.ref_class} = 3) AS ref_other, `
      + `sum(if(${c.bytes} > 0, ${c.bytes}, 0)) AS bytes_sent, `
      + `sum(${st} >= 400 AND ${st} < 500) AS e4xx, sum(${st} >= 500) AS e5xx, sum(${st} IN (429, 499, 503)) AS throttled, `
      + `uniqExact(${capKeyExpr(c.path)}) AS paths, uniqExact(${capKeyExpr(c.ua)}) AS agents `
      + `FROM ${table} WHERE ${insideCondition(c, ranges, k)} AND ${selected(c, sel)} GROUP BY client ORDER BY client`,
    columns: ['client', 'kind', 'requests', 'first_ms', 'last_ms', 'assets', 'random_query', 'ref_none', 'ref_search', 'ref_social', 'ref_other',
      'bytes_sent', 'e4xx', 'e5xx', 'throttled', 'paths', 'agents'],
  };
}

/** Pass 2, per window: requests per (IP, status). */
export function insideStatusesQuery(table: string, c: SqlColumns, ranges: readonly SqlWindowRange[], k: number, sel: IpSelection): SqlQuery {
  return {
    name: `window_${k}_statuses`,
    sql: `SELECT ${c.ip} AS client, toUInt32(${c.status}) AS code, count() AS requests FROM ${table} WHERE ${insideCondition(c, ranges, k)} AND ${selected(c, sel)} GROUP BY client, code ORDER BY client, code`,
    columns: ['client', 'code', 'requests'],
  };
}

/** Pass 2, per window: requests (and random-query requests) per (IP, path) of the IPs with at most `maxPaths` paths. */
export function insidePathsQuery(table: string, c: SqlColumns, ranges: readonly SqlWindowRange[], k: number, sel: IpSelection, maxPaths: number): SqlQuery {
  return {
    name: `window_${k}_paths`,
    sql: `SELECT client, groupArray(key) AS keys, groupArray(requests) AS counts, groupArray(random_query) AS random FROM (`
      + `SELECT ${c.ip} AS client, ${capKeyExpr(c.path)} AS key, count() AS requests, sum(${c.query_random}) AS random_query FROM ${table} WHERE ${insideCondition(c, ranges, k)} AND ${selected(c, sel)} GROUP BY client, key`
      + `) GROUP BY client HAVING count() <= ${int(maxPaths)} ORDER BY client`,
    columns: ['client', 'keys', 'counts', 'random'],
  };
}

/** Pass 2, per window: requests per (IP, user agent) of the IPs with at most `maxAgents` agents. */
export function insideAgentsQuery(table: string, c: SqlColumns, ranges: readonly SqlWindowRange[], k: number, sel: IpSelection, maxAgents: number): SqlQuery {
  return {
    name: `window_${k}_agents`,
    sql: `SELECT client, groupArray(key) AS keys, groupArray(requests) AS counts FROM (`
      + `SELECT ${c.ip} AS client, ${capKeyExpr(c.ua)} AS key, count() AS requests FROM ${table} WHERE ${insideCondition(c, ranges, k)} AND ${selected(c, sel)} GROUP BY client, key`
      + `) GROUP BY client HAVING count() <= ${int(maxAgents)} ORDER BY client`,
    columns: ['client', 'keys', 'counts'],
  };
}

/** Pass 2, per window: referer hosts of inside non-asset requests, the `limit` most frequent, and the total. */
export function refererHostsQuery(table: string, c: SqlColumns, ranges: readonly SqlWindowRange[], k: number, limit: number): SqlQuery {
  return {
    name: `window_${k}_referer_hosts`,
    sql: `SELECT ${c.ref_host} AS host, count() AS requests FROM ${table} WHERE ${insideCondition(c, ranges, k)} AND ${c.path_asset} = 0 AND ${c.ref_host} != '' `
      + `GROUP BY host ORDER BY requests DESC, host LIMIT ${int(limit)}`,
    columns: ['host', 'requests'],
  };
}

/** Pass 2, per window: requests with a referer host (for the count past the host cap). */
export function refererTotalQuery(table: string, c: SqlColumns, ranges: readonly SqlWindowRange[], k: number): SqlQuery {
  return {
    name: `window_${k}_referer_total`,
    sql: `SELECT count() AS requests FROM ${table} WHERE ${insideCondition(c, ranges, k)} AND ${c.path_asset} = 0 AND ${c.ref_host} != ''`,
    columns: ['requests'],
  };
}

/** Pass 2, per window: the reference periods' aggregate. */
export function referenceTotalsQuery(table: string, c: SqlColumns, ranges: readonly SqlWindowRange[], k: number): SqlQuery {
  const st = c.status;
  return {
    name: `window_${k}_reference_totals`,
    sql: `SELECT count() AS requests, sum(${st} >= 400 AND ${st} < 500) AS e4xx, sum(${st} >= 500) AS e5xx, sum(${st} IN (429, 499, 503)) AS throttled, sum(${c.query_random}) AS random_query `
      + `FROM ${table} WHERE ${referenceCondition(c, ranges, k)}`,
    columns: ['requests', 'e4xx', 'e5xx', 'throttled', 'random_query'],
  };
}

/**
 * Pass 2, per window: distinct IPs per top 16 bits of their hash, inside the window
 * or in its reference periods; tells how far to sample before fetching per-IP rows.
 */
export function hashLevelsQuery(table: string, c: SqlColumns, ranges: readonly SqlWindowRange[], k: number, role: 'inside' | 'reference'): SqlQuery {
  const where = role === 'inside' ? insideCondition(c, ranges, k) : referenceCondition(c, ranges, k);
  return {
    name: `window_${k}_${role}_hash_levels`,
    sql: `SELECT bitShiftRight(toUInt32(${c.ip_hash}), 16) AS top, uniqExact(${c.ip}) AS clients FROM ${table} WHERE ${where} GROUP BY top ORDER BY top`,
    columns: ['top', 'clients'],
  };
}

/** Pass 2, per window: the inside requests of IPs at or past the sampling limit, summed (core's sampledOut). */
export function insideSampledOutQuery(table: string, c: SqlColumns, ranges: readonly SqlWindowRange[], k: number, limit: number): SqlQuery {
  const st = c.status;
  return {
    name: `window_${k}_sampled_out`,
    sql: `SELECT count() AS requests, sum(${c.path_asset}) AS assets, sum(${c.query_random}) AS random_query, `
      + `sum(${c.ref_class} = 0) AS ref_none, sum(${c.ref_class} = 1) AS ref_search, sum(${c.ref_class} = 2) AS ref_social, sum(${c.ref_class} = 3) AS ref_other, `
      + `sum(${st} >= 400 AND ${st} < 500) AS e4xx, sum(${st} >= 500) AS e5xx, sum(${st} IN (429, 499, 503)) AS throttled `
      + `FROM ${table} WHERE ${insideCondition(c, ranges, k)} AND ${atOrAbove(c, limit)}`,
    columns: ['requests', 'assets', 'random_query', 'ref_none', 'ref_search', 'ref_social', 'ref_other', 'e4xx', 'e5xx', 'throttled'],
  };
}

/**
 * Pass 2, per window: the exact inside and reference request counts of every client
 * (core's IpCounts; `GROUP BY ip` with countIf). Unordered: the result can hold millions
 * of rows and is read as a stream (analyze-run), never sorted or held as objects.
 */
export function ipCountsQuery(table: string, c: SqlColumns, ranges: readonly SqlWindowRange[], k: number): SqlQuery {
  const inside = insideCondition(c, ranges, k);
  const reference = referenceCondition(c, ranges, k);
  const sql = reference === '0'
    ? `SELECT ${c.ip} AS client, count() AS inside_requests, toUInt64(0) AS ref_requests FROM ${table} WHERE ${inside} GROUP BY client`
    : `SELECT ${c.ip} AS client, countIf(${inside}) AS inside_requests, countIf(${reference}) AS ref_requests FROM ${table} WHERE (${inside}) OR (${reference}) GROUP BY client`;
  return { name: `window_${k}_ip_counts`, sql, columns: ['client', 'inside_requests', 'ref_requests'] };
}
