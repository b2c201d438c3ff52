import { describe, expect, test } from 'vitest';
import { HLL_REGISTERS, hllAdd, hllEstimate, hllMerge } from './hll.ts';
import { hashString } from './hash.ts';
import { claimedCrawler, crawlerAsnMatches, isAssetPath, isHostingNetwork, isRandomQuery, refererClass, REF_NONE, REF_SEARCH, REF_SOCIAL, REF_OTHER, uaKind } from './request-traits.ts';
import { networkKey } from './split-window.ts';
import { makeBatch } from './test-batch.ts';
import { Timeline } from './timeline.ts';
import { fmtInt, pct } from './verdict.ts';

const T = Date.UTC(2024, 0, 1);

describe('timeline', () => {
  test('counts per second exactly whatever the order, and merges exactly', () => {
    const rows = [
      { ts: T + 5_500, ip: '1.1.1.1', status: 200, bytes: 10 },
      { ts: T + 1_000, ip: '1.1.1.2', status: 404, bytes: 20 },
      { ts: T + 5_999, ip: '1.1.1.1', status: 503, bytes: 30 },
      { ts: T + 4096 * 1000 * 3 + 7, ip: '1.1.1.3', status: 301 }, // another page, far away
      { ts: NaN, ip: '1.1.1.4' },
    ];
    const whole = new Timeline();
    whole.add(makeBatch(rows));
    const a = new Timeline();
    const b = new Timeline();
    a.add(makeBatch([rows[2]!, rows[4]!]));
    b.add(makeBatch([rows[3]!, rows[0]!, rows[1]!]));
    a.merge(b);
    for (const t of [whole, a]) {
      expect(t.records).toBe(4);
      expect(t.recordsWithoutTime).toBe(1);
      expect([...t.requestsPerSecond(T / 1000, T / 1000 + 6)]).toEqual([0, 1, 0, 0, 0, 2, 0]);
      const s = t.series(1);
      expect(s.startMs).toBe(T + 1000);
      expect(s.requests[4]).toBe(2);
      expect(s.s2xx[4]).toBe(1);
      expect(s.s5xx[4]).toBe(1);
      expect(s.s4xx[0]).toBe(1);
      expect(s.bytes[4]).toBe(40);
      expect(Number.isNaN(s.distinctIps[0])).toBe(true);
      const m = t.series(60);
      expect(m.distinctIps[0]).toBe(2);
      expect(m.requests.reduce((x, y) => x + y, 0)).toBe(4);
    }
    expect(a.series(1)).toEqual(whole.series(1));
  });

  test('sums requests into epoch-aligned buckets', () => {
    const t = new Timeline();
    t.add(makeBatch([{ ts: T + 9_999, ip: 'a' }, { ts: T + 10_000, ip: 'a' }, { ts: T + 25_000, ip: 'b' }]));
    const { firstBucket, counts } = t.requestsPerBucket(10, T / 1000, T / 1000 + 29);
    expect(firstBucket).toBe(T / 10_000);
    expect([...counts]).toEqual([1, 1, 1]);
  });
});

describe('HyperLogLog', () => {
  test('is near exact for small sets and merges to the union', () => {
    const a = new Uint8Array(HLL_REGISTERS);
    const b = new Uint8Array(HLL_REGISTERS);
    for (let i = 0; i < 30; i++) hllAdd(a, hashString(`10.0.0.${i}`));
    for (let i = 20; i < 50; i++) hllAdd(b, hashString(`10.0.0.${i}`));
    expect(hllEstimate(a)).toBeGreaterThanOrEqual(28);
    expect(hllEstimate(a)).toBeLessThanOrEqual(32);
    hllMerge(a, b);
    expect(Math.abs(hllEstimate(a) - 50)).toBeLessThanOrEqual(5);
  });

  test('stays within a few standard errors on 100,000 keys', () => {
    const r = new Uint8Array(HLL_REGISTERS);
    for (let i = 0; i < 100_000; i++) hllAdd(r, hashString(`ip-${i}`));
    expect(Math.abs(hllEstimate(r) / 100_000 - 1)).toBeLessThan(0.3);
  });
});

describe('request traits', () => {
  test.for([
    ['/static/app.js', true], ['/img/logo.PNG', true], ['/fonts/x.woff2', true], ['/index.html', false], ['/login', false], ['/api/v1/items', false],
  ] as const)('isAssetPath(%s) is %s', ([p, want]) => expect(isAssetPath(p)).toBe(want));

  test.for([
    ['q=k3j4h5g6', true], ['_=1712345678901', true], ['cb=a1b2c3d4e5', true], ['id=42', false], ['page=2&sort=name', false], ['search=hello world', false], ['lang=english', false],
  ] as const)('isRandomQuery(%s) is %s', ([q, want]) => expect(isRandomQuery(q)).toBe(want));

  test('classifies referers', () => {
    expect(refererClass('-')).toBe(REF_NONE);
    expect(refererClass(null)).toBe(REF_NONE);
    expect(refererClass('https://www.google.com/')).toBe(REF_SEARCH);
    expect(refererClass('https://news.ycombinator.com/item?id=1')).toBe(REF_SOCIAL);
    expect(refererClass('https://t.co/abc')).toBe(REF_SOCIAL);
    expect(refererClass('https://example.org/page')).toBe(REF_OTHER);
  });

  test('tells crawlers, tools and browsers apart, and checks crawler networks', () => {
    expect(claimedCrawler('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)')).toBe('googlebot');
    expect(claimedCrawler('Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)')).toBe('bingbot');
    expect(claimedCrawler('Mozilla/5.0 (compatible; AhrefsBot/7.0)')).toBeNull();
    expect(uaKind('Mozilla/5.0 (compatible; AhrefsBot/7.0)')).toBe('crawler');
    expect(uaKind('python-requests/2.18.4')).toBe('tool');
    expect(uaKind('curl/8.0')).toBe('tool');
    expect(uaKind('-')).toBe('empty');
    expect(uaKind('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36')).toBe('browser');
    expect(crawlerAsnMatches('googlebot', 15169)).toBe(true);
    expect(crawlerAsnMatches('googlebot', 14061)).toBe(false);
    expect(crawlerAsnMatches('googlebot', null)).toBeNull();
    expect(isHostingNetwork(14061, null)).toBe(true);
    expect(isHostingNetwork(64512, 'Example Cloud Hosting Ltd')).toBe(true);
    expect(isHostingNetwork(3320, 'Deutsche Telekom AG')).toBe(false);
  });
});

describe('network keys', () => {
  test.for([
    ['203.0.113.77', '203.0.113.0/24'],
    ['2001:41d0:8:f69::1', '2001:41d0:8::/48'],
    ['2001:db8::1', '2001:db8::/48'],
    ['2001:0db8:0001:0002:0:0:0:1', '2001:db8:1::/48'],
    ['::1', '::/48'],
    ['piweba4y.prodigy.com', 'piweba4y.prodigy.com'],
  ] as const)('networkKey(%s) is %s', ([ip, want]) => expect(networkKey(ip)).toBe(want));
});

describe('wording', () => {
  test('formats counts and shares for reasons', () => {
    expect(fmtInt(18000)).toBe('18,000');
    expect(fmtInt(999)).toBe('999');
    expect(pct(0.844)).toBe('84%');
    expect(pct(0.001)).toBe('<1%');
    expect(pct(0)).toBe('0%');
  });
});
