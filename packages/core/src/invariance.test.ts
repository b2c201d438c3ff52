import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createAnalysis } from './analysis.ts';
import type { AnalysisOptions, AnalysisResult } from './types.ts';
import { makeBatch, rng, type TestRow } from './test-batch.ts';
import { memoryGeo } from './test-geo.ts';
import { background, flashCrowd, flood, ipRange, T0 } from './test-traffic.ts';

const H = 3_600_000;
const S = 1000;
const geo = memoryGeo();

const rows: TestRow[] = [
  ...background({ startMs: T0, durationS: 3 * 3600, rps: () => 1, seed: 21 }),
  ...flood({ startMs: T0 + H, durationS: 60, rps: 100, ips: ipRange('203.0.113', 8), seed: 22 }),
  ...flood({ startMs: T0 + 2 * H, durationS: 300, rps: 15, ips: ipRange('192.0.2', 6), seed: 23, paths: ['/search', '/api/a', '/api/b'] }),
  ...flood({ startMs: T0 + 2 * H + 150 * S, durationS: 300, rps: 15, ips: Array.from({ length: 120 }, (_, i) => `198.51.${100 + (i % 40)}.${i + 1}`), seed: 24, randomQuery: true }),
  ...flashCrowd({ startMs: T0 + 2.5 * H, durationS: 600, visitors: 300, seed: 25 }),
];

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  const rand = rng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Both passes, the input shuffled, cut into batches, and the batches dealt among workers whose states are merged. */
function runSplit(seed: number, workers: number, batchRows: number, opts: AnalysisOptions): AnalysisResult {
  const rand = rng(seed ^ 0x5bd1e995);
  const deal = (order: TestRow[]): TestRow[][][] => {
    const perWorker: TestRow[][][] = Array.from({ length: workers }, () => []);
    for (let i = 0; i < order.length; i += batchRows) perWorker[Math.floor(rand() * workers)]!.push(order.slice(i, i + batchRows));
    return perWorker;
  };
  const pass1 = deal(shuffled(rows, seed)).map((batches) => {
    const a = createAnalysis(opts);
    for (const b of batches) a.add(makeBatch(b));
    return a;
  });
  // Workers hand their state over as structured-cloned snapshots, or as live objects.
  const main = pass1[0]!;
  pass1.slice(1).forEach((other, k) => (k % 2 === 0 ? main.mergeSnapshot(structuredClone(other.snapshot())) : main.merge(other)));
  // Into an empty accumulator, by every route a run takes: given away live (absorb) or as a
  // snapshot (shared Maps, then owned), copied as a snapshot, or merged live. Every second worker
  // starts its detail sample where the merged state is when it starts (as alf hands out tasks).
  const att = main.attribution();
  deal(shuffled(rows, seed + 1)).forEach((batches, k) => {
    const other = main.attribution();
    if (k % 2 === 1) other.lowerDetailLimits(att.detailLimits());
    for (const b of batches) other.add(makeBatch(b));
    const route = (k + seed) % 4;
    if (route === 0) att.absorb(other);
    else if (route === 1) att.mergeSnapshot(structuredClone(other.snapshot(true)), true);
    else if (route === 2) att.mergeSnapshot(structuredClone(other.snapshot()));
    else att.merge(other);
  });
  // Pass 3 (only past the detail cap), dealt and merged the same way.
  if (main.detailPass(att) === null) return main.finish(geo, att);
  const pass3 = deal(shuffled(rows, seed + 2)).map((batches) => {
    const d = main.detailPass(att)!;
    for (const b of batches) d.add(makeBatch(b));
    return d;
  });
  pass3.slice(1).forEach((other, k) => (k % 2 === 0 ? pass3[0]!.mergeSnapshot(structuredClone(other.snapshot())) : pass3[0]!.merge(other)));
  return main.finish(geo, att, pass3[0]);
}

function reference(opts: AnalysisOptions): AnalysisResult {
  const sorted = [...rows].sort((a, b) => a.ts - b.ts || (a.ip < b.ip ? -1 : 1));
  const a = createAnalysis(opts);
  a.add(makeBatch(sorted));
  const at = a.attribution();
  at.add(makeBatch(sorted));
  const detail = a.detailPass(at);
  // The small cap must leave some attackers (or light new IPs) to the detail pass.
  expect(detail !== null).toBe((opts.maxIpsPerWindow ?? Infinity) <= 40);
  detail?.add(makeBatch(sorted));
  return a.finish(geo, at, detail);
}

describe('results do not depend on input order or on the split among workers', () => {
  test.for([
    { name: 'default caps', opts: {} },
    { name: 'a per-window IP cap small enough to force hash sampling (and the detail pass)', opts: { maxIpsPerWindow: 40, maxPathsPerIp: 2 } },
  ])('$name', ({ opts }) => {
    const ref = reference(opts);
    expect(ref.bursts.length).toBeGreaterThanOrEqual(3);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 500, max: 9000 }), (seed, workers, batchRows) => {
        expect(runSplit(seed, workers, batchRows, opts)).toEqual(ref);
      }),
      { numRuns: 4 },
    );
  });
});
