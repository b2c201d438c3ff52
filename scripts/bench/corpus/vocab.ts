/**
 * What the synthetic site serves and who asks: user agents by class, the path
 * table, query strings and referers. Strings are byte strings (every char
 * ≤ 0xFF, written as latin1), so UTF-8 text appears here pre-encoded.
 */
import { Prng, WeightedTable, ZipfSampler } from './prng.ts';

export type AgentClass = 'browser' | 'crawler' | 'tool' | 'odd';

export interface Agent {
  readonly ua: string;
  readonly cls: AgentClass;
  readonly weight: number;
}

const CHROME_WIN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/';
const SAFARI_KIT = 'AppleWebKit/605.1.15 (KHTML, like Gecko)';

export const AGENTS: readonly Agent[] = [
  { cls: 'browser', weight: 160, ua: `${CHROME_WIN}131.0.0.0 Safari/537.36` },
  { cls: 'browser', weight: 90, ua: `${CHROME_WIN}130.0.0.0 Safari/537.36` },
  { cls: 'browser', weight: 40, ua: `${CHROME_WIN}131.0.0.0 Safari/537.36 Edg/131.0.0.0` },
  { cls: 'browser', weight: 70, ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' },
  { cls: 'browser', weight: 45, ua: `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) ${SAFARI_KIT} Version/18.1 Safari/605.1.15` },
  { cls: 'browser', weight: 140, ua: `Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) ${SAFARI_KIT} Version/18.1 Mobile/15E148 Safari/604.1` },
  { cls: 'browser', weight: 30, ua: `Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) ${SAFARI_KIT} Version/17.6 Mobile/15E148 Safari/604.1` },
  { cls: 'browser', weight: 120, ua: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36' },
  { cls: 'browser', weight: 25, ua: 'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36' },
  { cls: 'browser', weight: 35, ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0' },
  { cls: 'browser', weight: 12, ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' },
  { cls: 'browser', weight: 10, ua: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36' },
  { cls: 'browser', weight: 6, ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/485.0.0.39.107;FBBV/652227117;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBID/phone;FBLC/de_DE;FBOP/5]' },
  { cls: 'browser', weight: 4, ua: 'Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2)' },
  { cls: 'crawler', weight: 30, ua: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' },
  { cls: 'crawler', weight: 10, ua: 'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' },
  { cls: 'crawler', weight: 14, ua: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)' },
  { cls: 'crawler', weight: 25, ua: 'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)' },
  { cls: 'crawler', weight: 12, ua: 'Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)' },
  { cls: 'crawler', weight: 6, ua: 'Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)' },
  { cls: 'crawler', weight: 5, ua: 'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)' },
  { cls: 'crawler', weight: 4, ua: 'Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)' },
  { cls: 'crawler', weight: 3, ua: 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)' },
  { cls: 'crawler', weight: 3, ua: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)' },
  { cls: 'tool', weight: 10, ua: 'curl/7.88.1' },
  { cls: 'tool', weight: 4, ua: 'curl/8.5.0' },
  { cls: 'tool', weight: 10, ua: 'python-requests/2.31.0' },
  { cls: 'tool', weight: 4, ua: 'python-requests/2.32.3' },
  { cls: 'tool', weight: 5, ua: 'Go-http-client/1.1' },
  { cls: 'tool', weight: 3, ua: 'Wget/1.21.3' },
  { cls: 'tool', weight: 3, ua: 'okhttp/4.12.0' },
  { cls: 'tool', weight: 2, ua: 'Apache-HttpClient/4.5.14 (Java/17.0.9)' },
  { cls: 'tool', weight: 4, ua: 'Mozilla/5.0 zgrab/0.x' },
  { cls: 'tool', weight: 3, ua: '-' },
  { cls: 'tool', weight: 2, ua: '' },
  { cls: 'odd', weight: 1, ua: 'Mozilla/5.0 (compatible; \\x22Nessus\\x22 SOAP)' },
  { cls: 'odd', weight: 1, ua: 'Mozilla/5.0 (Windows NT 6.1) \\"hello\\" Chrome/99' },
  { cls: 'odd', weight: 1, ua: 'Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A) Caf\xc3\xa9Browser/1.0 \xe2\x80\xa8Mobile' },
  { cls: 'odd', weight: 1, ua: "() { :; }; echo; /bin/bash -c 'cat /etc/passwd'" },
];

export const AGENT_TABLE = new WeightedTable(AGENTS.map((a) => a.weight));

export type PathKind = 'page' | 'asset' | 'api' | 'probe' | 'misc';

export interface SitePath {
  readonly path: string;
  /** Typical response body size in bytes. */
  readonly size: number;
}

const WORDS = [
  'linen', 'shirt', 'summer', 'garden', 'chair', 'oak', 'table', 'lamp', 'wool', 'scarf', 'coffee',
  'grinder', 'kettle', 'bike', 'helmet', 'tent', 'rain', 'jacket', 'boots', 'desk', 'sale', 'gift',
  'guide', 'review', 'how', 'to', 'clean', 'repair', 'best', 'cheap', 'new', 'blue', 'black', 'vintage',
];
const CATEGORIES = ['home', 'kitchen', 'outdoor', 'fashion', 'office', 'garden', 'sports', 'kids', 'sale'];

function slug(rng: Prng, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(rng.pick(WORDS));
  return out.join('-');
}

function hex(rng: Prng, digits: number): string {
  let s = '';
  for (let i = 0; i < digits; i++) s += '0123456789abcdef'[rng.int(16)];
  return s;
}

/** The site's paths per kind, most popular first. */
export function buildSite(rng: Prng): Record<PathKind, SitePath[]> {
  const page: SitePath[] = [
    { path: '/', size: 24_000 },
    { path: '/search', size: 18_000 },
    { path: '/cart', size: 9_000 },
    { path: '/account/login', size: 6_000 },
  ];
  for (const c of CATEGORIES) page.push({ path: `/category/${c}`, size: 30_000 + rng.int(20_000) });
  for (let i = 0; i < 1500; i++) page.push({ path: `/products/${1000 + rng.int(90000)}-${slug(rng, 2 + rng.int(3))}`, size: 15_000 + rng.int(40_000) });
  for (let i = 0; i < 600; i++) page.push({ path: `/blog/${2019 + rng.int(7)}/${slug(rng, 3 + rng.int(4))}`, size: 20_000 + rng.int(60_000) });
  page.push({ path: '/blog/2024/caf%C3%A9-culture', size: 22_000 }, { path: '/about', size: 8_000 }, { path: '/contact', size: 7_000 });

  const asset: SitePath[] = [];
  for (const name of ['app', 'vendor', 'runtime', 'checkout', 'search']) asset.push({ path: `/static/js/${name}.${hex(rng, 8)}.js`, size: 5_000 + rng.int(300_000) });
  for (const name of ['main', 'print', 'theme']) asset.push({ path: `/static/css/${name}.${hex(rng, 8)}.css`, size: 3_000 + rng.int(80_000) });
  asset.push({ path: '/static/fonts/inter-var.woff2', size: 98_000 }, { path: '/favicon.ico', size: 1_150 }, { path: '/apple-touch-icon.png', size: 4_800 });
  for (let i = 0; i < 1200; i++) asset.push({ path: `/images/products/${1000 + rng.int(90000)}/${rng.pick(['main', 'alt', 'thumb'])}.${rng.pick(['jpg', 'webp'])}`, size: 8_000 + rng.int(250_000) });

  const api: SitePath[] = [
    { path: '/api/v1/cart', size: 900 }, { path: '/api/v1/products', size: 14_000 }, { path: '/api/v1/recommendations', size: 6_000 },
    { path: '/api/v1/session', size: 300 }, { path: '/graphql', size: 4_000 }, { path: '/api/v1/stock', size: 200 },
    { path: '/api/v1/search/suggest', size: 1_200 }, { path: '/api/v1/events', size: 60 },
  ];

  const probe: SitePath[] = [
    '/wp-login.php', '/.env', '/xmlrpc.php', '/.git/config', '/wp-admin/setup-config.php', '/phpmyadmin/index.php',
    '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php', '/cgi-bin/luci/;stok=/locale', '/actuator/env', '/owa/auth/logon.aspx',
    '/boaform/admin/formLogin', '/HNAP1/', '/.aws/credentials', '/config.json', '/server-status', '/admin/.env',
  ].map((path) => ({ path, size: 150 + rng.int(400) }));

  const misc: SitePath[] = [
    { path: '/robots.txt', size: 310 }, { path: '/sitemap.xml', size: 85_000 }, { path: '/ads.txt', size: 120 },
    { path: '/.well-known/security.txt', size: 240 }, { path: '/health', size: 2 },
  ];
  return { page, asset, api, probe, misc };
}

export const SITE = 'https://shop.example.com';

/** Zipf samplers per path kind, sized to the site. */
export function pathSamplers(site: Record<PathKind, SitePath[]>): Record<PathKind, ZipfSampler> {
  return {
    page: new ZipfSampler(site.page.length, 1.05, 3),
    asset: new ZipfSampler(site.asset.length, 1.1, 2),
    api: new ZipfSampler(site.api.length, 1.0, 1),
    probe: new ZipfSampler(site.probe.length, 0.8, 1),
    misc: new ZipfSampler(site.misc.length, 1.2, 1),
  };
}

/** A query string (with its '?') for a request to `path`, or '' for none. */
export function queryFor(rng: Prng, kind: PathKind, path: string): string {
  const u = rng.float();
  if (kind === 'page') {
    if (path === '/search') {
      const q = rng.int(3) === 0 ? `${rng.pick(WORDS)}%20${rng.pick(WORDS)}` : `${rng.pick(WORDS)}+${rng.pick(WORDS)}`;
      return u < 0.3 ? `?q=${q}&page=${2 + rng.int(8)}` : `?q=${q}`;
    }
    if (u < 0.06) return `?utm_source=${rng.pick(['newsletter', 'google', 'facebook', 'instagram'])}&utm_medium=${rng.pick(['email', 'cpc', 'social'])}&utm_campaign=${rng.pick(['spring_sale', 'bf2025', 'welcome'])}`;
    if (u < 0.09) return `?gclid=${hex(rng, 24)}`;
    if (u < 0.13 && path.startsWith('/category/')) return `?page=${2 + rng.int(20)}&sort=${rng.pick(['price_asc', 'price_desc', 'new'])}`;
    if (u < 0.16 && path.startsWith('/products/')) return `?variant=${rng.int(40)}`;
    return '';
  }
  if (kind === 'asset') return u < 0.1 ? `?v=${hex(rng, 6)}` : '';
  if (kind === 'api') {
    if (path === '/api/v1/products') return `?limit=${rng.pick(['20', '50'])}&offset=${rng.int(50) * 20}&category=${rng.pick(CATEGORIES)}`;
    if (path === '/api/v1/search/suggest') return `?q=${rng.pick(WORDS).slice(0, 1 + rng.int(5))}`;
    if (path === '/api/v1/stock') return `?sku=${1000 + rng.int(90000)}`;
    return '';
  }
  if (kind === 'probe' && u < 0.1) return '?XDEBUG_SESSION_START=phpstorm';
  return '';
}

const EXTERNAL_REFERERS: readonly string[] = [
  'https://www.google.com/', 'https://www.google.com/', 'https://www.google.de/', 'https://www.bing.com/',
  'https://duckduckgo.com/', 'https://t.co/Xq3kP0aZ1b', 'https://l.facebook.com/', 'https://www.instagram.com/',
  'https://news.ycombinator.com/', 'https://www.reddit.com/r/BuyItForLife/comments/1h2x9q/',
  'android-app://com.google.android.gm/',
];

/** Referer for a request of this kind from this agent class. */
export function refererFor(rng: Prng, kind: PathKind, cls: AgentClass, site: Record<PathKind, SitePath[]>): string {
  if (cls === 'crawler' || cls === 'tool' || kind === 'probe' || kind === 'misc') return rng.int(30) === 0 ? `${SITE}/` : '-';
  const u = rng.float();
  if (kind === 'asset') return u < 0.9 ? `${SITE}${site.page[rng.int(40)]?.path ?? '/'}` : '-';
  if (kind === 'api') return u < 0.75 ? `${SITE}${site.page[rng.int(200)]?.path ?? '/'}` : '-';
  if (u < 0.42) return '-';
  if (u < 0.72) return EXTERNAL_REFERERS[rng.int(EXTERNAL_REFERERS.length)] as string;
  return `${SITE}${site.page[rng.int(300)]?.path ?? '/'}`;
}
