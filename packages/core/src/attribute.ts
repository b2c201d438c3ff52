/**
 * Attribution: which IPs took part in a burst window, from pass-2 counts.
 * An IP is attributed when its requests inside the window are clearly above
 * what its own rate in the reference periods predicts (or it is new there) and
 * its excess is at least the ordinary heavy visitor's count (p99 of per-IP
 * requests in the reference periods, at least `minAttackerRequests`).
 * In SQL: one GROUP BY ip over the window and its reference periods.
 */
import type { IpWindowStats, WindowState } from './window-counts.ts';

export interface Participant {
  readonly stats: IpWindowStats;
  /** Requests in the reference periods. */
  readonly refRequests: number;
  readonly expected: number;
  readonly excess: number;
}

export interface WindowAttribution {
  readonly durationS: number;
  readonly refDurationS: number;
  /** The per-IP excess an IP needed to be attributed. */
  readonly threshold: number;
  readonly attackers: Participant[];
  readonly others: Participant[];
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[pos]!;
}

export function attributeWindow(w: WindowState, minAttackerRequests: number): WindowAttribution {
  const durationS = (w.insideToMs - w.insideFromMs) / 1000;
  const refDurationS = (w.refBefore[1] - w.refBefore[0] + (w.refAfter[1] - w.refAfter[0])) / 1000;
  const refCounts = [...w.ref.values()].sort((a, b) => a - b);
  const p99 = refCounts.length >= 20 ? quantile(refCounts, 0.99) : 0;
  const threshold = Math.max(minAttackerRequests, Math.ceil(p99));
  const attackers: Participant[] = [];
  const others: Participant[] = [];
  for (const s of w.ips.values()) {
    const refRequests = w.ref.get(s.ip) ?? 0;
    const expected = refDurationS > 0 ? (refRequests * durationS) / refDurationS : 0;
    const excess = s.requests - expected;
    const p: Participant = { stats: s, refRequests, expected, excess };
    const clearlyAbove = s.requests >= 3 * expected + 3 * Math.sqrt(expected) + 1;
    if (excess >= threshold && clearlyAbove) attackers.push(p);
    else others.push(p);
  }
  const byExcess = (a: Participant, b: Participant): number => b.excess - a.excess || (a.stats.ip < b.stats.ip ? -1 : 1);
  attackers.sort(byExcess);
  others.sort(byExcess);
  return { durationS, refDurationS, threshold, attackers, others };
}
