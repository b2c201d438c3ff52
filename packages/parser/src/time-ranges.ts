/**
 * A set of time ranges `[fromMs, toMs)` asked for one row at a time
 * (`ParseOptions.allColumnsWithin`). Rows come mostly in time order, so the
 * answer for the segment of the last row (a range, or the gap between two) is
 * kept and a row in the same segment costs two comparisons; another segment
 * is found by binary search.
 */
export class TimeRanges {
  /** Sorted, disjoint boundaries: [bounds[2k], bounds[2k+1]) are the ranges. */
  private readonly bounds: Float64Array;
  /** The segment of the last row: [segFrom, segTo), inside or not. */
  private segFrom = Infinity;
  private segTo = -Infinity;
  private segInside = false;

  constructor(ranges: readonly (readonly [number, number])[]) {
    const sorted = ranges.filter(([a, b]) => a < b).map(([a, b]) => [a, b] as const).sort((x, y) => x[0] - y[0]);
    const merged: number[] = [];
    for (const [a, b] of sorted) {
      const n = merged.length;
      if (n > 0 && a <= merged[n - 1]!) merged[n - 1] = Math.max(merged[n - 1]!, b);
      else merged.push(a, b);
    }
    this.bounds = Float64Array.from(merged);
  }

  /** The sorted, disjoint boundaries: [b[2k], b[2k+1]) are the ranges. */
  get boundaries(): Float64Array {
    return this.bounds;
  }

  /** True when `ms` lies in one of the ranges (NaN never does). */
  has(ms: number): boolean {
    if (ms >= this.segFrom && ms < this.segTo) return this.segInside;
    const b = this.bounds;
    if (Number.isNaN(ms)) return false;
    // the number of boundaries ≤ ms: odd means inside a range
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (b[mid]! <= ms) lo = mid + 1;
      else hi = mid;
    }
    this.segFrom = lo === 0 ? -Infinity : b[lo - 1]!;
    this.segTo = lo === b.length ? Infinity : b[lo]!;
    this.segInside = (lo & 1) === 1;
    return this.segInside;
  }
}
