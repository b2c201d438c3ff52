import type { BurstWindow } from './types.ts';
import type { Timeline } from './timeline.ts';
import { Coverage, findGaps } from './gaps.ts';
import { scaleBaseline, type ScaleBaseline } from './scale-baseline.ts';
import { baselineLine, refine, surroundings } from './refine-window.ts';

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
