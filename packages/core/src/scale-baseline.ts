/**
 * One scale's rolling baseline: per bucket, the mean of the medians on either
 * side (the local trend) and the smaller side MAD, skipping buckets in gaps.
 */
import type { Timeline } from './timeline.ts';
import { Coverage } from './gaps.ts';

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

export function medianOf(values: Float64Array, n: number): number {
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

