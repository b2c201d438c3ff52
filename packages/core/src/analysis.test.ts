import { describe, expect, test } from 'vitest';
import { analyze } from './analysis.ts';
import type { AnalysisResult } from './types.ts';
import { toBatches, type TestRow } from './test-batch.ts';
import { memoryGeo } from './test-geo.ts';
import { realRows } from './test-real.ts';
import { background, crawl, flashCrowd, flood, ipRange, T0 } from './test-traffic.ts';

const H = 3_600_000;
const S = 1000;
const geo = memoryGeo();
const bg = background({ startMs: T0, durationS: 8 * 3600, rps: () => 2, seed: 1 });

function run(rows: readonly TestRow[]): AnalysisResult {
  return analyze(toBatches(rows, 25_000), geo);
}

describe('attribution', () => {
  test('attributes a flood to exactly its IPs, most excess first, and not to visitors active during it', () => {
    const ips = ipRange('203.0.113', 20);
    const r = run([...bg, ...flood({ startMs: T0 + 3 * H, durationS: 900, rps: 58, ips, seed: 2 })]);
    expect(r.bursts).toHaveLength(1);
    const b = r.bursts[0]!;
    expect(b.distinctIps).toBeGreaterThan(100); // visitors were there too
    expect(new Set(r.attackers.map((a) => a.ip))).toEqual(new Set(ips));
    expect(b.attackers).toBe(20);
    const ex = r.attackers.map((a) => a.excessRequests);
    expect([...ex].sort((x, y) => y - x)).toEqual(ex);
    expect(r.attackers[0]).toMatchObject({ burstId: 1, asn: 14061, asOrg: 'DIGITALOCEAN-ASN', country: 'NL', prefix: '203.0.113.0/24', topPath: '/login', topUserAgent: 'python-requests/2.31.0', isNew: true });
    expect(b.attributedShare).toBeGreaterThan(0.95);
    expect(b.verdict).toBe('attack');
    expect(r.asns.filter((x) => x.burstId === 1)[0]).toMatchObject({ asn: 14061, ips: 20 });
    expect(r.asns.find((x) => x.asn === 14061)!.excessShare).toBeCloseTo(1, 2);
    expect(r.prefixes.find((x) => x.prefix === '203.0.113.0/24')!.excessShare).toBeCloseTo(1, 2);
    expect(r.paths.find((x) => x.path === '/login')!.share).toBeGreaterThan(0.9);
  });

  test('attributes an attacker that comes back 40 minutes later in both bursts', () => {
    const ips = ipRange('203.0.113', 5);
    const r = run([
      ...bg,
      ...flood({ startMs: T0 + 3 * H, durationS: 300, rps: 40, ips, seed: 2 }),
      ...flood({ startMs: T0 + 3 * H + 45 * 60 * S, durationS: 300, rps: 40, ips, seed: 3 }),
    ]);
    expect(r.bursts).toHaveLength(2);
    expect(new Set(r.attackers.filter((a) => a.burstId === 1).map((a) => a.ip))).toEqual(new Set(ips));
    expect(new Set(r.attackers.filter((a) => a.burstId === 2).map((a) => a.ip))).toEqual(new Set(ips));
  });

  test('attributes a low-and-slow attack to its 10 IPs only', () => {
    const ips = ipRange('198.51.100', 10);
    const chrome = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
    const r = run([...bg, ...flood({ startMs: T0 + 3 * H, durationS: 7200, rps: 4, ips, seed: 2, ua: chrome })]);
    expect(r.bursts).toHaveLength(1);
    expect(new Set(r.attackers.map((a) => a.ip))).toEqual(new Set(ips));
    expect(r.bursts[0]!.verdict).toBe('attack');
  });

  test('reports two overlapping floods from different /24s on different paths as two bursts with their own attackers', () => {
    const a = ipRange('203.0.113', 10);
    const b = ipRange('192.0.2', 10);
    const r = run([
      ...bg,
      ...flood({ startMs: T0 + 3 * H, durationS: 900, rps: 40, ips: a, seed: 2 }),
      ...flood({ startMs: T0 + 3 * H + 480 * S, durationS: 900, rps: 40, ips: b, seed: 3, paths: ['/search'] }),
    ]);
    expect(r.windows).toHaveLength(1);
    expect(r.bursts).toHaveLength(2);
    const [b1, b2] = r.bursts;
    expect(Math.abs(b1!.startMs - (T0 + 3 * H))).toBeLessThanOrEqual(2 * S);
    expect(Math.abs(b1!.endMs - (T0 + 3 * H + 899 * S))).toBeLessThanOrEqual(2 * S);
    expect(Math.abs(b2!.startMs - (T0 + 3 * H + 480 * S))).toBeLessThanOrEqual(2 * S);
    expect(new Set(r.attackers.filter((x) => x.burstId === 1).map((x) => x.ip))).toEqual(new Set(a));
    expect(new Set(r.attackers.filter((x) => x.burstId === 2).map((x) => x.ip))).toEqual(new Set(b));
    expect(r.bursts.map((x) => x.verdict)).toEqual(['attack', 'attack']);
    expect(r.findings.some((f) => f.code === 'split')).toBe(true);
  });

  test('splits two floods at the same time on one path when they come from different networks and start apart', () => {
    const r = run([
      ...bg,
      ...flood({ startMs: T0 + 3 * H, durationS: 900, rps: 40, ips: ipRange('203.0.113', 10), seed: 2 }),
      ...flood({ startMs: T0 + 3 * H + 600 * S, durationS: 900, rps: 40, ips: ipRange('192.0.2', 10), seed: 3 }),
    ]);
    expect(r.bursts).toHaveLength(2);
  });

  test('keeps one botnet spread over many /24s hitting one path as one burst', () => {
    const ips = Array.from({ length: 60 }, (_, i) => `198.51.${100 + i}.7`);
    const r = run([...bg, ...flood({ startMs: T0 + 3 * H, durationS: 600, rps: 60, ips, seed: 4 })]);
    expect(r.bursts).toHaveLength(1);
    expect(r.bursts[0]!.attackers).toBe(60);
  });
  test('attributes the light members of a wide botnet by the signature its heavy members share', () => {
    const ips = Array.from({ length: 3000 }, (_, i) => `${100 + (i % 50)}.${Math.floor(i / 50) % 250}.${(i * 13) % 250}.${(i % 250) + 1}`);
    expect(new Set(ips).size).toBe(3000);
    const r = run([...bg, ...flood({ startMs: T0 + 3 * H, durationS: 600, rps: 60, ips, seed: 9, paths: ['/'], randomQuery: true, ua: (k) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/${100 + (k % 5)}.0` })]);
    expect(r.bursts).toHaveLength(1);
    const got = new Set(r.attackers.map((a) => a.ip));
    const labelled = new Set(ips);
    const tp = [...got].filter((ip) => labelled.has(ip)).length;
    expect(tp / got.size).toBe(1); // precision: no visitor swept in
    expect(tp / labelled.size).toBeGreaterThan(0.9); // recall
    expect(r.attackers.some((a) => a.attributedBy === 'signature')).toBe(true);
  });
});

describe('verdicts', () => {
  test('a flash crowd from a news referer with page-plus-asset sessions is flash_crowd', () => {
    const r = run([...bg, ...flashCrowd({ startMs: T0 + 3 * H, durationS: 1200, visitors: 3000, seed: 5 })]);
    expect(r.bursts).toHaveLength(1);
    const b = r.bursts[0]!;
    expect(b.verdict).toBe('flash_crowd');
    expect(b.attackers).toBe(0);
    expect(b.reasons.join('; ')).toMatch(/referred by news or social sites \(top: news\.ycombinator\.com/);
  });

  test('a verified Googlebot crawl is crawl', () => {
    const r = run([...bg, ...crawl({ startMs: T0 + 3 * H, durationS: 1800, rps: 15, ips: ipRange('66.249.66', 30), seed: 6 })]);
    expect(r.bursts.map((b) => b.verdict)).toEqual(['crawl']);
    expect(r.bursts[0]!.reasons[0]).toMatch(/verified googlebot/);
  });

  test('a verified Bingbot crawl from few fast Microsoft IPs is still crawl', () => {
    const bing = 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)';
    const r = run([...bg, ...crawl({ startMs: T0 + 3 * H, durationS: 1800, rps: 10, ips: ipRange('157.55.39', 10), seed: 8, ua: bing })]);
    expect(r.bursts.map((b) => b.verdict)).toEqual(['crawl']);
  });

  test('a Googlebot user agent from a non-Google ASN is a spoofing attack', () => {
    const r = run([...bg, ...crawl({ startMs: T0 + 3 * H, durationS: 1800, rps: 15, ips: ipRange('203.0.113', 30), seed: 6 })]);
    expect(r.bursts.map((b) => b.verdict)).toEqual(['attack']);
    expect(r.bursts[0]!.reasons[0]).toMatch(/googlebot from AS14061.*spoofed/);
    expect(r.findings.some((f) => f.code === 'spoofed_crawler')).toBe(true);
  });

  test('a botnet of residential IPs with random query strings is an attack', () => {
    const ips = Array.from({ length: 400 }, (_, i) => `${90 + (i % 30)}.${i % 200}.${(i * 7) % 250}.${(i % 250) + 1}`);
    const r = run([...bg, ...flood({ startMs: T0 + 3 * H, durationS: 600, rps: 80, ips, seed: 9, paths: ['/'], randomQuery: true, ua: (k) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/${100 + (k % 5)}.0` })]);
    expect(r.bursts).toHaveLength(1);
    expect(r.bursts[0]!.verdict).toBe('attack');
    expect(r.bursts[0]!.reasons.join('; ')).toMatch(/random query strings/);
    expect(r.paths.find((p) => p.path === '/')!.randomQueryShare).toBeGreaterThan(0.5);
  });
});

describe('real traffic', () => {
  test('the secrepo 2018-12-15 burst is attributed to 198.72.227.213 alone', () => {
    const r = run(realRows('secrepo/access.log.2018-12-15.gz'));
    expect(r.bursts).toHaveLength(1);
    expect(r.attackers.map((a) => a.ip)).toEqual(['198.72.227.213']);
    expect(r.attackers[0]!.requests).toBeGreaterThanOrEqual(4151);
    expect(r.attackers[0]!.topUserAgent).toBe('python-requests/2.18.4');
    expect(r.bursts[0]!.verdict).toBe('attack');
    expect(r.bursts[0]!.reasons[0]).toMatch(/^1 IP \(198\.72\.227\.213\) sends 100% of the excess$/);
  });

  test('the timeline counts every record, out of order or not', () => {
    const rows = realRows('elastic-examples/apache_logs.gz');
    const r = run(rows);
    expect(r.records).toBe(rows.length);
    expect(r.timeline.bucketS).toBe(60);
    expect(r.timeline.requests.reduce((a, b) => a + b, 0)).toBe(rows.length);
    expect(r.timeline.s2xx.reduce((a, b) => a + b, 0)).toBe(rows.filter((x) => x.status! >= 200 && x.status! < 300).length);
    expect(r.timeline.distinctIps.reduce((a, b) => Math.max(a, b), 0)).toBeGreaterThan(10);
  });
});
