/**
 * The end of the analysis: per window, attribution, the concurrent-attack
 * split, cluster tables, verdicts, findings and approximations.
 */
import type { GeoAnswer, GeoLookup } from '@alf/geo';
import type { ResolvedOptions } from './analysis.ts';
import { attributeWindow, type Participant } from './attribute.ts';
import { buildClusters, type Member } from './clusters.ts';
import { findGaps } from './gaps.ts';
import { HLL_ERROR_WORDS } from './hll.ts';
import { networkKey, splitAttackers } from './split-window.ts';
import type { Timeline } from './timeline.ts';
import type {
  AnalysisResult, Approximation, AsnRow, Attacker, Burst, BurstWindow, CountryRow, Finding, PathRow,
  PrefixRow, StatusRow, TimelineSeries, UserAgentRow,
} from './types.ts';
import { decideVerdict, fmtInt } from './verdict.ts';
import type { WindowCounts } from './window-counts.ts';
import { pathEntries, countEntries } from './ip-window-stats.ts';

const MAX_CLUSTER_ROWS = 1000;

function autoBucketS(spanS: number): number {
  if (spanS <= 14 * 86400) return 60;
  if (spanS <= 120 * 86400) return 600;
  return 3600;
}

function timelineSeries(tl: Timeline, bucketS: number): TimelineSeries {
  const s = tl.series(bucketS);
  return { bucketS, ...s };
}

/** Attribute, split, cluster and judge each window (see docs/detection.md). */
export function finishAnalysis(
  tl: Timeline, opts: ResolvedOptions, windows: readonly BurstWindow[], counts: WindowCounts | undefined, geo: GeoLookup,
  detail?: WindowCounts,
): AnalysisResult {
  const span = tl.spanS();
  const bucketS = opts.timelineBucketS > 0 ? opts.timelineBucketS : autoBucketS(span === null ? 0 : span.lastS - span.firstS + 1);
  const findings: Finding[] = [];
  const approximations: Approximation[] = [
    { what: 'timeline.distinct_ips', why: 'distinct client IPs per minute are counted with a HyperLogLog sketch', errorBound: HLL_ERROR_WORDS },
  ];
  const gaps = findGaps(tl, opts.minGapS);
  if (gaps.length > 0) {
    const lengths = gaps.map(([a, b]) => b - a + 1);
    const total = lengths.reduce((x, y) => x + y, 0);
    const longest = gaps[lengths.indexOf(Math.max(...lengths))]!;
    const hours = (sec: number): string => `${(sec / 3600).toFixed(1)} h`;
    findings.push({
      code: 'data_gap', burstId: null,
      message: `${fmtInt(gaps.length)} stretch${gaps.length === 1 ? '' : 'es'} of ${Math.round(opts.minGapS / 60)} min or more without any request (${hours(total)} in all; longest ${hours(longest[1] - longest[0] + 1)} from ${new Date(longest[0] * 1000).toISOString()}) taken as missing data (or real silence): baselines skip them and no burst spans them`,
    });
  }
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
    const state = counts?.windows[wi];
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
    const att = attributeWindow(state, opts.minAttackerRequests, w.excessRequests, detail?.windows[wi]);
    const sampled = state.limit < 2 ** 32;
    // Why the window's per-IP detail is a sample: too many IPs, or (fewer IPs) too many distinct paths and agents per IP.
    const tooMany = att.distinctIps > counts!.opts.maxIpsPerWindow
      ? `more than ${fmtInt(counts!.opts.maxIpsPerWindow)} IPs`
      : `per-IP detail over ${fmtInt(counts!.maxDetailUnits)} units (1 per IP, 1 per distinct path and user agent of each)`;
    if (sampled) {
      const rate = state.limit / 2 ** 32;
      findings.push({ code: 'cap_hit', burstId: null, message: `window ${wi + 1}: ${tooMany}; attribution counted every IP exactly, per-IP detail (paths, agents, statuses) of non-attributed IPs is a deterministic 1/${fmtInt(1 / rate)} hash sample` });
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
      const distinctIps = part.split ? part.members.length : att.distinctIps;
      bursts.push({
        burstId: id, startMs: part.startMs, endMs: part.endMs, durationS: partDur, requests, excessRequests: excess, peakRps: peak,
        baselineRps, distinctIps, attackers: mAtt.length, score: w.score, scaleS: w.scaleS, verdict: v.verdict, reasons, windowIndex: wi,
        attributedShare: excess > 0 ? Math.round((attributed / excess) * 1000) / 1000 : 0,
      });
      findings.push({ code: 'burst', burstId: id, message: `${v.verdict}: ${fmtInt(requests)} requests (${fmtInt(excess)} over baseline) from ${new Date(part.startMs).toISOString()} to ${new Date(part.endMs).toISOString()}; ${v.reasons.slice(0, 3).join('; ')}` });
      for (const m of mAtt) {
        const s = m.p.stats;
        const topPath = s.paths === null ? null : topKey(pathEntries(s.paths).map(([k, c]) => [k, c]));
        const topUa = s.userAgents === null ? null : topKey(countEntries(s.userAgents));
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
      if (sampled && !part.split) {
        approximations.push({
          what: `burst ${id}: cluster tables and verdict evidence of non-attributed IPs`,
          why: `${tooMany} in the window; per-IP detail kept for a hash sample of them (attackers, their requests and excess, and distinct_ips are exact)`,
          errorBound: `non-attributed IPs are a uniform 1/${fmtInt(2 ** 32 / state.limit)} sample; ${fmtInt(state.sampledOut.requests)} requests from IPs without detail are left out of the tables`,
        });
      }
      const none = mAtt.filter((m) => m.p.detail === 'none').length;
      if (none > 0) {
        approximations.push({
          what: `burst ${id}: top_path, top_user_agent, first_seen, last_seen and cluster tables of ${fmtInt(none)} attackers`,
          why: `${tooMany} in the window and these attackers were outside the detail sample${detail === undefined ? ' (no detail pass was run)' : ` (the detail pass tracks at most ${fmtInt(counts!.maxHeavyIps)} per window)`}`,
          errorBound: 'unknown: left empty; first and last seen are the window bounds; their requests and excess are exact',
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
    if (state.counts.otherDroppedInside + state.counts.otherDroppedRef > 0) {
      approximations.push({
        what: `window ${wi + 1}: attribution of clients that are neither IPv4 nor IPv6 in RFC 5952 form`,
        why: `more than ${fmtInt(state.counts.maxOtherKeys)} distinct such client texts (host names, other spellings)`,
        errorBound: `${fmtInt(state.counts.otherDroppedInside)} inside and ${fmtInt(state.counts.otherDroppedRef)} reference requests of the clients past that were not counted per client (no such client can be attributed)`,
      });
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
