import { describe, expect, test } from 'vitest';
import { analyze, createAnalysis } from './analysis.ts';
import { toBatches } from './test-batch.ts';
import { memoryGeo } from './test-geo.ts';
import { background, flood, T0 } from './test-traffic.ts';

const H = 3_600_000;
const geo = memoryGeo();
const bg = background({ startMs: T0, durationS: 4 * 3600, rps: () => 1, seed: 51 });

describe('IPv6 and bounded state', () => {
  test('clusters IPv6 attackers by /48', () => {
    const ips = [...Array.from({ length: 6 }, (_, i) => `2001:db8:aa:${i}::1`), ...Array.from({ length: 4 }, (_, i) => `2001:db8:bb::${i + 1}`)];
    const r = analyze(toBatches([...bg, ...flood({ startMs: T0 + 2 * H, durationS: 300, rps: 40, ips, seed: 52 })], 20_000), geo);
    expect(r.bursts).toHaveLength(1);
    expect(new Set(r.attackers.map((a) => a.ip))).toEqual(new Set(ips));
    const prefixes = r.prefixes.filter((p) => p.prefix?.includes(':')).map((p) => [p.prefix, p.ips]);
    expect(prefixes).toEqual(expect.arrayContaining([['2001:db8:aa::/48', 6], ['2001:db8:bb::/48', 4]]));
  });

  test('past the per-window detail cap, attributes by rate exactly, keeps a hash sample of the rest and says so', () => {
    const ips = Array.from({ length: 3000 }, (_, i) => `198.51.${100 + (i % 100)}.${Math.floor(i / 100) + 1}`);
    const rows = [...bg, ...flood({ startMs: T0 + 2 * H, durationS: 300, rps: 200, ips, seed: 53 })];
    const r = analyze(toBatches(rows, 20_000), geo, { maxTrackedIps: 500, maxIpsPerWindow: 500 });
    const uncapped = analyze(toBatches(rows, 20_000), geo);
    expect(r.bursts).toHaveLength(1);
    const b = r.bursts[0]!;
    const byRate = (x: typeof r): unknown[] => x.attackers.filter((a) => a.attributedBy === 'rate').map((a) => [a.ip, a.requests, a.excessRequests, a.firstSeenMs, a.lastSeenMs, a.topPath, a.topUserAgent]);
    // Rate attribution comes from exact counts, and the detail pass (analyze runs it) fills in the attackers' detail.
    expect(byRate(r)).toEqual(byRate(uncapped));
    expect(byRate(r).length).toBeGreaterThan(1000);
    // The detail pass also collects the light new IPs, so the botnet's light members are found by signature as uncapped.
    expect(r.attackers.map((a) => [a.ip, a.requests, a.attributedBy, a.topPath])).toEqual(uncapped.attackers.map((a) => [a.ip, a.requests, a.attributedBy, a.topPath]));
    expect(r.attackers.length).toBe(3000);
    expect(r.attackers.every((a) => ips.includes(a.ip))).toBe(true);
    expect(b.distinctIps).toBe(uncapped.bursts[0]!.distinctIps);
    expect(r.findings.some((f) => f.code === 'cap_hit')).toBe(true);
    expect(r.approximations.some((a) => /hash sample/.test(a.why))).toBe(true);
    expect(r.approximations.some((a) => /outside the detail sample/.test(a.why))).toBe(false);
  });

  test('without the detail pass, attackers outside the sample keep exact counts and the result says their detail is missing', () => {
    const ips = Array.from({ length: 3000 }, (_, i) => `198.51.${100 + (i % 100)}.${Math.floor(i / 100) + 1}`);
    const batches = toBatches([...bg, ...flood({ startMs: T0 + 2 * H, durationS: 300, rps: 200, ips, seed: 53 })], 20_000);
    const a = createAnalysis({ maxIpsPerWindow: 500 });
    for (const x of batches) a.add(x);
    const at = a.attribution();
    for (const x of batches) at.add(x);
    const withDetail = analyze(batches, geo, { maxIpsPerWindow: 500 });
    const r = a.finish(geo, at);
    const rate = (x: typeof r): unknown[] => x.attackers.filter((y) => y.attributedBy === 'rate').map((y) => [y.ip, y.requests, y.excessRequests]);
    expect(rate(r)).toEqual(rate(withDetail));
    const noDetail = r.attackers.filter((y) => y.topPath === null && y.topUserAgent === null);
    expect(noDetail.length).toBeGreaterThan(0);
    expect(r.approximations.find((x) => /outside the detail sample/.test(x.why))?.what).toContain(`of ${noDetail.length.toLocaleString('en-US')} attackers`);
  });

  test('finish without a pass 2 gives the windows as unattributed bursts', () => {
    const a = createAnalysis();
    for (const b of toBatches([...bg, ...flood({ startMs: T0 + 2 * H, durationS: 120, rps: 100, ips: ['203.0.113.9'], seed: 54 })], 20_000)) a.add(b);
    const r = a.finish(geo);
    expect(r.bursts).toHaveLength(1);
    expect(r.bursts[0]).toMatchObject({ verdict: 'unclear', attackers: 0 });
    expect(r.attackers).toEqual([]);
    expect(() => a.add(toBatches(bg.slice(0, 10), 10)[0]!)).toThrow(/pass 1 is closed/);
  });

  test('keeps paths and user agents of hostile length as 512-character keys', () => {
    const long = `/${'A'.repeat(100_000)}`;
    const r = analyze(toBatches([...bg, ...flood({ startMs: T0 + 2 * H, durationS: 120, rps: 100, ips: ['203.0.113.9'], seed: 55, paths: [long], ua: 'U'.repeat(50_000) })], 20_000), geo);
    expect(r.attackers[0]!.topPath).toBe(`${long.slice(0, 512)}…`);
    expect(r.attackers[0]!.topUserAgent!.length).toBe(513);
  });

  test('an empty input gives an empty result', () => {
    const r = analyze([], geo);
    expect(r).toMatchObject({ records: 0, firstMs: null, lastMs: null, bursts: [], attackers: [] });
    expect(r.timeline.requests.length).toBe(0);
  });
});
