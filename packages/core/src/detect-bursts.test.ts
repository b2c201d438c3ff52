import { describe, expect, test } from 'vitest';
import { createAnalysis } from './analysis.ts';
import type { BurstWindow } from './types.ts';
import { toBatches, type TestRow } from './test-batch.ts';
import { realRows } from './test-real.ts';
import { background, flood, ipRange, T0 } from './test-traffic.ts';

const H = 3_600_000;
const S = 1000;

function windowsOf(rows: readonly TestRow[]): readonly BurstWindow[] {
  const a = createAnalysis();
  for (const b of toBatches(rows, 25_000)) a.add(b);
  return a.windows();
}

const bg = background({ startMs: T0, durationS: 8 * 3600, rps: () => 2, seed: 1 });

describe('burst windows against a robust multi-scale baseline', () => {
  test.for([
    { name: 'a 90-second spike at 100x', startMs: T0 + 3 * H, durationS: 90, rps: 198, tolS: 2 },
    { name: 'a 15-minute flood at 30x', startMs: T0 + 3 * H + 17 * S, durationS: 900, rps: 58, tolS: 3 },
    { name: 'a 2-hour low-and-slow attack at 3x', startMs: T0 + 3 * H + 123 * S, durationS: 7200, rps: 4, tolS: 120 },
  ])('finds $name, start and end to the second', ({ startMs, durationS, rps, tolS }) => {
    const rows = [...bg, ...flood({ startMs, durationS, rps, ips: ipRange('203.0.113', 20), seed: 7 })];
    const ws = windowsOf(rows);
    expect(ws).toHaveLength(1);
    const w = ws[0]!;
    expect(Math.abs(w.startMs - startMs) / S).toBeLessThanOrEqual(tolS);
    expect(Math.abs(w.endMs - (startMs + (durationS - 1) * S)) / S).toBeLessThanOrEqual(tolS);
    const injected = durationS * rps;
    expect(w.excessRequests).toBeGreaterThan(0.9 * injected);
    expect(w.excessRequests).toBeLessThan(1.1 * injected);
    expect(w.baselineRps).toBeGreaterThan(1.7);
    expect(w.baselineRps).toBeLessThan(2.3);
  });

  test('gives no burst on two days of diurnal traffic with noise', () => {
    const rows = background({ startMs: T0, durationS: 2 * 86400, rps: (t) => 0.3 + 2.7 * (1 + Math.sin((2 * Math.PI * t) / 86400)) / 2, seed: 3 });
    expect(windowsOf(rows)).toEqual([]);
  });

  test('merges adjacent pieces of one event into one burst', () => {
    const ips = ipRange('203.0.113', 10);
    const rows = [
      ...bg,
      ...flood({ startMs: T0 + 3 * H, durationS: 300, rps: 50, ips, seed: 8 }),
      ...flood({ startMs: T0 + 3 * H + 360 * S, durationS: 300, rps: 50, ips, seed: 9 }),
      ...flood({ startMs: T0 + 3 * H + 700 * S, durationS: 200, rps: 50, ips, seed: 10 }),
    ];
    const ws = windowsOf(rows);
    expect(ws).toHaveLength(1);
    expect(ws[0]!.startMs).toBe(T0 + 3 * H);
    expect(Math.abs(ws[0]!.endMs - (T0 + 3 * H + 899 * S))).toBeLessThanOrEqual(2 * S);
  });

  test('keeps two events hours apart as two bursts', () => {
    const rows = [
      ...bg,
      ...flood({ startMs: T0 + 2 * H, durationS: 120, rps: 100, ips: ipRange('203.0.113', 5), seed: 11 }),
      ...flood({ startMs: T0 + 5 * H, durationS: 120, rps: 100, ips: ipRange('192.0.2', 5), seed: 12 }),
    ];
    const ws = windowsOf(rows);
    expect(ws.map((w) => w.startMs)).toEqual([T0 + 2 * H, T0 + 5 * H]);
  });
});

describe('gaps in the data', () => {
  const D = 86_400_000;
  const blocks = (): TestRow[] => [
    ...background({ startMs: T0, durationS: 6 * 3600, rps: () => 3, seed: 61 }),
    ...background({ startMs: T0 + 5 * D, durationS: 6 * 3600, rps: () => 3, seed: 62 }),
    ...background({ startMs: T0 + 9 * D + H, durationS: 3 * 3600, rps: () => 1, seed: 63 }),
  ];

  test('files from different days are missing data between them, not zero traffic: no burst', () => {
    expect(windowsOf(blocks())).toEqual([]);
    const r = createAnalysis().finish({ lookup: () => { throw new Error('no lookups expected'); } });
    expect(r.findings).toEqual([]);
  });

  test('says where data is missing', () => {
    const a = createAnalysis();
    for (const b of toBatches(blocks(), 50_000)) a.add(b);
    const gap = a.finish({ lookup: () => { throw new Error('no lookups expected'); } }).findings.find((f) => f.code === 'data_gap');
    expect(gap?.message).toMatch(/^2 stretches of 30 min or more without any request \(\d+\.\d h in all; longest 11\d\.\d h from 2024-03-04T06:00:0\d\.000Z\)/);
  });

  test('still finds a flood that starts ten minutes after a gap', () => {
    const start = T0 + 5 * D + 10 * 60 * S;
    const ws = windowsOf([...blocks(), ...flood({ startMs: start, durationS: 600, rps: 40, ips: ipRange('203.0.113', 10), seed: 64 })]);
    expect(ws).toHaveLength(1);
    expect(Math.abs(ws[0]!.startMs - start)).toBeLessThanOrEqual(2 * S);
  });
});

describe('real traffic', () => {
  test.for([
    'secrepo/access.log.2021-10-22_to_2021-10-27.gz',
    'secrepo/access.log.2022-12-22.gz',
    'nielsbasjes-logparser/hackers-access.log.gz',
    'nasa-http/NASA_access_log_Aug95.first20000.log.gz',
  ])('a normal stretch of %s gives no burst', (file) => {
    const rows = realRows(file);
    expect(rows.length).toBeGreaterThan(1000);
    expect(windowsOf(rows)).toEqual([]);
  });

  test('the secrepo 2018-12-15 burst is one window, 00:24:12 to 00:43:09 (-0800)', () => {
    const ws = windowsOf(realRows('secrepo/access.log.2018-12-15.gz'));
    expect(ws).toHaveLength(1);
    expect(new Date(ws[0]!.startMs).toISOString()).toBe('2018-12-16T08:24:12.000Z');
    expect(new Date(ws[0]!.endMs).toISOString()).toBe('2018-12-16T08:43:09.000Z');
    expect(ws[0]!.excessRequests).toBeGreaterThan(4100);
  });
});
