import { describe, expect, test } from 'vitest';
import { createAnalysis } from './analysis.ts';
import type { TestRow } from './test-batch.ts';
import { toBatches } from './test-batch.ts';
import { memoryGeo } from './test-geo.ts';
import { background, flood, ipRange, T0 } from './test-traffic.ts';

const H = 3_600_000;

describe('Attribution.readRanges', () => {
  test('records outside the read ranges, with their strings, status and bytes changed, give the same counts and result', () => {
    const rows: TestRow[] = [
      ...background({ startMs: T0, durationS: 12 * 3600, rps: () => 1, seed: 71 }),
      ...flood({ startMs: T0 + 6 * H, durationS: 300, rps: 60, ips: ipRange('198.51.100.', 40), seed: 72, randomQuery: true }),
    ].sort((a, b) => a.ts - b.ts);
    const a = createAnalysis();
    for (const b of toBatches(rows, 10_000)) a.add(b);
    expect(a.windows().length).toBeGreaterThan(0);
    const full = a.attribution();
    const ranges = full.readRanges();
    const inRanges = (ts: number): boolean => ranges.some(([from, to]) => ts >= from && ts < to);
    const outside = rows.filter((r) => !inRanges(r.ts)).length;
    expect(outside).toBeGreaterThan(rows.length / 2);
    expect(outside).toBeLessThan(rows.length);
    for (const b of toBatches(rows, 10_000)) full.add(b);
    const thin = a.attribution();
    const stripped = rows.map((r) => (inRanges(r.ts) ? r : { ts: r.ts, ip: r.ip, path: '/stripped', query: 'q=8f3a9c2e7b1d4f6a0c5e', status: 503, ua: null, referer: null, method: 'X' }));
    for (const b of toBatches(stripped, 10_000)) thin.add(b);
    expect(thin.snapshot()).toEqual(full.snapshot());
    const geo = memoryGeo();
    expect(a.finish(geo, thin)).toEqual(a.finish(geo, full));
  });
});
