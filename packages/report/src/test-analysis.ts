/**
 * Test-only: a hand-built `AnalysisResult` with two bursts and the pack input
 * around it. Attacker-written fields (paths, user agents, AS organisations,
 * prefixes of host names, input names, reasons) are filled from the `hostile`
 * strings the caller passes (testdata/hostile/payloads.txt), cycling through them.
 */
import type { AnalysisResult, Attacker, Burst, TimelineSeries } from '@alf/core';
import type { Accounting, Reject, RejectReason } from '@alf/parser';
import type { GeoDbInfo } from '@alf/geo';
import type { AnalysisPackInput } from './types.ts';

const T0 = Date.UTC(2021, 2, 29, 10, 0, 0); // 2021-03-29T10:00:00Z

function byReason(partial: Partial<Record<RejectReason, number>>): Record<RejectReason, number> {
  return {
    empty: 0, field_count: 0, bad_time: 0, bad_ip: 0, bad_status: 0, bad_bytes: 0, bad_request: 0, bad_json: 0,
    line_too_long: 0, encoding: 0, ...partial,
  };
}

function accounting(parsed: number, rejects: Partial<Record<RejectReason, number>>, bytesRead: number): Accounting {
  const r = byReason(rejects);
  const rejected = Object.values(r).reduce((a, b) => a + b, 0);
  return { linesRead: parsed + rejected, parsed, rejected, byReason: r, bytesRead };
}

function timeline(): TimelineSeries {
  const n = 120; // 2 hours of 60 s buckets
  const col = (f: (i: number) => number): Float64Array => Float64Array.from({ length: n }, (_, i) => f(i));
  const req = (i: number): number => 300 + (i % 7) * 11 + (i >= 15 && i < 46 ? 9000 : 0) + (i >= 80 && i < 83 ? 4000 : 0);
  return {
    bucketS: 60,
    startMs: T0,
    requests: col(req),
    distinctIps: col((i) => (i === 5 ? Number.NaN : 40 + (i % 5))),
    s2xx: col((i) => Math.floor(req(i) * 0.8)),
    s3xx: col((i) => Math.floor(req(i) * 0.05)),
    s4xx: col((i) => Math.floor(req(i) * 0.1)),
    s5xx: col((i) => req(i) - Math.floor(req(i) * 0.8) - Math.floor(req(i) * 0.05) - Math.floor(req(i) * 0.1)),
    bytes: col((i) => req(i) * 5123),
  };
}

/** A two-burst result with hostile strings in every attacker-written field. */
export function testAnalysisResult(hostile: readonly string[]): AnalysisResult {
  let k = 0;
  const h = (): string => hostile[k++ % hostile.length] as string;
  const bursts: Burst[] = [
    {
      burstId: 1, startMs: T0 + 15 * 60_000, endMs: T0 + 46 * 60_000 - 1000, durationS: 1860, requests: 290_000,
      excessRequests: 279_600.4, peakRps: 171.25, baselineRps: 5.6, distinctIps: 1234, attackers: 4, score: 4021.337,
      scaleS: 60, verdict: 'attack', windowIndex: 0, attributedShare: 0.91,
      reasons: ['84% of excess from 4 hosting ASNs', '1 path', `user agent ${h()}`, h()],
    },
    {
      burstId: 2, startMs: T0 + 80 * 60_000, endMs: T0 + 83 * 60_000 - 1000, durationS: 180, requests: 12_990,
      excessRequests: 12_000, peakRps: 80, baselineRps: 5.5, distinctIps: 18_000, attackers: 3, score: 310.5,
      scaleS: 60, verdict: 'flash_crowd', windowIndex: 1, attributedShare: 0.4,
      reasons: ['news-site referer on 61% of requests', 'page-plus-asset sessions'],
    },
  ];
  const attacker = (burstId: number, ip: string, requests: number, excess: number, prefix: string | null, asn: number | null): Attacker => ({
    burstId, ip, requests, excessRequests: excess, expectedRequests: requests - excess,
    firstSeenMs: bursts[burstId - 1]!.startMs + 1234, lastSeenMs: bursts[burstId - 1]!.endMs + 999, isNew: excess === requests,
    prefix, asn, asOrg: asn === null ? null : h(), country: asn === null ? null : 'DE', topPath: h(), topUserAgent: h(),
  });
  const attackers: Attacker[] = [
    attacker(1, '203.0.113.7', 90_000, 89_990, '203.0.113.0/24', 64500),
    attacker(1, '2001:db8:1::5', 70_000, 70_000, '2001:db8:1::/48', 64501),
    attacker(1, '198.51.100.23', 90_000, 89_999.5, '198.51.100.0/24', 64500),
    attacker(1, 'evil.example', 30_000, 29_000, null, null),
    attacker(2, '192.0.2.1', 500, 400, '192.0.2.0/24', 64502),
    attacker(2, '192.0.2.2', 500, 400, '192.0.2.0/24', 64502),
    attacker(2, '192.0.2.3', 900, 800, '192.0.2.0/24', 64502),
  ];
  const base = (burstId: number, ips: number, requests: number, share: number): { burstId: number; ips: number; requests: number; share: number; excessShare: number } =>
    ({ burstId, ips, requests, share, excessShare: share * 1.1 });
  return {
    records: 400_000,
    recordsWithoutTime: 3,
    firstMs: T0,
    lastMs: T0 + 120 * 60_000 - 1,
    windows: [],
    bursts: [bursts[1]!, bursts[0]!], // out of order on purpose
    attackers,
    asns: [
      { ...base(1, 2, 180_000, 0.62068965), asn: 64500, asOrg: h() },
      { ...base(1, 1, 70_000, 0.2413793), asn: 64501, asOrg: h() },
      { ...base(1, 1, 30_000, 0.1034482), asn: null, asOrg: null },
      { ...base(2, 3, 1900, 0.14626), asn: 64502, asOrg: h() },
    ],
    countries: [
      { ...base(1, 3, 250_000, 0.862069), country: 'DE' },
      { ...base(1, 1, 30_000, 0.1034482), country: null },
      { ...base(2, 3, 1900, 0.14626), country: h() },
    ],
    prefixes: [
      { ...base(1, 1, 90_000, 0.31034), prefix: '198.51.100.0/24', asn: 64500 },
      { ...base(1, 1, 90_000, 0.31034), prefix: '203.0.113.0/24', asn: 64500 },
      { ...base(1, 1, 70_000, 0.24137), prefix: '2001:db8:1::/48', asn: 64501 },
      { ...base(2, 3, 1900, 0.14626), prefix: '192.0.2.0/24', asn: 64502 },
    ],
    paths: [
      ...Array.from({ length: 12 }, (_, i) => ({ ...base(1, 4, 20_000 - i * 100, 0.07 - i * 0.001), path: h(), randomQueryShare: i === 0 ? 0.98765 : 0 })),
      { ...base(1, 1, 5, 0.00001), path: '(many paths)', randomQueryShare: 0 },
      { ...base(2, 3, 1900, 0.14626), path: '/news/article-1', randomQueryShare: 0 },
    ],
    userAgents: [
      ...Array.from({ length: 11 }, (_, i) => ({ ...base(1, 4, 20_000 - i * 100, 0.07 - i * 0.001), userAgent: h(), claimedCrawler: null })),
      { ...base(1, 1, 10, 0.00003), userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', claimedCrawler: 'googlebot' },
      { ...base(2, 3, 1900, 0.14626), userAgent: null, claimedCrawler: null },
    ],
    statuses: [
      { ...base(1, 4, 200_000, 0.689655), status: 200 },
      { ...base(1, 4, 90_000, 0.310344), status: 503 },
      { ...base(2, 3, 1900, 0.14626), status: 200 },
    ],
    timeline: timeline(),
    findings: [
      { code: 'spoofed_crawler', burstId: 1, message: `Googlebot claimed from ${h()}` },
      { code: 'cap_hit', burstId: null, message: 'per-IP path cap (64) hit for 1 IP' },
      { code: 'split', burstId: 2, message: h() },
    ],
    approximations: [
      { what: 'timeline.distinct_ips', why: 'HyperLogLog per minute', errorBound: '±9% (1.04/sqrt(128))' },
    ],
  };
}

export const TEST_DATABASES: readonly GeoDbInfo[] = [
  {
    role: 'asn', path: '/usr/share/GeoIP/GeoLite2-ASN.mmdb', source: 'standard_path', databaseType: 'GeoLite2-ASN',
    buildDate: '2021-03-23T00:00:00Z', sha256: 'a'.repeat(64), sizeBytes: 8_000_000,
    attribution: 'This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com.',
  },
  {
    role: 'geo', path: '/usr/share/GeoIP/dbip-country-lite.mmdb', source: 'flag', databaseType: 'DBIP-Country-Lite',
    buildDate: null, sha256: 'b'.repeat(64), sizeBytes: 7_000_000, attribution: null, notes: ['build_epoch is invalid'],
  },
];

/** The pack input around `testAnalysisResult`. */
export function testPackInput(hostile: readonly string[]): AnalysisPackInput {
  const a1 = accounting(300_000, { field_count: 4, bad_time: 1 }, 90_000_000);
  const a2 = accounting(100_003, { empty: 2 }, 30_000_000);
  const total = accounting(400_003, { field_count: 4, bad_time: 1, empty: 2 }, 120_000_000);
  return {
    result: testAnalysisResult(hostile),
    inputs: [
      {
        name: 'access.log', sizeBytes: 90_000_000, sha256: 'c'.repeat(64), format: 'combined', accounting: a1,
        decode: { compression: 'none', members: 0, bytesIn: 90_000_000, bytesOut: 90_000_000, flags: [], notes: [] },
        firstMs: T0, lastMs: T0 + 100 * 60_000,
      },
      {
        name: `logs/${hostile[0] ?? 'x'}.gz`, sizeBytes: 3_000_000, sha256: 'd'.repeat(64), format: 'combined', accounting: a2,
        decode: { compression: 'gzip', members: 1, bytesIn: 3_000_000, bytesOut: 30_000_000, flags: ['truncated'], notes: ['gzip stream ended at byte 3000000 before its trailer'] },
        firstMs: T0 + 50 * 60_000, lastMs: T0 + 120 * 60_000 - 1,
      },
    ],
    accounting: total,
    databases: TEST_DATABASES,
    databaseAgeWarning: null,
    geoStats: { lookups: 10, cacheHits: 2, networkHits: 1, treeWalks: 7, geoErrors: 0, labelled: 0, hostnames: 1, memoEvictions: 0 },
    options: { analysis: { scalesS: [10, 60, 600], minRatio: 3, timelineBucketS: 0 }, tz: null },
    toolVersion: '0.1.0',
  };
}

/** Rejects with hostile excerpts, for rejects.csv tests. */
export function testRejects(hostile: readonly string[]): Reject[] {
  return hostile.map((excerpt, i) => ({
    input: i % 3, // index 2 has no name: written as the index
    line: 1000 + i,
    byteOffset: 123_456 + i * 200,
    reason: i % 2 === 0 ? 'field_count' : 'bad_status',
    detail: 'test',
    excerpt,
  }));
}
