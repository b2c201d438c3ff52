import { describe, expect, test } from 'vitest';
import { hashString } from './hash.ts';
import { ROLE_INSIDE, ROLE_REF, clientKey } from './ip-counts.ts';
import { rng, toBatches, type TestRow } from './test-batch.ts';
import { WindowCounts, type WindowCountsOptions } from './window-counts.ts';
import { countEntries, keyCount, pathCount, pathEntries, type IpWindowStats } from './ip-window-stats.ts';

/** An IP's detail units from its IpWindowStats (what IpDetailTable.units counts on its slot). */
function detailUnits(s: IpWindowStats, opts: WindowCountsOptions): number {
  return 1 + (s.paths === null ? opts.maxPathsPerIp : pathCount(s.paths)) + (s.userAgents === null ? opts.maxUserAgentsPerIp : keyCount(s.userAgents));
}

const T = Date.UTC(2024, 2, 4, 0, 0, 0);
const MIN = 60_000;
const range = { insideFromMs: T + 60 * MIN, insideToMs: T + 80 * MIN, refBefore: [T, T + 60 * MIN] as const, refAfter: [T + 80 * MIN, T + 140 * MIN] as const };
const opts: WindowCountsOptions = { maxIpsPerWindow: 1000, maxPathsPerIp: 16, maxUserAgentsPerIp: 4, maxRefererHosts: 100, maxDetailUnits: 2000 };

/** 300 IPs inside the window, each with its own paths and agents (some past the caps), plus reference traffic. */
function rows(): TestRow[] {
  const rand = rng(7);
  const out: TestRow[] = [];
  for (let c = 0; c < 300; c++) {
    const ip = `10.1.${c >> 8}.${c & 255}`;
    const n = 1 + (c % 25);
    for (let i = 0; i < n; i++) {
      out.push({ ts: range.insideFromMs + Math.floor(rand() * 20 * MIN), ip, path: `/p/${c}/${i % 18}`, ua: `agent-${c}-${i % 6}`, status: i % 7 === 0 ? 404 : 200 });
    }
    out.push({ ts: T + Math.floor(rand() * 60 * MIN), ip, path: '/', ua: 'x' });
  }
  return out;
}

/** The detail a window keeps, as comparable data. */
function detailOf(c: WindowCounts): unknown {
  const w = c.windows[0]!;
  const ips = [...w.ips.values()].map((s) => [s.ip, s.requests, s.paths && pathEntries(s.paths).sort(), s.userAgents && countEntries(s.userAgents).sort(), countEntries(s.statuses).sort()]).sort();
  return { limit: w.limit, ips, sampledOut: w.sampledOut, inside: w.inside, reference: w.reference };
}

describe('per-window detail capped in units (IPs plus their distinct paths and agents)', () => {
  const all = rows();

  test('few IPs with many paths and agents: the detail becomes a hash sample under the unit cap, counts stay exact', () => {
    const c = new WindowCounts([range], opts);
    for (const b of toBatches(all, 1000)) c.add(b);
    const w = c.windows[0]!;
    const units = (ips: Iterable<{ hash: number }>, limit: number): number => {
      let n = 0;
      for (const s of ips) if (s.hash < limit) n += detailUnits(s as Parameters<typeof detailUnits>[0], opts);
      return n;
    };
    // Sampled although far under maxIpsPerWindow, and the largest sample that fits: the full detail at twice the limit would not.
    expect(w.limit).toBeLessThan(2 ** 32);
    expect(units(w.ips.values(), w.limit)).toBeLessThanOrEqual(opts.maxDetailUnits!);
    const uncapped = new WindowCounts([range], { ...opts, maxDetailUnits: Infinity });
    for (const b of toBatches(all, 1000)) uncapped.add(b);
    const full = uncapped.windows[0]!;
    expect(full.limit).toBe(2 ** 32);
    expect(units(full.ips.values(), 2 * w.limit)).toBeGreaterThan(opts.maxDetailUnits!);
    // The sample is exactly the full detail of the IPs under the limit; the rest is in sampledOut.
    const kept = [...full.ips.values()].filter((s) => s.hash < w.limit);
    expect([...w.ips.keys()].sort()).toEqual(kept.map((s) => s.ip).sort());
    for (const s of kept) expect(w.ips.get(s.ip)).toEqual(s);
    expect(w.sampledOut.requests + kept.reduce((a, s) => a + s.requests, 0)).toBe(full.inside.requests);
    // Per-IP counts are exact for every IP, sampled or not (against an independent count of the rows).
    const want = new Map<string, [number, number]>();
    for (const r of all) {
      const e = want.get(r.ip) ?? [0, 0];
      e[r.ts >= range.insideFromMs && r.ts < range.insideToMs ? 0 : 1]++;
      want.set(r.ip, e);
    }
    expect(w.counts.size).toBe(want.size);
    for (const [ip, [inside, ref]] of want) {
      expect([w.counts.get(clientKey(ip), ROLE_INSIDE), w.counts.get(clientKey(ip), ROLE_REF)]).toEqual([inside, ref]);
    }
    expect([...w.ips.keys()].every((ip) => hashString(ip) < w.limit)).toBe(true);
  });

  test('the sample does not depend on the order or split of the input (two workers merged, reversed batches)', () => {
    const one = new WindowCounts([range], opts);
    for (const b of toBatches(all, 1000)) one.add(b);
    const a = new WindowCounts([range], opts);
    const b = new WindowCounts([range], opts);
    const reversed = [...all].reverse();
    toBatches(reversed, 333).forEach((batch, i) => (i % 2 === 0 ? a : b).add(batch));
    a.merge(b);
    expect(detailOf(a)).toEqual(detailOf(one));
    const viaSnapshot = new WindowCounts([range], opts);
    const c = new WindowCounts([range], opts);
    const d = new WindowCounts([range], opts);
    toBatches(all, 77).forEach((batch, i) => (i % 3 === 0 ? c : d).add(batch));
    viaSnapshot.mergeSnapshot(d.snapshot(), true);
    viaSnapshot.mergeSnapshot(c.snapshot());
    expect(detailOf(viaSnapshot)).toEqual(detailOf(one));
  });
});
