/**
 * Fine-grained request counts around a burst, for the zoomed burst chart:
 * `AnalysisResult.timeline` has one bucket size for the whole span (often
 * 60 s), while the per-second counts live only in the `Timeline`. A pure
 * function of the timeline: no clock, no I/O.
 */
import type { Burst } from './types.ts';
import type { Timeline } from './timeline.ts';

/** Requests per step around one burst. */
export interface BurstSeries {
  readonly burstId: number;
  /** Epoch ms of the first step (a multiple of stepS seconds since the epoch). */
  readonly startMs: number;
  /** Seconds per step: 1, 10 or 60. */
  readonly stepS: number;
  /** Requests per step, zeros included. */
  readonly requests: Float64Array;
}

/** Steps tried, finest first; the first that keeps the series at or under `maxPoints` wins. */
const STEPS_S: readonly number[] = [1, 10, 60];

/**
 * Requests around `burst`: its window plus max(¾ of its duration, `minMarginS`)
 * on each side, clipped to the timeline's span, at the finest step of 1, 10
 * or 60 s that gives at most `maxPoints` steps (60 s beyond that).
 */
export function burstSeries(timeline: Timeline, burst: Burst, opts: { minMarginS?: number; maxPoints?: number } = {}): BurstSeries {
  const minMarginS = opts.minMarginS ?? 300;
  const maxPoints = opts.maxPoints ?? 1800;
  const span = timeline.spanS();
  const firstS = Math.floor(burst.startMs / 1000);
  const lastS = Math.floor(burst.endMs / 1000);
  const marginS = Math.max(Math.ceil(0.75 * (lastS - firstS + 1)), minMarginS);
  const fromS = span === null ? firstS : Math.max(span.firstS, firstS - marginS);
  const toS = span === null ? lastS : Math.min(span.lastS, lastS + marginS);
  const stepS = STEPS_S.find((s) => (toS - fromS + 1) / s <= maxPoints) ?? STEPS_S[STEPS_S.length - 1]!;
  const { firstBucket, counts } = timeline.requestsPerBucket(stepS, fromS, Math.max(fromS, toS));
  return { burstId: burst.burstId, startMs: firstBucket * stepS * 1000, stepS, requests: counts };
}
