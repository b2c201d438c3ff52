/**
 * Core's pass-1 and pass-2 states built from the results of the queries in
 * sql/queries.ts (pure functions: rows in, snapshots out). The snapshots are
 * then folded into an analysis with `mergeSnapshot`, so burst detection,
 * attribution, clustering and verdicts run the same code as a local run.
 */
import type { AnalysisSnapshot, AttributionSnapshot } from '../analysis.ts';
import { hashString } from '../hash.ts';
import { HLL_REGISTERS } from '../hll.ts';
import type { IpWindowStats, WindowAggregate } from '../ip-window-stats.ts';
import { PAGE_S } from '../timeline.ts';
import type { WindowState } from '../window-counts.ts';
import type { SqlWindowRange } from './queries.ts';

/** A result row: values in the query's column order. */
export type SqlRow = readonly unknown[];

const num = (v: unknown, what: string): number => {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${what}: expected a number, got ${JSON.stringify(v)}`);
  return n;
};
const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(v)}`);
  return v;
};
const arr = (v: unknown, what: string): readonly unknown[] => {
  if (!Array.isArray(v)) throw new Error(`${what}: expected an array, got ${JSON.stringify(v)}`);
  return v;
};

const COLS = 5;

/** Pass-1 state from the totals, timeline and ip_sketch results. */
export function buildAnalysisSnapshot(totals: SqlRow, timeline: readonly SqlRow[], sketch: readonly SqlRow[]): AnalysisSnapshot {
  const pages = new Map<number, [number, Uint32Array, Float64Array]>();
  for (const row of timeline) {
    const sec = num(row[0], 'timeline.sec');
    const p = Math.floor(sec / PAGE_S);
    let page = pages.get(p);
    if (page === undefined) {
      page = [p, new Uint32Array(PAGE_S * COLS), new Float64Array(PAGE_S)];
      pages.set(p, page);
    }
    const off = sec - p * PAGE_S;
    for (let c = 0; c < COLS; c++) page[1][off * COLS + c] = num(row[1 + c], 'timeline.count');
    page[2][off] = num(row[6], 'timeline.bytes');
  }
  const regs = new Map<number, Uint8Array>();
  for (const row of sketch) {
    const minute = num(row[0], 'ip_sketch.minute');
    let r = regs.get(minute);
    if (r === undefined) {
      r = new Uint8Array(HLL_REGISTERS);
      regs.set(minute, r);
    }
    r[num(row[1], 'ip_sketch.reg')] = num(row[2], 'ip_sketch.rank');
  }
  const records = num(totals[0], 'totals.records');
  return {
    timeline: {
      pages: [...pages.values()].sort((a, b) => a[0] - b[0]),
      ipSketch: [...regs].sort((a, b) => a[0] - b[0]),
      minMs: records > 0 ? num(totals[2], 'totals.min_ms') : Infinity,
      maxMs: records > 0 ? num(totals[3], 'totals.max_ms') : -Infinity,
      records,
      recordsWithoutTime: num(totals[1], 'totals.without_time'),
    },
  };
}

/** The results of one window's pass-2 queries. */
export interface WindowRows {
  readonly ips: readonly SqlRow[];
  readonly statuses: readonly SqlRow[];
  readonly paths: readonly SqlRow[];
  readonly agents: readonly SqlRow[];
  readonly refererHosts: readonly SqlRow[];
  readonly refererTotal: SqlRow;
  readonly referenceIps: readonly SqlRow[];
  readonly referenceTotals: SqlRow;
  /** The hash limit the per-IP rows were fetched under (2^32: all IPs). */
  readonly limit: number;
  /** insideSampledOutQuery and referenceSampledOutQuery results (IPs at or past `limit`). */
  readonly sampledOut: SqlRow;
  readonly referenceSampledOut: SqlRow;
}

const FULL = 2 ** 32;

/**
 * The hash limit to fetch a window's per-IP rows under: the largest 2^32 / 2^k
 * (k ≤ 16) under which at most `maxInside` IPs are inside the window and at most
 * `maxReference` in its reference periods, from hashLevelsQuery's rows. Core's
 * attribution samples the same way (halving the limit until the IPs fit its cap),
 * so with caps at least as large as the attribution's, every IP it keeps is fetched
 * and merging the state applies its exact cap.
 */
export function fetchLimit(insideLevels: readonly SqlRow[], referenceLevels: readonly SqlRow[], maxInside: number, maxReference: number): number {
  const perTop = (rows: readonly SqlRow[]): [number, number][] => rows.map((r) => [num(r[0], 'hash_levels.top'), num(r[1], 'hash_levels.clients')]);
  const inside = perTop(insideLevels);
  const reference = perTop(referenceLevels);
  const under = (list: readonly [number, number][], top: number): number => list.reduce((a, [t, n]) => (t < top ? a + n : a), 0);
  for (let k = 0; k < 16; k++) {
    const top = 2 ** (16 - k);
    if (under(inside, top) <= maxInside && under(reference, top) <= maxReference) return FULL / 2 ** k;
  }
  return FULL / 2 ** 16;
}

function emptyAggregate(): WindowAggregate {
  return { requests: 0, assets: 0, randomQuery: 0, errors4xx: 0, errors5xx: 0, throttled: 0, refSocial: 0, refSearch: 0, refOther: 0, refNone: 0 };
}

/**
 * One window's pass-2 state: the IPs under `rows.limit` tracked, the others summed
 * in sampledOut; merging the snapshot into an analysis' attribution applies its
 * exact cap, as a local run does.
 */
export function buildWindowState(range: SqlWindowRange, rows: WindowRows): WindowState {
  const so = rows.sampledOut;
  const sampledOut: WindowAggregate = {
    requests: num(so[0], 'sampled_out.requests'), assets: num(so[1], 'sampled_out.assets'), randomQuery: num(so[2], 'sampled_out.random_query'),
    refNone: num(so[3], 'sampled_out.ref_none'), refSearch: num(so[4], 'sampled_out.ref_search'), refSocial: num(so[5], 'sampled_out.ref_social'),
    refOther: num(so[6], 'sampled_out.ref_other'), errors4xx: num(so[7], 'sampled_out.e4xx'), errors5xx: num(so[8], 'sampled_out.e5xx'),
    throttled: num(so[9], 'sampled_out.throttled'),
  };
  const inside = { ...sampledOut };
  const ips = new Map<string, IpWindowStats>();
  for (const r of rows.ips) {
    const ip = str(r[0], 'ips.client');
    const s: IpWindowStats = {
      ip, hash: hashString(ip), ipKind: num(r[1], 'ips.kind'), requests: num(r[2], 'ips.requests'),
      firstMs: num(r[3], 'ips.first_ms'), lastMs: num(r[4], 'ips.last_ms'), assets: num(r[5], 'ips.assets'), randomQuery: num(r[6], 'ips.random_query'),
      refNone: num(r[7], 'ips.ref_none'), refSearch: num(r[8], 'ips.ref_search'), refSocial: num(r[9], 'ips.ref_social'), refOther: num(r[10], 'ips.ref_other'),
      bytes: num(r[11], 'ips.bytes'), paths: null, userAgents: null, statuses: new Map(),
    };
    ips.set(ip, s);
    inside.requests += s.requests;
    inside.assets += s.assets;
    inside.randomQuery += s.randomQuery;
    inside.refNone += s.refNone;
    inside.refSearch += s.refSearch;
    inside.refSocial += s.refSocial;
    inside.refOther += s.refOther;
    inside.errors4xx += num(r[12], 'ips.e4xx');
    inside.errors5xx += num(r[13], 'ips.e5xx');
    inside.throttled += num(r[14], 'ips.throttled');
  }
  const stats = (ip: string, what: string): IpWindowStats => {
    const s = ips.get(ip);
    if (s === undefined) throw new Error(`${what}: ${JSON.stringify(ip)} is not among the window's IPs (the table changed between queries?)`);
    return s;
  };
  for (const r of rows.statuses) stats(str(r[0], 'statuses.client'), 'statuses').statuses.set(num(r[1], 'statuses.code'), num(r[2], 'statuses.requests'));
  for (const r of rows.paths) {
    const keys = arr(r[1], 'paths.keys');
    const counts = arr(r[2], 'paths.counts');
    const random = arr(r[3], 'paths.random');
    const m = new Map<string, number[]>();
    keys.forEach((k, i) => m.set(str(k, 'paths.key'), [num(counts[i], 'paths.count'), num(random[i], 'paths.random')]));
    stats(str(r[0], 'paths.client'), 'paths').paths = m;
  }
  for (const r of rows.agents) {
    const keys = arr(r[1], 'agents.keys');
    const counts = arr(r[2], 'agents.counts');
    const m = new Map<string, number>();
    keys.forEach((k, i) => m.set(str(k, 'agents.key'), num(counts[i], 'agents.count')));
    stats(str(r[0], 'agents.client'), 'agents').userAgents = m;
  }
  const refererHosts = new Map<string, number>();
  let kept = 0;
  for (const r of rows.refererHosts) {
    const c = num(r[1], 'referer_hosts.requests');
    refererHosts.set(str(r[0], 'referer_hosts.host'), c);
    kept += c;
  }
  const ref = new Map<string, number>();
  for (const r of rows.referenceIps) ref.set(str(r[0], 'reference_ips.client'), num(r[1], 'reference_ips.requests'));
  const t = rows.referenceTotals;
  const reference: WindowAggregate = {
    ...emptyAggregate(),
    requests: num(t[0], 'reference.requests'), errors4xx: num(t[1], 'reference.e4xx'), errors5xx: num(t[2], 'reference.e5xx'),
    throttled: num(t[3], 'reference.throttled'), randomQuery: num(t[4], 'reference.random_query'),
  };
  return {
    insideFromMs: range.insideFromMs, insideToMs: range.insideToMs, refBefore: range.refBefore, refAfter: range.refAfter,
    refDurationMs: 0, limit: rows.limit, ips, ref, inside, reference, sampledOut,
    refererHosts, refererHostsDropped: num(rows.refererTotal[0], 'referer_total.requests') - kept,
    refSampledOutRequests: num(rows.referenceSampledOut[0], 'reference_sampled_out.requests'),
  };
}

/** Pass-2 state of all windows, for `Attribution.mergeSnapshot`. */
export function buildAttributionSnapshot(windows: readonly WindowState[]): AttributionSnapshot {
  return { counts: { windows } };
}
