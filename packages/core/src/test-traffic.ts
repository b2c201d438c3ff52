/** Test-only synthetic traffic: session-shaped background and injected events. */
import { poisson, rng, type TestRow } from './test-batch.ts';

export const BROWSER_UAS: readonly string[] = Array.from({ length: 400 }, (_, i) =>
  i % 2 === 0
    ? `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${100 + (i % 30)}.0.${5000 + i}.${i % 97} Safari/537.36`
    : `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_${i % 8}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${14 + (i % 4)}.${i % 7} Safari/605.1.${i % 15}`);

const PAGES = ['/', '/about', '/blog', '/blog/post-1', '/blog/post-2', '/products', '/contact', '/search', '/login', '/docs'];
const ASSETS = ['/static/app.js', '/static/site.css', '/img/logo.png', '/img/hero.jpg', '/favicon.ico'];

export interface BackgroundSpec {
  readonly startMs: number;
  readonly durationS: number;
  /** Requests per second at second t (from start). */
  readonly rps: (t: number) => number;
  readonly seed: number;
  /** Number of distinct background visitor IPs (residential ranges 100.64+…; 10.x avoided). */
  readonly visitors?: number;
}

export function visitorIp(k: number): string {
  return `${81 + (k % 40)}.${(k >> 3) % 250}.${(k * 7) % 250}.${(k % 200) + 1}`;
}

/** Sessions: a page then 0-5 assets a second apart, ~3.5 requests each; IPs reused from a pool. */
export function background(spec: BackgroundSpec): TestRow[] {
  const rand = rng(spec.seed);
  const visitors = spec.visitors ?? 5000;
  const out: TestRow[] = [];
  for (let t = 0; t < spec.durationS; t++) {
    const sessions = poisson(rand, spec.rps(t) / 3.5);
    for (let s = 0; s < sessions; s++) {
      const ip = visitorIp(Math.floor(rand() * visitors));
      const ua = BROWSER_UAS[Math.floor(rand() * BROWSER_UAS.length)]!;
      const page = PAGES[Math.floor(rand() * PAGES.length)]!;
      const ts0 = spec.startMs + t * 1000 + Math.floor(rand() * 1000);
      out.push({ ts: ts0, ip, path: page, ua, referer: rand() < 0.3 ? 'https://www.google.com/' : '-' });
      const assets = Math.floor(rand() * 6);
      for (let a = 0; a < assets; a++) {
        out.push({ ts: ts0 + (a + 1) * 700, ip, path: ASSETS[a]!, ua, referer: `https://example.org${page}`, bytes: 20000 });
      }
    }
  }
  return out;
}

export interface FloodSpec {
  readonly startMs: number;
  readonly durationS: number;
  readonly rps: number;
  readonly ips: readonly string[];
  readonly seed: number;
  readonly paths?: readonly string[];
  readonly ua?: string | ((ip: number) => string);
  readonly randomQuery?: boolean;
  readonly status?: number;
  readonly referer?: string;
}

export function flood(spec: FloodSpec): TestRow[] {
  const rand = rng(spec.seed);
  const paths = spec.paths ?? ['/login'];
  const out: TestRow[] = [];
  for (let t = 0; t < spec.durationS; t++) {
    const n = poisson(rand, spec.rps);
    for (let i = 0; i < n; i++) {
      const k = Math.floor(rand() * spec.ips.length);
      const ua = typeof spec.ua === 'function' ? spec.ua(k) : (spec.ua ?? 'python-requests/2.31.0');
      out.push({
        ts: spec.startMs + t * 1000 + Math.floor(rand() * 1000),
        ip: spec.ips[k]!,
        path: paths[Math.floor(rand() * paths.length)]!,
        query: spec.randomQuery === true ? `q=${Math.floor(rand() * 2 ** 40).toString(36)}` : null,
        status: spec.status ?? 200,
        ua,
        referer: spec.referer ?? '-',
      });
    }
  }
  return out;
}

export function ipRange(prefix: string, count: number, first = 1): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}.${first + i}`);
}

export const T0: number = Date.UTC(2024, 2, 4, 0, 0, 0);

export interface CrowdSpec {
  readonly startMs: number;
  readonly durationS: number;
  /** New visitors arriving over the period. */
  readonly visitors: number;
  readonly seed: number;
  readonly page?: string;
  readonly referer?: string;
}

/** A flash crowd: new residential visitors, each a page from a news referer plus its assets. */
export function flashCrowd(spec: CrowdSpec): TestRow[] {
  const rand = rng(spec.seed);
  const page = spec.page ?? '/blog/big-news';
  const out: TestRow[] = [];
  for (let v = 0; v < spec.visitors; v++) {
    const ip = `${150 + (v % 60)}.${(v >> 6) % 250}.${(v * 13) % 250}.${(v % 250) + 1}`;
    const ua = BROWSER_UAS[Math.floor(rand() * BROWSER_UAS.length)]!;
    const ts0 = spec.startMs + Math.floor(rand() * spec.durationS * 1000);
    out.push({ ts: ts0, ip, path: page, ua, referer: spec.referer ?? 'https://news.ycombinator.com/item?id=4242' });
    for (let a = 0; a < ASSETS.length; a++) {
      out.push({ ts: ts0 + 300 + a * 150, ip, path: ASSETS[a]!, ua, referer: `https://example.org${page}`, bytes: 30000 });
    }
    if (rand() < 0.3) out.push({ ts: ts0 + 30_000, ip, path: PAGES[Math.floor(rand() * PAGES.length)]!, ua, referer: `https://example.org${page}` });
  }
  return out;
}

export const GOOGLEBOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** A crawler walking many distinct pages at a steady rate. */
export function crawl(spec: { startMs: number; durationS: number; rps: number; ips: readonly string[]; seed: number; ua?: string }): TestRow[] {
  const rand = rng(spec.seed);
  const out: TestRow[] = [];
  let n = 0;
  for (let t = 0; t < spec.durationS; t++) {
    const k = poisson(rand, spec.rps);
    for (let i = 0; i < k; i++) {
      out.push({
        ts: spec.startMs + t * 1000 + Math.floor(rand() * 1000), ip: spec.ips[Math.floor(rand() * spec.ips.length)]!,
        path: `/docs/page-${n++}`, ua: spec.ua ?? GOOGLEBOT_UA, referer: '-', bytes: 15000,
      });
    }
  }
  return out;
}
