/**
 * The analysis as two exact-merge passes:
 *   pass 1 `add(batch)` folds the per-second timeline; `windows()` finds burst windows;
 *   pass 2 `attribution()` returns an accumulator that counts per window and per IP
 *   inside the window and in its reference periods;
 *   `finish(geo, attribution)` attributes, splits concurrent attacks, clusters and
 *   gives verdicts. No clock, no I/O; results depend only on the multiset of records.
 */
import type { RecordBatch } from '@alf/parser';
import type { GeoAnswer, GeoLookup } from '@alf/geo';
import { attributeWindow, type Participant } from './attribute.ts';
import { buildClusters, type Member } from './clusters.ts';
import { detectBursts } from './detect-bursts.ts';
import { HLL_ERROR_WORDS } from './hll.ts';
import { networkKey, splitAttackers } from './split-window.ts';
import { Timeline, type TimelineSnapshot } from './timeline.ts';
import type {
  AnalysisOptions, AnalysisResult, Approximation, AsnRow, Attacker, Burst, BurstWindow, CountryRow, Finding, PathRow,
  PrefixRow, StatusRow, TimelineSeries, UserAgentRow,
} from './types.ts';
import { decideVerdict, fmtInt } from './verdict.ts';
import { WindowCounts, type WindowCountsSnapshot } from './window-counts.ts';

export interface ResolvedOptions {
  readonly scalesS: readonly number[];
  readonly minExcessRequests: number;
  readonly minExcessRps: number;
  readonly minRatio: number;
  readonly minZ: number;
  readonly mergeGapS: number;
  readonly minGapS: number;
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

const MAX_CLUSTER_ROWS = 1000;

/** Pass-1 state as plain data, to send from a worker thread (structured clone). */
export interface AnalysisSnapshot {
  readonly timeline: TimelineSnapshot;
}

/** Pass-2 state as plain data, to send from a worker thread (structured clone). */
export interface AttributionSnapshot {
  readonly counts: WindowCountsSnapshot;
}

/** Pass-2 accumulator over fixed windows. */
export interface Attribution {
  add(batch: RecordBatch): void;
  merge(other: Attribution): void;
  /** This accumulator's counts as plain data (a copy). */
  snapshot(): AttributionSnapshot;
  /** Fold in a snapshot taken from an accumulator of the same analysis (e.g. in a worker). */
  mergeSnapshot(s: AttributionSnapshot): void;
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
  /** Attribute, split, cluster and judge. Without `attribution`, bursts carry no attackers or clusters. */
  finish(geo: GeoLookup, attribution?: Attribution): AnalysisResult;
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
  snapshot(): AttributionSnapshot {
    return { counts: this.counts.snapshot() };
  }
  mergeSnapshot(s: AttributionSnapshot): void {
    this.counts.merge(this.counts.withSnapshot(s.counts));
  }
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
    const ws = this.windows();
    const ranges = ws.map((w) => ({
      insideFromMs: w.startMs, insideToMs: w.endMs + 1000, ...referencePeriods(w, this.timeline.minMs, this.timeline.maxMs),
    }));
    // One budget shared by all windows (a few hundred bytes per tracked IP), at least 2,000 each.
    const perWindow = Math.min(this.opts.maxIpsPerWindow, Math.max(2000, Math.floor(this.opts.maxTrackedIps / Math.max(1, ws.length))));
    return new AttributionImpl(new WindowCounts(ranges, {
      maxIpsPerWindow: perWindow, maxPathsPerIp: this.opts.maxPathsPerIp, maxUserAgentsPerIp: 4, maxRefererHosts: 10_000,
    }));
  }

  finish(geo: GeoLookup, attribution?: Attribution): AnalysisResult {
    return finishAnalysis(this, geo, attribution as AttributionImpl | undefined);
  }
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
  return a.finish(geo, attr);
}

function autoBucketS(spanS: number): number {
  if (spanS <= 14 * 86400) return 60;
  if (spanS <= 120 * 86400) return 600;
  return 3600;
}

function timelineSeries(tl: Timeline, bucketS: number): TimelineSeries {
  const s = tl.series(bucketS);
  return { bucketS, ...s };
}

function finishAnalysis(a: AnalysisImpl, geo: GeoLookup, attr: AttributionImpl | undefined): AnalysisResult {
  const tl = a.timeline;
  const opts = a.opts;
  const windows = a.windows();
  const span = tl.spanS();
  const bucketS = opts.timelineBucketS > 0 ? opts.timelineBucketS : autoBucketS(span === null ? 0 : span.lastS - span.firstS + 1);
  const findings: Finding[] = [];
  const approximations: Approximation[] = [
    { what: 'timeline.distinct_ips', why: 'distinct client IPs per minute are counted with a HyperLogLog sketch', errorBound: HLL_ERROR_WORDS },
  ];
  if (tl.recordsWithoutTime > 0) {
    findings.push({ code: 'no_time', burstId: null, message: `${fmtInt(tl.recordsWithoutTime)} records without a usable timestamp were left out of the timeline` });
  }
  const bursts: Burst[] = [];
  const attackers: Attacker[] = [];
  const asns: AsnRow[] = [];
  const countries: CountryRow[] = [];
  const prefixes: PrefixRow[] = [];
  const paths: PathRow[] = [];
  const userAgents: UserAgentRow[] = [];
  const statuses: StatusRow[] = [];
  const geoCache = new Map<string, GeoAnswer | null>();
  const lookup = (ip: string, kind: number): GeoAnswer | null => {
    if (kind === 0 && !/^[0-9.]+$|:/.test(ip)) return null;
    let g = geoCache.get(ip);
    if (g === undefined) {
      try {
        g = geo.lookup(ip);
      } catch {
        g = null;
      }
      geoCache.set(ip, g);
    }
    return g;
  };
  const memberOf = (p: Participant, attacker: boolean): Member => {
    const g = lookup(p.stats.ip, p.stats.ipKind);
    const prefix = g?.aggPrefix ?? (p.stats.ipKind === 0 && !p.stats.ip.includes(':') && !/^\d+\.\d+\.\d+\.\d+$/.test(p.stats.ip) ? null : networkKey(p.stats.ip));
    return { p, attacker, geo: g, prefix };
  };

  windows.forEach((w, wi) => {
    const state = attr?.counts.windows[wi];
    const durationS = (w.endMs - w.startMs) / 1000 + 1;
    if (state === undefined) {
      const id = bursts.length + 1;
      bursts.push({
        burstId: id, startMs: w.startMs, endMs: w.endMs, durationS, requests: w.requests, excessRequests: w.excessRequests,
        peakRps: w.peakRps, baselineRps: w.baselineRps, distinctIps: 0, attackers: 0, score: w.score, scaleS: w.scaleS,
        verdict: 'unclear', reasons: ['not attributed (pass 2 not run)'], windowIndex: wi, attributedShare: 0,
      });
      return;
    }
    const att = attributeWindow(state, opts.minAttackerRequests, w.excessRequests);
    const sampled = state.limit < 2 ** 32;
    if (sampled) {
      const rate = state.limit / 2 ** 32;
      findings.push({ code: 'cap_hit', burstId: null, message: `window ${wi + 1}: more than ${fmtInt(attr!.counts.opts.maxIpsPerWindow)} IPs; per-IP attribution kept a deterministic 1/${fmtInt(1 / rate)} hash sample of IPs` });
    }
    const groups = att.attackers.length > 0 ? splitAttackers(att.attackers, durationS) : [];
    const parts = groups.length >= 2
      ? groups.map((g) => ({ members: g.members.map((p) => memberOf(p, true)), startMs: Math.floor(g.startMs / 1000) * 1000, endMs: Math.floor(g.endMs / 1000) * 1000, split: true }))
      : [{
          members: [...att.attackers.map((p) => memberOf(p, true)), ...att.others.map((p) => memberOf(p, false))],
          startMs: w.startMs, endMs: w.endMs, split: false,
        }];
    if (groups.length >= 2) {
      findings.push({ code: 'split', burstId: null, message: `window ${wi + 1} (${new Date(w.startMs).toISOString()} – ${new Date(w.endMs).toISOString()}) holds ${groups.length} concurrent attacks from different networks or on different paths; reported as separate bursts` });
    }
    for (const part of parts) {
      const id = bursts.length + 1;
      const mAtt = part.members.filter((m) => m.attacker);
      const attributed = mAtt.reduce((s, m) => s + Math.max(0, m.p.excess), 0);
      let requests = w.requests;
      let excess = w.excessRequests;
      let peak = w.peakRps;
      let baselineRps = w.baselineRps;
      let partDur = durationS;
      if (part.split) {
        // The burst's own traffic: its attackers plus the window's baseline over its interval.
        partDur = (part.endMs - part.startMs) / 1000 + 1;
        excess = Math.round(attributed);
        requests = Math.round(attributed + w.baselineRps * partDur);
        const perSec = tl.requestsPerSecond(part.startMs / 1000, part.endMs / 1000);
        peak = perSec.reduce((x, y) => Math.max(x, y), 0);
        baselineRps = w.baselineRps;
      }
      const totalRequests = part.split ? part.members.reduce((s, m) => s + m.p.stats.requests, 0) : state.inside.requests;
      const v = decideVerdict({ members: part.members, durationS: partDur, excessRequests: excess, inside: state.inside, reference: state.reference, refererHosts: state.refererHosts });
      for (const [name, asnSet] of v.spoofed) {
        findings.push({ code: 'spoofed_crawler', burstId: id, message: `user agent claims ${name} from ${[...asnSet].sort((x, y) => x - y).map((x) => `AS${x}`).join(', ')}` });
      }
      const reasons = part.split ? [...v.reasons, `one of ${parts.length} concurrent attacks in window ${wi + 1}`] : v.reasons;
      const distinctIps = part.split ? part.members.length : Math.round(state.ips.size / (state.limit / 2 ** 32));
      bursts.push({
        burstId: id, startMs: part.startMs, endMs: part.endMs, durationS: partDur, requests, excessRequests: excess, peakRps: peak,
        baselineRps, distinctIps, attackers: mAtt.length, score: w.score, scaleS: w.scaleS, verdict: v.verdict, reasons, windowIndex: wi,
        attributedShare: excess > 0 ? Math.round((attributed / excess) * 1000) / 1000 : 0,
      });
      findings.push({ code: 'burst', burstId: id, message: `${v.verdict}: ${fmtInt(requests)} requests (${fmtInt(excess)} over baseline) from ${new Date(part.startMs).toISOString()} to ${new Date(part.endMs).toISOString()}; ${v.reasons.slice(0, 3).join('; ')}` });
      for (const m of mAtt) {
        const s = m.p.stats;
        const topPath = s.paths === null ? null : topKey([...s.paths].map(([k, c]) => [k, c[0]!]));
        const topUa = s.userAgents === null ? null : topKey([...s.userAgents]);
        attackers.push({
          burstId: id, ip: s.ip, requests: s.requests, excessRequests: Math.round(m.p.excess), expectedRequests: Math.round(m.p.expected * 100) / 100,
          firstSeenMs: s.firstMs, lastSeenMs: s.lastMs, isNew: m.p.refRequests === 0, attributedBy: m.p.by, prefix: m.prefix, asn: m.geo?.asn ?? null,
          asOrg: m.geo?.asOrg ?? null, country: m.geo?.country ?? null, topPath, topUserAgent: topUa,
        });
      }
      const c = buildClusters(id, part.members, totalRequests, attributed, MAX_CLUSTER_ROWS);
      asns.push(...c.asns);
      countries.push(...c.countries);
      prefixes.push(...c.prefixes);
      paths.push(...c.paths);
      userAgents.push(...c.userAgents);
      statuses.push(...c.statuses);
      for (const [table, dropped] of c.truncated) {
        findings.push({ code: 'cap_hit', burstId: id, message: `${table}: only the ${MAX_CLUSTER_ROWS} largest rows kept, ${fmtInt(dropped)} smaller rows left out` });
      }
      if (sampled) {
        approximations.push({
          what: `burst ${id}: distinct_ips, attackers and cluster tables`,
          why: `more than ${fmtInt(attr!.counts.opts.maxIpsPerWindow)} IPs in the window; IPs kept by hash sample`,
          errorBound: `IPs are a uniform 1/${fmtInt(2 ** 32 / state.limit)} sample; counts of listed IPs are exact; ${fmtInt(state.sampledOut.requests)} requests from unlisted IPs`,
        });
      }
      const manyPaths = part.members.filter((m) => m.p.stats.paths === null).length;
      if (manyPaths > 0) {
        approximations.push({
          what: `burst ${id}: paths.csv and attackers.top_path`,
          why: `${fmtInt(manyPaths)} IPs requested more than ${opts.maxPathsPerIp} distinct paths`,
          errorBound: 'their requests are counted under `(many paths)`; top_path is empty for them',
        });
      }
    }
    if (state.refererHostsDropped > 0) {
      approximations.push({ what: `window ${wi + 1}: referer hosts`, why: 'more than 10,000 distinct referer hosts', errorBound: `${fmtInt(state.refererHostsDropped)} referrals not counted by host` });
    }
  });

  return {
    records: tl.records,
    recordsWithoutTime: tl.recordsWithoutTime,
    firstMs: tl.records > 0 ? tl.minMs : null,
    lastMs: tl.records > 0 ? tl.maxMs : null,
    windows,
    bursts,
    attackers,
    asns,
    countries,
    prefixes,
    paths,
    userAgents,
    statuses,
    timeline: timelineSeries(tl, bucketS),
    findings,
    approximations,
  };
}

function topKey(entries: [string, number][]): string | null {
  let best: [string, number] | null = null;
  for (const e of entries) if (best === null || e[1] > best[1] || (e[1] === best[1] && e[0] < best[0])) best = e;
  return best === null ? null : best[0];
}
