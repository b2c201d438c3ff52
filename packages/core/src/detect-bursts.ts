import type { BurstWindow } from './types.ts';
import type { Timeline } from './timeline.ts';
import { Coverage, findGaps } from './gaps.ts';

/** Most buckets one scale may use over the span. */
export const MAX_BUCKETS = 4_000_000;

export interface DetectOptions {
  readonly scalesS: readonly number[];
  readonly minExcessRequests: number;
  readonly minExcessRps: number;
  readonly minRatio: number;
  readonly minZ: number;
  readonly mergeGapS: number;
  /** Stretches without any request at least this long (s) are missing data, not zero traffic. */
  readonly minGapS: number;
}

/** Half-width of the rolling baseline, in buckets: ±27 min at 10 s … ±6 h at 30 min. */
export function horizonBuckets(scaleS: number): number {
  return Math.max(8, Math.round(12 * Math.sqrt(1800 / scaleS)));
}

/** Rolling median and MAD of one scale's buckets (the bucket and its direct neighbours excluded). */
export interface ScaleBaseline {
  readonly scaleS: number;
  readonly firstBucket: number;
  readonly counts: Float64Array;
  readonly median: Float64Array;
  readonly mad: Float64Array;
  /** 1 where at least half the bucket is covered by data (not in a gap). */
  readonly valid: Uint8Array;
}

function medianOf(values: Float64Array, n: number): number {
  if (n === 0) return 0;
  const v = values.subarray(0, n).sort();
  const h = n >> 1;
  return n % 2 === 1 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
}

function madOf(values: Float64Array, med: number, dev: Float64Array): number {
  for (let i = 0; i < values.length; i++) dev[i] = Math.abs(values[i]! - med);
  return medianOf(dev, values.length);
}

/**
 * The baseline of bucket k is the mean of the medians on its left and on its
 * right (each over `horizonBuckets` buckets, the bucket and its direct
 * neighbours excluded): the local linear trend, so a diurnal ramp follows its
 * own slope. Near the start or end of the data, where one side is short, the
 * long side's median is raised to the median of its nearest third: a ramp that
 * runs into the end of the file stays a ramp, a step up does not. The spread is
 * the smaller of the two sides' MADs (an event on one side does not inflate it).
 */
function baselineAt(counts: Float64Array, valid: Uint8Array, k: number, h: number, buf: Float64Array, dev: Float64Array): [number, number] {
  const n = counts.length;
  let m = 0;
  for (let j = Math.max(0, k - h); j <= k - 2; j++) if (valid[j] === 1) buf[m++] = counts[j]!;
  const nLeft = m;
  for (let j = k + 2; j <= Math.min(n - 1, k + h); j++) if (valid[j] === 1) buf[m++] = counts[j]!;
  if (m < 3) return [NaN, NaN];
  const nRight = m - nLeft;
  const leftVals = buf.slice(0, nLeft);
  const rightVals = buf.slice(nLeft, m);
  const third = Math.ceil(h / 3);
  const left = medianOf(leftVals.slice(), nLeft);
  const right = medianOf(rightVals.slice(), nRight);
  const madLeft = nLeft > 0 ? madOf(leftVals, left, dev) : Infinity;
  const madRight = nRight > 0 ? madOf(rightVals, right, dev) : Infinity;
  const enough = Math.ceil(h / 2);
  let base: number;
  let mad: number;
  if (nLeft >= enough && nRight >= enough) {
    base = (left + right) / 2;
    mad = Math.min(madLeft, madRight);
  } else if (nLeft >= nRight) {
    const near = medianOf(leftVals.slice(Math.max(0, nLeft - third)), Math.min(nLeft, third));
    base = Math.max(left, near);
    mad = madLeft;
  } else {
    const near = medianOf(rightVals.slice(0, Math.min(nRight, third)), Math.min(nRight, third));
    base = Math.max(right, near);
    mad = madRight;
  }
  return [base, Number.isFinite(mad) ? mad : 0];
}

export function scaleBaseline(tl: Timeline, scaleS: number, fromS: number, toS: number, coverage: Coverage = new Coverage([])): ScaleBaseline {
  const { firstBucket, counts } = tl.requestsPerBucket(scaleS, fromS, toS);
  const n = counts.length;
  const valid = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    const a = Math.max(fromS, (firstBucket + j) * scaleS);
    const b = Math.min(toS, (firstBucket + j + 1) * scaleS - 1);
    valid[j] = coverage.covered(a, b) * 2 >= b - a + 1 ? 1 : 0;
  }
  const h = horizonBuckets(scaleS);
  const stride = Math.max(1, Math.floor(h / 8));
  const median = new Float64Array(n);
  const mad = new Float64Array(n);
  const buf = new Float64Array(2 * h + 1);
  const dev = new Float64Array(2 * h + 1);
  let prevK = -1;
  let prevMed = 0;
  let prevMad = 0;
  const points: number[] = [];
  for (let k = 0; k < n; k += stride) points.push(k);
  if (n > 0 && points[points.length - 1] !== n - 1) points.push(n - 1);
  for (const k of points) {
    const [med, md] = baselineAt(counts, valid, k, h, buf, dev);
    if (prevK >= 0) {
      for (let j = prevK + 1; j < k; j++) {
        const f = (j - prevK) / (k - prevK);
        median[j] = prevMed + f * (med - prevMed);
        mad[j] = prevMad + f * (md - prevMad);
      }
    }
    median[k] = med;
    mad[k] = md;
    prevK = k;
    prevMed = med;
    prevMad = md;
  }
  return { scaleS, firstBucket, counts, median, mad, valid };
}

interface Interval {
  startS: number;
  /** Inclusive last second. */
  endS: number;
  scales: Set<number>;
}

/** Candidate intervals at one scale: buckets clearly above the rolling baseline. */
function candidates(b: ScaleBaseline, opts: DetectOptions): Interval[] {
  const out: Interval[] = [];
  const { counts, median, mad, scaleS, firstBucket } = b;
  let open: Interval | null = null;
  let lastHit = -10;
  for (let j = 0; j < counts.length; j++) {
    const x = counts[j]!;
    const med = median[j]!;
    if (b.valid[j] !== 1 || !Number.isFinite(med)) continue;
    const sigma = Math.max(1.4826 * mad[j]!, Math.sqrt(med), 1);
    const hit = x >= opts.minRatio * med && x - med >= opts.minZ * sigma && x - med >= 1;
    if (!hit) continue;
    const startS = (firstBucket + j) * scaleS;
    const endS = startS + scaleS - 1;
    if (open !== null && j - lastHit <= 2) open.endS = endS;
    else {
      open = { startS, endS, scales: new Set([scaleS]) };
      out.push(open);
    }
    lastHit = j;
  }
  return out;
}

function mergeIntervals(list: Interval[], gapS: number): Interval[] {
  const sorted = [...list].sort((a, b) => a.startS - b.startS || a.endS - b.endS);
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && iv.startS <= last.endS + gapS + 1) {
      if (iv.endS > last.endS) last.endS = iv.endS;
      for (const s of iv.scales) last.scales.add(s);
    } else out.push({ startS: iv.startS, endS: iv.endS, scales: new Set(iv.scales) });
  }
  return out;
}

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
function surroundings(tl: Timeline, startS: number, endS: number, widthS: number, firstS: number, lastS: number, coverage: Coverage): { left: number; right: number } {
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
function baselineLine(fromS: number, toS: number, startS: number, endS: number, lv: { left: number; right: number }): Float64Array {
  const out = new Float64Array(toS - fromS + 1);
  for (let i = 0; i < out.length; i++) {
    const sec = fromS + i;
    if (sec <= startS) out[i] = lv.left;
    else if (sec >= endS) out[i] = lv.right;
    else out[i] = lv.left + ((lv.right - lv.left) * (sec - startS)) / (endS - startS);
  }
  return out;
}

interface Refined {
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
function refine(tl: Timeline, coverage: Coverage, firstS: number, lastS: number, startS0: number, endS0: number, loS: number = firstS, hiS: number = lastS): Refined | null {
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

function windowStats(
  counts: Float64Array, base: Float64Array, i0: number, i1: number, fromS: number, scales: Set<number>,
): BurstWindow {
  let requests = 0;
  let expected = 0;
  let peak = 0;
  for (let i = i0; i <= i1; i++) {
    requests += counts[i]!;
    expected += base[i]!;
    if (counts[i]! > peak) peak = counts[i]!;
  }
  const excess = requests - expected;
  const scaleList = [...scales].sort((a, b) => a - b);
  const duration = i1 - i0 + 1;
  return {
    startMs: (fromS + i0) * 1000,
    endMs: (fromS + i1) * 1000,
    requests,
    excessRequests: Math.round(excess),
    peakRps: peak,
    baselineRps: round3(expected / duration),
    score: round3(excess / Math.sqrt(expected + 1)),
    scaleS: scaleList[0] ?? 0,
    scalesS: scaleList,
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Pass 1 detection: burst windows from the timeline alone. Pure function of the
 * timeline's counts, hence of the input's multiset of records.
 */
export function detectBursts(tl: Timeline, opts: DetectOptions): BurstWindow[] {
  const span = tl.spanS();
  if (span === null) return [];
  const { firstS, lastS } = span;
  // A scale is skipped when the span would need more than 4M of its buckets (10 s buckets over more
  // than 15 months): the bucket arrays are dense over the span. The coarsest scale is always kept.
  const usable = opts.scalesS.filter((s, i) => i === opts.scalesS.length - 1 || (lastS - firstS + 1) / s <= MAX_BUCKETS);
  const coverage = new Coverage(findGaps(tl, opts.minGapS));
  const scales = usable.map((s) => scaleBaseline(tl, s, firstS, lastS, coverage));
  const raw: Interval[] = [];
  for (const sb of scales) raw.push(...candidates(sb, opts));
  const events = mergeIntervals(raw, opts.mergeGapS);

  const pieces: { startS: number; endS: number; scales: Set<number> }[] = [];
  for (const ev of events) {
    // An event without even minExcessRequests/4 requests cannot hold a burst: skip it cheaply.
    let total = 0;
    const span = tl.requestsPerSecond(ev.startS, ev.endS);
    for (let i = 0; i < span.length; i++) total += span[i]!;
    if (total < opts.minExcessRequests / 4) continue;
    // The main run through the event, then runs through what is left of it on either side
    // (an attack with a pause is two runs); pieces too small to matter on their own are dropped
    // so that noise next to a spike does not widen it.
    // Anchors: [from, to] of the candidate event still to search, within [min, max] (free of pieces found).
    const anchors: [number, number, number, number][] = [[ev.startS, ev.endS, firstS, lastS]];
    for (let guard = 0; anchors.length > 0 && guard < 16; guard++) {
      const [a0, a1, lo, hi] = anchors.pop()!;
      const r = refine(tl, coverage, firstS, lastS, a0, a1, lo, hi);
      if (r === null) continue;
      const counts = tl.requestsPerSecond(r.startS, r.endS);
      const base = baselineLine(r.startS, r.endS, r.startS, r.endS, r.level);
      const w = windowStats(counts, base, 0, counts.length - 1, r.startS, ev.scales);
      const expected = w.requests - w.excessRequests;
      if (w.excessRequests >= opts.minExcessRequests / 4 && w.requests >= opts.minRatio * expected && w.score >= opts.minZ) {
        pieces.push({ startS: r.startS, endS: r.endS, scales: ev.scales });
      }
      if (r.startS - 1 - a0 >= 60) anchors.push([a0, Math.min(a1, r.startS - 1), lo, r.startS - 1]);
      if (a1 - (r.endS + 1) >= 60) anchors.push([Math.max(a0, r.endS + 1), a1, r.endS + 1, hi]);
    }
  }

  // Adjacent pieces of one event are one burst.
  const merged = mergeIntervals(pieces, opts.mergeGapS);
  const out: BurstWindow[] = [];
  for (const m of merged) {
    const level = surroundings(tl, m.startS, m.endS, Math.max(3 * (m.endS - m.startS + 1), 3600), firstS, lastS, coverage);
    const counts = tl.requestsPerSecond(m.startS, m.endS);
    const base = baselineLine(m.startS, m.endS, m.startS, m.endS, level);
    const w = windowStats(counts, base, 0, counts.length - 1, m.startS, m.scales);
    const expected = w.requests - w.excessRequests;
    const excessRps = w.excessRequests / ((w.endMs - w.startMs) / 1000 + 1);
    if (w.excessRequests >= opts.minExcessRequests && excessRps >= opts.minExcessRps && w.score >= opts.minZ && w.requests >= 1.5 * expected) {
      out.push(w);
    }
  }
  return out;
}
