/**
 * Start and end to the second: the baseline from an event's surroundings and
 * the anchored, capped maximum-sum run of per-second excess.
 */
import type { Timeline } from './timeline.ts';
import type { Coverage } from './gaps.ts';

/** Interquartile mean: robust to a quarter of the values being an event, unbiased for symmetric noise. */
function iqm(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  const v = values.slice().sort();
  const lo = Math.floor(n / 4);
  const hi = Math.max(lo + 1, Math.ceil((3 * n) / 4));
  let sum = 0;
  for (let i = lo; i < hi; i++) sum += v[i]!;
  return sum / (hi - lo);
}

/**
 * Requests per second around [startS, endS]: interquartile mean of bucket counts
 * in `widthS` before and after. Buckets are a minute, or longer on quiet sites
 * (about 20 requests per bucket), so that a mostly-empty minute grid does not
 * put the baseline at zero.
 */
export function surroundings(tl: Timeline, startS: number, endS: number, widthS: number, firstS: number, lastS: number, coverage: Coverage): { left: number; right: number } {
  const side = (from: number, to: number): number => {
    if (to < from) return NaN;
    const all = tl.requestsPerSecond(from, to);
    const mask = coverage.mask(from, to);
    let len = 0;
    for (let i = 0; i < all.length; i++) if (mask[i] === 1) all[len++] = all[i]!;
    if (len < 60) return NaN;
    const perSec = all.subarray(0, len);
    let total = 0;
    for (let i = 0; i < perSec.length; i++) total += perSec[i]!;
    const rate = total / len;
    const bucketS = Math.max(60, Math.min(Math.ceil(20 / Math.max(rate, 1e-9)), Math.floor(len / 4)));
    const buckets = new Float64Array(Math.max(1, Math.floor(len / bucketS)));
    for (let i = 0; i < Math.min(perSec.length, buckets.length * bucketS); i++) {
      const k = Math.floor(i / bucketS);
      buckets[k] = buckets[k]! + perSec[i]!;
    }
    return iqm(buckets) / bucketS;
  };
  let left = side(Math.max(firstS, startS - widthS), startS - 1);
  let right = side(endS + 1, Math.min(lastS, endS + widthS));
  if (Number.isNaN(left)) left = right;
  if (Number.isNaN(right)) right = left;
  if (Number.isNaN(left)) left = right = 0;
  return { left, right };
}

/** Per-second baseline over [fromS, toS]: the left level before the event, the right after, a straight line across it. */
export function baselineLine(fromS: number, toS: number, startS: number, endS: number, lv: { left: number; right: number }): Float64Array {
  const out = new Float64Array(toS - fromS + 1);
  for (let i = 0; i < out.length; i++) {
    const sec = fromS + i;
    if (sec <= startS) out[i] = lv.left;
    else if (sec >= endS) out[i] = lv.right;
    else out[i] = lv.left + ((lv.right - lv.left) * (sec - startS)) / (endS - startS);
  }
  return out;
}

export interface Refined {
  readonly startS: number;
  readonly endS: number;
  readonly level: { left: number; right: number };
}

/**
 * Start and end to the second: the run of seconds that maximises the sum of
 * (requests − baseline − drift), drift being two Poisson deviations of the
 * baseline rate (at most half the event's mean excess rate), among the runs
 * that overlap the candidate event, each second's term capped at 4 drifts (so
 * a bigger neighbour cannot pull the window to itself or join across a gap).
 * The baseline comes from the event's surroundings, so it is re-estimated with
 * the refined window until the window stops moving (at most 4 rounds). The run
 * stays within [loS, hiS] (clear of pieces already found).
 */
export function refine(tl: Timeline, coverage: Coverage, firstS: number, lastS: number, startS0: number, endS0: number, loS: number = firstS, hiS: number = lastS): Refined | null {
  if (endS0 < startS0) return null;
  let startS = startS0;
  let endS = endS0;
  let level = { left: 0, right: 0 };
  for (let round = 0; round < 4; round++) {
    const dur = endS - startS + 1;
    level = surroundings(tl, startS, endS, Math.max(3 * dur, 3600), firstS, lastS, coverage);
    const pad = Math.max(dur, 600);
    const fromS = Math.max(loS, startS - pad);
    const toS = Math.min(hiS, endS + pad);
    const counts = tl.requestsPerSecond(fromS, toS);
    const base = baselineLine(fromS, toS, startS, endS, level);
    let evExcess = 0;
    for (let sec = startS; sec <= endS; sec++) evExcess += counts[sec - fromS]! - base[sec - fromS]!;
    const meanBase = (level.left + level.right) / 2;
    const drift = Math.max(0, Math.min((0.5 * evExcess) / dur, 2 * Math.sqrt(Math.max(meanBase, 0.01))));
    const shifted = new Float64Array(counts.length);
    // Each second counts at most 4 drifts: the run measures how long the rate stays up, not how
    // much traffic a neighbour carries, so a big flood an hour away does not join the window.
    // Seconds in a gap (no data) stop a run: no burst spans missing data.
    const mask = coverage.mask(fromS, toS);
    for (let i = 0; i < counts.length; i++) shifted[i] = mask[i] === 1 ? Math.min(counts[i]! - base[i]! - drift, 4 * drift) : -1e12;
    const run = maxRunThrough(shifted, startS0 - fromS, endS0 - fromS);
    if (run === null) return null;
    const s = fromS + run.i0;
    const e = fromS + run.i1;
    if (s === startS && e === endS) break;
    startS = s;
    endS = e;
  }
  return { startS, endS, level };
}

/**
 * Max-sum run of `v` that contains at least one index of [a, b] (Kadane from
 * both ends: best run ending at p plus best run starting after p). Returns null
 * when no such run has a positive sum.
 */
function maxRunThrough(v: Float64Array, a: number, b: number): { i0: number; i1: number; sum: number } | null {
  const n = v.length;
  const endSum = new Float64Array(n);
  const endStart = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (i > 0 && endSum[i - 1]! > 0) {
      endSum[i] = endSum[i - 1]! + v[i]!;
      endStart[i] = endStart[i - 1]!;
    } else {
      endSum[i] = v[i]!;
      endStart[i] = i;
    }
  }
  const startSum = new Float64Array(n);
  const startEnd = new Int32Array(n);
  for (let i = n - 1; i >= 0; i--) {
    if (i < n - 1 && startSum[i + 1]! > 0) {
      startSum[i] = startSum[i + 1]! + v[i]!;
      startEnd[i] = startEnd[i + 1]!;
    } else {
      startSum[i] = v[i]!;
      startEnd[i] = i;
    }
  }
  let best: { i0: number; i1: number; sum: number } | null = null;
  for (let p = Math.max(0, a); p <= Math.min(n - 1, b); p++) {
    const sum = endSum[p]! + startSum[p]! - v[p]!;
    if (sum > 0 && (best === null || sum > best.sum)) best = { i0: endStart[p]!, i1: startEnd[p]!, sum };
  }
  return best;
}

