/**
 * The analysis as two exact-merge passes:
 *   pass 1 `add(batch)` folds the per-second timeline; `windows()` finds burst windows;
 *   pass 2 `attribution()` returns an accumulator that counts per window and per IP
 *   inside the window and in its reference periods;
 *   optional pass 3 `detailPass(attribution)` returns an accumulator that collects the
 *   per-IP detail (paths, agents, first/last seen) of attackers that pass 2's detail
 *   sample missed (only needed past `maxIpsPerWindow` IPs in a window; null otherwise);
 *   `finish(geo, attribution, detail)` attributes, splits concurrent attacks, clusters and
 *   gives verdicts. No clock, no I/O; results depend only on the multiset of records.
 */
import type { RecordBatch } from '@alf/parser';
import type { GeoLookup } from '@alf/geo';
import { detectBursts, type DetectOptions } from './detect-bursts.ts';
import { missingAttackers, signatureCandidates } from './attribute.ts';
import { finishAnalysis } from './finish-analysis.ts';
import { Timeline, type TimelineSnapshot } from './timeline.ts';
import type { AnalysisOptions, AnalysisResult, BurstWindow } from './types.ts';
import { WindowCounts, windowDetailBuffers, type WindowCountsOptions, type WindowCountsSnapshot } from './window-counts.ts';
import { IpCounts } from './ip-counts.ts';

/** Every analysis option resolved: the detection thresholds plus attribution caps. */
export interface ResolvedOptions extends DetectOptions {
  readonly minAttackerRequests: number;
  readonly maxIpsPerWindow: number;
  readonly maxTrackedIps: number;
  readonly maxPathsPerIp: number;
  readonly timelineBucketS: number;
}

export const DEFAULT_ANALYSIS_OPTIONS: ResolvedOptions = {
  scalesS: [10, 60, 300, 1800],
  minExcessRequests: 500,
  minExcessRps: 0.2,
  minRatio: 2,
  minZ: 5,
  mergeGapS: 600,
  minGapS: 1800,
  minAttackerRequests: 10,
  maxIpsPerWindow: 100_000,
  maxTrackedIps: 150_000,
  maxPathsPerIp: 16,
  timelineBucketS: 0,
};

/**
 * Pass-1 state as plain data, to send from a worker thread (structured clone), or to build
 * from SQL aggregates and fold in with `mergeSnapshot`. `timeline`:
 * - `pages`: `[page, counts, bytes]` with page = floor(epoch s / 4096); `counts` holds 5
 *   interleaved u32 per second of the page (requests, 2xx, 3xx, 4xx, 5xx), `bytes` one f64 per
 *   second (sum of bytes sent > 0): `GROUP BY toUnixTimestamp(ts)` with count() / countIf / sum;
 * - `ipSketch`: `[minute, registers]`, a 128-register HyperLogLog of the client texts per
 *   minute: register `h >>> 25` holds max(clz32((h << 7) | 64) + 1) over the minute's requests,
 *   h = `hashString(ip)` (FNV-1a 32 then murmur3 fmix32): `GROUP BY minute, h >>> 25` with max();
 * - `minMs` / `maxMs`: min / max ts; `records`: count of rows with a finite ts;
 *   `recordsWithoutTime`: the others.
 */
export interface AnalysisSnapshot {
  readonly timeline: TimelineSnapshot;
}

/**
 * Pass-2 state as plain data (structured clone), for the windows of `windows()` in order.
 * Per window (`counts.windows[k]`, see `WindowCountsSnapshot`):
 * - `counts` (`IpCountsSnapshot`): exact requests per client inside the window and in its
 *   reference periods, `GROUP BY ip` with countIf(inside), countIf(reference), as parallel
 *   arrays: `ipv4` (u32 of a canonical dotted quad) / `ipv4Inside` / `ipv4Ref`; `ipv6` (4
 *   big-endian u32 words of an address written in RFC 5952 form) / `ipv6Inside` / `ipv6Ref`;
 *   `other` (any other client text) / `otherInside` / `otherRef`; rows in any order, each
 *   client once, a client with both counts 0 absent;
 * - `insideFromMs`, `insideToMs`, `refBefore`, `refAfter`, `refDurationMs`: the ranges (copy them
 *   from `attribution().snapshot()` of an empty accumulator);
 * - `inside` / `reference` (`WindowAggregate`): countIf sums over the window's / reference
 *   rows (requests, assets, random queries, 4xx, 5xx, 429/499/503, referer classes);
 * - `limit` and `ips`: per-IP detail (`IpWindowStats`: requests, min/max ts, sums, and
 *   `GROUP BY ip, path` / `ip, user agent` / `ip, status` counts, null past 16 paths / 4
 *   agents) of the inside IPs with `hashString(ip) < limit`; limit 2^32 (all IPs) while at most
 *   `maxIpsPerWindow` IPs; `sampledOut`: the inside sums of the IPs left out;
 * - `heavy`: detail filled only by a detail pass (empty in pass 2);
 * - `refererHosts`: `GROUP BY referer host` counts of inside page requests (first 10,000 hosts;
 *   `refererHostsDropped` counts the rest).
 */
export interface AttributionSnapshot {
  readonly counts: WindowCountsSnapshot;
}

/** Pass-2 accumulator over fixed windows. */
export interface Attribution {
  add(batch: RecordBatch): void;
  merge(other: Attribution): void;
  /** As merge, but `other` is given away: its tables and Maps are taken over where this one is still empty (no copy). */
  absorb(other: Attribution): void;
  /**
   * This accumulator's counts as plain data (a copy). `share`: the per-IP detail Maps are this
   * accumulator's own, not copies (for a worker that posts the snapshot and drops the accumulator).
   */
  snapshot(share?: boolean): AttributionSnapshot;
  /**
   * Fold in a snapshot taken from an accumulator of the same analysis (e.g. in a worker).
   * `owned`: the snapshot is given away (e.g. just received from a worker): its Maps are taken
   * over instead of copied.
   */
  mergeSnapshot(s: AttributionSnapshot, owned?: boolean): void;
  /**
   * Time ranges `[fromMs, toMs)` (sorted, disjoint) of the records whose string columns `add`
   * reads (inside a window or in its reference periods; for a detail-pass accumulator, inside a
   * window only); of the others it reads nothing but the time. For `ParseOptions.allColumnsWithin`.
   */
  readRanges(): [number, number][];
  /**
   * The part of `readRanges` inside a window, where `add` reads every string column; in the
   * reference periods it reads only the client, time, status and query (`ParseOptions.rowsWithin`
   * = readRanges with `allColumnsWithin` = these and `columns: ['query']`).
   */
  fullRanges(): [number, number][];
  /**
   * A detail-pass accumulator's IPs per window (`detailPass`), to build the same accumulator
   * elsewhere with `attributionFromPlan(plan, ips)`; null for a pass-2 accumulator.
   */
  trackedIps(): string[][] | null;
  /** Per window, the hash threshold of the per-IP detail sample (2^32 while every IP has detail). */
  detailLimits(): number[];
  /**
   * Starts the detail sample at these thresholds where they are lower (e.g. a worker task given the
   * main thread's current ones): the merged result is the same, the task keeps less detail.
   */
  lowerDetailLimits(limits: readonly number[]): void;
}

export interface Analysis {
  /** Pass 1: fold a batch into the timeline. */
  add(batch: RecordBatch): void;
  /** Pass 1: fold another worker's timeline into this one (exact). */
  merge(other: Analysis): void;
  /** Pass-1 state as plain data (a copy), e.g. to post from a worker thread. */
  snapshot(): AnalysisSnapshot;
  /** Fold in a snapshot of another worker's pass 1 (exact, like merge). */
  mergeSnapshot(s: AnalysisSnapshot): void;
  /** End of pass 1: the burst windows (computed once, then cached; add/merge after this is an error). */
  windows(): readonly BurstWindow[];
  /** Start of pass 2: an empty accumulator for this analysis' windows (one per worker; merge them). */
  attribution(): Attribution;
  /**
   * What `attribution()` builds its accumulator from, as plain data of a few hundred bytes: for
   * a worker thread, which then needs neither the timeline nor the burst detection
   * (`attributionFromPlan(plan)` gives the same accumulator).
   */
  attributionPlan(): AttributionPlan;
  /**
   * Optional pass 3, after pass 2 is complete (all workers merged): an empty accumulator that
   * collects the detail of the attackers outside pass 2's per-IP detail sample (and of the light
   * new IPs that signature attribution looks at, up to 20,000 per window), or null when
   * there are none (the usual case: every window under `maxIpsPerWindow` IPs). Fold every batch
   * into it (any order, merge like pass 2) and give it to `finish`. Without it such attackers
   * keep exact requests and excess but no top path / agent, and the result says so.
   */
  detailPass(attribution: Attribution): Attribution | null;
  /** Attribute, split, cluster and judge. Without `attribution`, bursts carry no attackers or clusters. */
  finish(geo: GeoLookup, attribution?: Attribution, detail?: Attribution | null): AnalysisResult;
}

class AttributionImpl implements Attribution {
  readonly counts: WindowCounts;
  constructor(counts: WindowCounts) {
    this.counts = counts;
  }
  add(batch: RecordBatch): void {
    this.counts.add(batch);
  }
  merge(other: Attribution): void {
    this.counts.merge((other as AttributionImpl).counts);
  }
  absorb(other: Attribution): void {
    this.counts.absorb((other as AttributionImpl).counts);
  }
  snapshot(share = false): AttributionSnapshot {
    return { counts: this.counts.snapshot(share) };
  }
  mergeSnapshot(s: AttributionSnapshot, owned = false): void {
    this.counts.mergeSnapshot(s.counts, owned);
  }
  trackedIps(): string[][] | null {
    return this.counts.only === null ? null : this.counts.only.map((ips) => [...ips]);
  }
  detailLimits(): number[] {
    return this.counts.detailLimits();
  }
  lowerDetailLimits(limits: readonly number[]): void {
    this.counts.lowerDetailLimits(limits);
  }
  readRanges(): [number, number][] {
    return this.counts.readRanges();
  }
  fullRanges(): [number, number][] {
    return this.counts.readRanges(true);
  }
}

/** The typed arrays of an attribution snapshot: the transfer list to post it to another thread without copying its count tables. */
export function attributionBuffers(s: AttributionSnapshot): ArrayBuffer[] {
  return [...s.counts.windows.flatMap((w) => IpCounts.buffers(w.counts)), ...windowDetailBuffers(s.counts)];
}

/**
 * Per-IP detail cap of each window of pass 2: one budget of `maxTrackedIps` shared by the
 * windows (a few hundred bytes per tracked IP), at least 2,000 each, at most `maxIpsPerWindow`.
 */
export function detailIpsPerWindow(opts: ResolvedOptions, windows: number): number {
  return Math.min(opts.maxIpsPerWindow, Math.max(2000, Math.floor(opts.maxTrackedIps / Math.max(1, windows))));
}

/**
 * The IPs a detail-pass accumulator (`Analysis.detailPass`) tracks, per window: for an engine
 * that collects their detail itself (e.g. by SQL) and folds it in with `mergeSnapshot`
 * (the detail in `heavy`, everything else empty).
 */
export function detailPassIps(detail: Attribution): readonly ReadonlySet<string>[] {
  const only = (detail as AttributionImpl).counts.only;
  if (only === null) throw new Error('detailPassIps: not a detail-pass accumulator (Analysis.detailPass)');
  return only;
}

export function resolveOptions(opts: AnalysisOptions = {}): ResolvedOptions {
  const o = { ...DEFAULT_ANALYSIS_OPTIONS };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  return o;
}

/** Reference periods of a window: `max(3 × duration, 1 h)` before and after, clipped to the data. */
export function referencePeriods(w: BurstWindow, firstMs: number, lastMs: number): { refBefore: [number, number]; refAfter: [number, number] } {
  const insideFromMs = w.startMs;
  const insideToMs = w.endMs + 1000;
  const widthMs = Math.max(3 * (insideToMs - insideFromMs), 3_600_000);
  const dataFrom = Math.floor(firstMs / 1000) * 1000;
  const dataTo = Math.floor(lastMs / 1000) * 1000 + 1000;
  return {
    refBefore: [Math.max(dataFrom, insideFromMs - widthMs), insideFromMs],
    refAfter: [insideToMs, Math.min(dataTo, insideToMs + widthMs)],
  };
}

class AnalysisImpl implements Analysis {
  readonly opts: ResolvedOptions;
  readonly timeline: Timeline = new Timeline();
  private cached: readonly BurstWindow[] | null = null;

  constructor(opts: ResolvedOptions) {
    this.opts = opts;
  }

  add(batch: RecordBatch): void {
    if (this.cached !== null) throw new Error('add() after windows(): pass 1 is closed');
    this.timeline.add(batch);
  }

  merge(other: Analysis): void {
    if (this.cached !== null) throw new Error('merge() after windows(): pass 1 is closed');
    this.timeline.merge((other as AnalysisImpl).timeline);
  }

  snapshot(): AnalysisSnapshot {
    return { timeline: this.timeline.snapshot() };
  }

  mergeSnapshot(s: AnalysisSnapshot): void {
    if (this.cached !== null) throw new Error('mergeSnapshot() after windows(): pass 1 is closed');
    this.timeline.merge(Timeline.fromSnapshot(s.timeline));
  }

  windows(): readonly BurstWindow[] {
    if (this.cached === null) this.cached = detectBursts(this.timeline, this.opts);
    return this.cached;
  }

  attribution(): Attribution {
    return attributionFromPlan(this.attributionPlan());
  }

  attributionPlan(): AttributionPlan {
    const ws = this.windows();
    const ranges = ws.map((w) => ({
      insideFromMs: w.startMs, insideToMs: w.endMs + 1000, ...referencePeriods(w, this.timeline.minMs, this.timeline.maxMs),
    }));
    return {
      ranges,
      options: { maxIpsPerWindow: detailIpsPerWindow(this.opts, ws.length), maxPathsPerIp: this.opts.maxPathsPerIp, maxUserAgentsPerIp: 4, maxRefererHosts: 10_000 },
    };
  }

  detailPass(attribution: Attribution): Attribution | null {
    const counts = (attribution as AttributionImpl).counts;
    const wanted = counts.windows.map((state) => {
      if (state.limit >= 2 ** 32) return new Set<string>();
      const { ips: missing, threshold } = missingAttackers(state, this.opts.minAttackerRequests, counts.maxHeavyIps);
      return new Set([...missing, ...signatureCandidates(state, threshold, counts.maxHeavyIps - missing.length)]);
    });
    if (wanted.every((x) => x.size === 0)) return null;
    return new AttributionImpl(counts.detailFor(wanted));
  }

  finish(geo: GeoLookup, attribution?: Attribution, detail?: Attribution | null): AnalysisResult {
    return finishAnalysis(
      this.timeline, this.opts, this.windows(), (attribution as AttributionImpl | undefined)?.counts, geo, (detail as AttributionImpl | null | undefined)?.counts,
    );
  }
}

/** The windows' inside and reference ranges and the detail caps of a pass-2 accumulator (`Analysis.attributionPlan`). */
export interface AttributionPlan {
  readonly ranges: readonly { readonly insideFromMs: number; readonly insideToMs: number; readonly refBefore: readonly [number, number]; readonly refAfter: readonly [number, number] }[];
  readonly options: WindowCountsOptions;
}

/**
 * An empty pass-2 accumulator for a plan: the same as `attribution()` of the analysis the plan came from;
 * with `trackedIps` (a detail accumulator's `trackedIps()`), the same as that detail accumulator.
 */
export function attributionFromPlan(plan: AttributionPlan, trackedIps?: readonly (readonly string[])[] | null): Attribution {
  return new AttributionImpl(new WindowCounts(plan.ranges, plan.options, trackedIps ? trackedIps.map((ips) => new Set(ips)) : null));
}

export function createAnalysis(opts?: AnalysisOptions): Analysis {
  return new AnalysisImpl(resolveOptions(opts));
}

/** Both passes over re-iterable batches (an array, or a function re-reading the inputs). */
export function analyze(batches: Iterable<RecordBatch> | (() => Iterable<RecordBatch>), geo: GeoLookup, opts?: AnalysisOptions): AnalysisResult {
  const read = typeof batches === 'function' ? batches : () => batches;
  const a = createAnalysis(opts);
  for (const b of read()) a.add(b);
  const attr = a.attribution();
  for (const b of read()) attr.add(b);
  const detail = a.detailPass(attr);
  if (detail !== null) for (const b of read()) detail.add(b);
  return a.finish(geo, attr, detail);
}
