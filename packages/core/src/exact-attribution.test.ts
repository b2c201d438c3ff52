import { describe, expect, test } from 'vitest';
import { attributeWindow } from './attribute.ts';
import { hashString } from './hash.ts';
import { backgroundIp, distinctIpBatches } from './synthetic-batches.ts';
import { WindowCounts } from './window-counts.ts';
import { countEntries, pathEntries } from './ip-window-stats.ts';

const T = Date.UTC(2024, 2, 4, 0, 0, 0);
const MIN = 60_000;
const H = 60 * MIN;
const DISTINCT = 10_000_000;
const ATTACKER = '203.0.113.4';
const ATTACK_REQUESTS = 50_000;
const range = { insideFromMs: T + H, insideToMs: T + H + 10 * MIN, refBefore: [T, T + H] as const, refAfter: [T + H + 10 * MIN, T + 2 * H + 10 * MIN] as const };
const stream = {
  distinct: DISTINCT, fromMs: T, toMs: T + 2 * H + 10 * MIN, attackerIp: ATTACKER, attackerRequests: ATTACK_REQUESTS,
  attackFromMs: range.insideFromMs, attackToMs: range.insideToMs,
};
const opts = { maxIpsPerWindow: 100_000, maxPathsPerIp: 16, maxUserAgentsPerIp: 4, maxRefererHosts: 10_000 };
/** Bound on the exact-count tables: 16 bytes per distinct IPv4 client (a 2^24-slot table is 8 B/slot). */
const BYTES_PER_IP = 16;

describe('exact attribution at 10M distinct IPs', () => {
  test('10M one-request IPv4 clients and a 50k-request attacker: the attacker exactly, in bounded typed arrays', () => {
    // Two accumulators (as two workers), merged: the fold and the merge at full size.
    const a = new WindowCounts([range], opts);
    const b = new WindowCounts([range], opts);
    let k = 0;
    for (const batch of distinctIpBatches(stream)) (k++ % 2 === 0 ? a : b).add(batch);
    a.merge(b);
    const w = a.windows[0]!;

    // Independent count of background clients whose one request falls inside the window.
    let insideBackground = 0;
    const span = stream.toMs - stream.fromMs;
    for (let i = 0; i < DISTINCT; i++) {
      const t = stream.fromMs + Math.floor((i * span) / DISTINCT / 1000) * 1000;
      if (t >= range.insideFromMs && t < range.insideToMs) insideBackground++;
    }
    expect(w.counts.size).toBe(DISTINCT + 1);
    expect(w.inside.requests).toBe(insideBackground + ATTACK_REQUESTS);
    expect(w.reference.requests).toBe(DISTINCT - insideBackground);

    const att = attributeWindow(w, 10, ATTACK_REQUESTS);
    expect(att.distinctIps).toBe(insideBackground + 1);
    expect(att.attackers.map((p) => [p.stats.ip, p.stats.requests, p.refRequests, p.excess])).toEqual([[ATTACKER, ATTACK_REQUESTS, 0, ATTACK_REQUESTS]]);
    // Per-IP detail stayed a bounded sample, which the attacker is outside of: no detail yet.
    expect(w.limit).toBeLessThan(2 ** 32);
    expect(hashString(ATTACKER)).toBeGreaterThanOrEqual(w.limit);
    expect(w.ips.size).toBeLessThanOrEqual(opts.maxIpsPerWindow);
    expect(att.attackers[0]!.detail).toBe('none');
    expect(a.tableBytes).toBeLessThanOrEqual(BYTES_PER_IP * DISTINCT);
    expect(a.tableBytes).toBe(8 * 2 ** 24 + 20 * 2 ** 10); // IPv4 table at 2^24 slots, IPv6 table still at its initial size

    // The detail pass tracks only the attacker: exact top path, agent, first and last seen.
    const detail = a.detailFor([new Set([ATTACKER])]);
    for (const batch of distinctIpBatches(stream)) detail.add(batch);
    const d = detail.windows[0]!;
    expect(d.heavy.size).toBe(1);
    expect(d.ips.size).toBe(0);
    const full = attributeWindow(w, 10, ATTACK_REQUESTS, d);
    const s = full.attackers[0]!.stats;
    expect(full.attackers[0]!.detail).toBe('full');
    expect([s.ip, s.requests, s.firstMs, s.lastMs, pathEntries(s.paths!), countEntries(s.userAgents!)]).toEqual([
      ATTACKER, ATTACK_REQUESTS, range.insideFromMs, range.insideFromMs + Math.floor(((ATTACK_REQUESTS - 1) * 10 * MIN) / ATTACK_REQUESTS),
      [['/login', ATTACK_REQUESTS, 0]], [['curl/8.5.0', ATTACK_REQUESTS]],
    ]);
    expect(backgroundIp(0)).not.toBe(backgroundIp(1));
  }, 300_000);
});
