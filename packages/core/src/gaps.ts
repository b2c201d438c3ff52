/**
 * Stretches without a single request for `minGapS` seconds or more are taken
 * as missing data (log rotation holes, sampled logs, files from different
 * days), not as zero traffic: baselines skip them and no burst spans them.
 */
import { PAGE_S, type Timeline } from './timeline.ts';

/** Inclusive [firstS, lastS] of one gap. */
export type Gap = readonly [number, number];

export function findGaps(tl: Timeline, minGapS: number): Gap[] {
  const gaps: Gap[] = [];
  const pages = [...tl.pages.keys()].sort((a, b) => a - b);
  let last = NaN;
  for (const p of pages) {
    const counts = tl.pages.get(p)!.counts;
    for (let off = 0; off < PAGE_S; off++) {
      if (counts[off * 5] === 0) continue;
      const sec = p * PAGE_S + off;
      if (!Number.isNaN(last) && sec - last - 1 >= minGapS) gaps.push([last + 1, sec - 1]);
      last = sec;
    }
  }
  return gaps;
}

export class Coverage {
  readonly gaps: readonly Gap[];
  constructor(gaps: readonly Gap[]) {
    this.gaps = gaps;
  }

  /** Seconds of [fromS, toS] outside every gap. */
  covered(fromS: number, toS: number): number {
    let n = Math.max(0, toS - fromS + 1);
    for (const [a, b] of this.overlapping(fromS, toS)) n -= Math.min(b, toS) - Math.max(a, fromS) + 1;
    return n;
  }

  /** 1 per covered second of [fromS, toS]. */
  mask(fromS: number, toS: number): Uint8Array {
    const m = new Uint8Array(Math.max(0, toS - fromS + 1)).fill(1);
    for (const [a, b] of this.overlapping(fromS, toS)) m.fill(0, Math.max(a, fromS) - fromS, Math.min(b, toS) - fromS + 1);
    return m;
  }

  private *overlapping(fromS: number, toS: number): Generator<Gap> {
    const g = this.gaps;
    let lo = 0;
    let hi = g.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (g[mid]![1] < fromS) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < g.length && g[i]![0] <= toS; i++) yield g[i]!;
  }
}
