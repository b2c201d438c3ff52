/**
 * Core's pass-1 and pass-2 states built from the results of the queries in
 * sql/queries.ts (pure functions: rows in, snapshots out). The snapshots are
 * then folded into an analysis with `mergeSnapshot`, so burst detection,
 * attribution, clustering and verdicts run the same code as a local run.
 */
import type { AnalysisSnapshot, AttributionSnapshot } from '../analysis.ts';
import { hashString } from '../hash.ts';
import { HLL_REGISTERS } from '../hll.ts';
import { clientKey, type IpCountsSnapshot } from '../ip-counts.ts';
import type { IpWindowStats, KeyCounts, PathCounts, WindowAggregate } from '../ip-window-stats.ts';
import { addCount, addPath } from '../ip-window-stats.ts';
import { IpDetailTable } from '../ip-detail-table.ts';
import { PAGE_S } from '../timeline.ts';
import type { WindowCountsSnapshot } from '../window-counts.ts';
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

/** One window of pass-2 state as core's snapshot holds it. */
export type SqlWindowState = WindowCountsSnapshot['windows'][number];

const FULL = 2 ** 32;
const MAX_OTHER_KEYS = 200_000;

class U32List {
  data: Uint32Array = new Uint32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Uint32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  /** The values (a view: no copy at the peak; the slack goes with the builder). */
  done(): Uint32Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * Core's exact per-IP counts (`IpCountsSnapshot`) from the rows of `ipCountsQuery`, one
 * row at a time (the result is read as a stream: millions of rows go into typed arrays,
 * never into an object per row). Client texts are keyed as core keys them (`clientKey`:
 * canonical IPv4 as a u32, RFC 5952 IPv6 as four u32 words, any other text by itself, up to
 * 200,000 of those; past that their requests are counted as dropped, as core does).
 */
export class IpCountsBuilder {
  private readonly v4 = new U32List();
  private readonly v4Inside = new U32List();
  private readonly v4Ref = new U32List();
  private readonly v6 = new U32List();
  private readonly v6Inside = new U32List();
  private readonly v6Ref = new U32List();
  private readonly other: string[] = [];
  private readonly otherInside = new U32List();
  private readonly otherRef = new U32List();
  private otherDroppedInside = 0;
  private otherDroppedRef = 0;
  private readonly key = clientKey('');
  /** Clients with at least one request inside the window. */
  insideClients = 0;
  /** Rows added. */
  rows = 0;

  add(text: string, inside: number, ref: number): void {
    if (!Number.isSafeInteger(inside) || !Number.isSafeInteger(ref) || inside < 0 || ref < 0 || inside > 0xffffffff || ref > 0xffffffff) {
      throw new Error(`ip_counts: bad counts ${inside}, ${ref}`);
    }
    this.rows++;
    if (inside > 0) this.insideClients++;
    const k = clientKey(text, this.key);
    if (k.kind === 4) {
      this.v4.push(k.w0);
      this.v4Inside.push(inside);
      this.v4Ref.push(ref);
    } else if (k.kind === 6) {
      this.v6.push(k.w0);
      this.v6.push(k.w1);
      this.v6.push(k.w2);
      this.v6.push(k.w3);
      this.v6Inside.push(inside);
      this.v6Ref.push(ref);
    } else if (this.other.length < MAX_OTHER_KEYS) {
      this.other.push(text);
      this.otherInside.push(inside);
      this.otherRef.push(ref);
    } else {
      this.otherDroppedInside += inside;
      this.otherDroppedRef += ref;
    }
  }

  snapshot(): IpCountsSnapshot {
    return {
      ipv4: this.v4.done(), ipv4Inside: this.v4Inside.done(), ipv4Ref: this.v4Ref.done(),
      ipv6: this.v6.done(), ipv6Inside: this.v6Inside.done(), ipv6Ref: this.v6Ref.done(),
      other: this.other, otherInside: this.otherInside.done(), otherRef: this.otherRef.done(),
      otherDroppedInside: this.otherDroppedInside, otherDroppedRef: this.otherDroppedRef,
    };
  }
}

/**
 * The hash limit to fetch a window's per-IP detail under: the largest 2^32 / 2^k (k ≤ 16)
 * under which at most `maxInside` IPs are inside the window, from hashLevelsQuery's rows.
 * Core's attribution samples the same way (halving the limit until the IPs fit its cap),
 * so with the attribution's cap every IP it keeps is fetched; merging the state applies its
 * exact cap (below 2^16, the finest level seen here).
 */
export function fetchLimit(insideLevels: readonly SqlRow[], maxInside: number): number {
  const inside = insideLevels.map((r): [number, number] => [num(r[0], 'hash_levels.top'), num(r[1], 'hash_levels.clients')]);
  const under = (top: number): number => inside.reduce((a, [t, n]) => (t < top ? a + n : a), 0);
  for (let k = 0; k < 16; k++) {
    if (under(2 ** (16 - k)) <= maxInside) return FULL / 2 ** k;
  }
  return FULL / 2 ** 16;
}

function emptyAggregate(): WindowAggregate {
  return { requests: 0, assets: 0, randomQuery: 0, errors4xx: 0, errors5xx: 0, throttled: 0, refSocial: 0, refSearch: 0, refOther: 0, refNone: 0 };
}

/** The results of the per-IP detail queries (insideIpsQuery, …Statuses, …Paths, …Agents) for one selection of IPs. */
export interface IpDetailRows {
  readonly ips: readonly SqlRow[];
  readonly statuses: readonly SqlRow[];
  readonly paths: readonly SqlRow[];
  readonly agents: readonly SqlRow[];
}

/**
 * Per-IP detail (core's IpWindowStats) from the detail queries' rows; `inside` (when given)
 * gets the IPs' sums added. Rows of one IP may come in several chunks of an IP list: the
 * chunks are disjoint, so the maps are filled across calls.
 */
export function buildIpDetail(rows: IpDetailRows, into: Map<string, IpWindowStats> = new Map(), inside?: WindowAggregate): Map<string, IpWindowStats> {
  const ips = new Map<string, IpWindowStats>();
  for (const r of rows.ips) {
    const ip = str(r[0], 'ips.client');
    const s: IpWindowStats = {
      ip, hash: hashString(ip), ipKind: num(r[1], 'ips.kind'), requests: num(r[2], 'ips.requests'),
      firstMs: num(r[3], 'ips.first_ms'), lastMs: num(r[4], 'ips.last_ms'), assets: num(r[5], 'ips.assets'), randomQuery: num(r[6], 'ips.random_query'),
      refNone: num(r[7], 'ips.ref_none'), refSearch: num(r[8], 'ips.ref_search'), refSocial: num(r[9], 'ips.ref_social'), refOther: num(r[10], 'ips.ref_other'),
      bytes: num(r[11], 'ips.bytes'), paths: null, userAgents: null, statuses: [],
    };
    if (into.has(ip) || ips.has(ip)) throw new Error(`ips: ${JSON.stringify(ip)} came twice`);
    ips.set(ip, s);
    if (inside !== undefined) {
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
  }
  const stats = (ip: string, what: string): IpWindowStats => {
    const s = ips.get(ip);
    if (s === undefined) throw new Error(`${what}: ${JSON.stringify(ip)} is not among the window's IPs (the table changed between queries?)`);
    return s;
  };
  for (const r of rows.statuses) {
    const s = stats(str(r[0], 'statuses.client'), 'statuses');
    s.statuses = addCount(s.statuses, num(r[1], 'statuses.code'), num(r[2], 'statuses.requests'))!;
  }
  for (const r of rows.paths) {
    const keys = arr(r[1], 'paths.keys');
    const counts = arr(r[2], 'paths.counts');
    const random = arr(r[3], 'paths.random');
    let m: PathCounts = [];
    keys.forEach((k, i) => { m = addPath(m, str(k, 'paths.key'), num(counts[i], 'paths.count'), num(random[i], 'paths.random'), Infinity)!; });
    stats(str(r[0], 'paths.client'), 'paths').paths = m;
  }
  for (const r of rows.agents) {
    const keys = arr(r[1], 'agents.keys');
    const counts = arr(r[2], 'agents.counts');
    let m: KeyCounts<string> = [];
    keys.forEach((k, i) => { m = addCount(m, str(k, 'agents.key'), num(counts[i], 'agents.count'))!; });
    stats(str(r[0], 'agents.client'), 'agents').userAgents = m;
  }
  for (const [ip, s] of ips) into.set(ip, s);
  return into;
}

/** The results of one window's pass-2 queries. */
export interface WindowRows extends IpDetailRows {
  /** ipCountsQuery's rows folded by IpCountsBuilder. */
  readonly counts: IpCountsSnapshot;
  readonly refererHosts: readonly SqlRow[];
  readonly refererTotal: SqlRow;
  readonly referenceTotals: SqlRow;
  /** The hash limit the per-IP detail rows were fetched under (2^32: all IPs). */
  readonly limit: number;
  /** insideSampledOutQuery's result (IPs at or past `limit`). */
  readonly sampledOut: SqlRow;
}

/**
 * One window's pass-2 state: exact counts of every IP, detail of the IPs under
 * `rows.limit`, the others' inside requests summed in sampledOut; merging the snapshot
 * into an analysis' attribution applies its exact cap, as a local run does.
 */
export function buildWindowState(range: SqlWindowRange, rows: WindowRows): SqlWindowState {
  const so = rows.sampledOut;
  const sampledOut: WindowAggregate = {
    requests: num(so[0], 'sampled_out.requests'), assets: num(so[1], 'sampled_out.assets'), randomQuery: num(so[2], 'sampled_out.random_query'),
    refNone: num(so[3], 'sampled_out.ref_none'), refSearch: num(so[4], 'sampled_out.ref_search'), refSocial: num(so[5], 'sampled_out.ref_social'),
    refOther: num(so[6], 'sampled_out.ref_other'), errors4xx: num(so[7], 'sampled_out.e4xx'), errors5xx: num(so[8], 'sampled_out.e5xx'),
    throttled: num(so[9], 'sampled_out.throttled'),
  };
  const inside = { ...sampledOut };
  const ips = buildIpDetail(rows, new Map(), inside);
  const refererHosts = new Map<string, number>();
  let kept = 0;
  for (const r of rows.refererHosts) {
    const c = num(r[1], 'referer_hosts.requests');
    refererHosts.set(str(r[0], 'referer_hosts.host'), c);
    kept += c;
  }
  const t = rows.referenceTotals;
  const reference: WindowAggregate = {
    ...emptyAggregate(),
    requests: num(t[0], 'reference.requests'), errors4xx: num(t[1], 'reference.e4xx'), errors5xx: num(t[2], 'reference.e5xx'),
    throttled: num(t[3], 'reference.throttled'), randomQuery: num(t[4], 'reference.random_query'),
  };
  return {
    insideFromMs: range.insideFromMs, insideToMs: range.insideToMs, refBefore: range.refBefore, refAfter: range.refAfter,
    refDurationMs: 0, limit: rows.limit, ips: IpDetailTable.of(ips.values(), Infinity, Infinity).pack(), heavy: new IpDetailTable(0, 0).pack(), counts: rows.counts, inside, reference, sampledOut,
    refererHosts, refererHostsDropped: num(rows.refererTotal[0], 'referer_total.requests') - kept,
  };
}

const EMPTY_COUNTS = (): IpCountsSnapshot => ({
  ipv4: new Uint32Array(0), ipv4Inside: new Uint32Array(0), ipv4Ref: new Uint32Array(0),
  ipv6: new Uint32Array(0), ipv6Inside: new Uint32Array(0), ipv6Ref: new Uint32Array(0),
  other: [], otherInside: new Uint32Array(0), otherRef: new Uint32Array(0), otherDroppedInside: 0, otherDroppedRef: 0,
});

/**
 * One window of a detail-pass state (`Analysis.detailPass`): the detail of the IPs it asks
 * for (`detailPassIps`) in `heavy`, from the detail queries over that IP list; nothing else.
 */
export function buildDetailWindow(range: SqlWindowRange, heavy: Map<string, IpWindowStats>): SqlWindowState {
  return {
    insideFromMs: range.insideFromMs, insideToMs: range.insideToMs, refBefore: range.refBefore, refAfter: range.refAfter,
    refDurationMs: 0, limit: FULL, ips: new IpDetailTable(0, 0).pack(), heavy: IpDetailTable.of(heavy.values(), Infinity, Infinity).pack(), counts: EMPTY_COUNTS(), inside: emptyAggregate(), reference: emptyAggregate(),
    sampledOut: emptyAggregate(), refererHosts: new Map(), refererHostsDropped: 0,
  };
}

/** Pass-2 (or detail-pass) state of all windows, for `Attribution.mergeSnapshot`. */
export function buildAttributionSnapshot(windows: readonly SqlWindowState[]): AttributionSnapshot {
  return { counts: { windows } };
}
