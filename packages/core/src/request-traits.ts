/**
 * Stateless classification of request fields (asset paths, random query
 * strings, referer kinds, crawler and tool user agents, hosting networks).
 * Each is a pure function of one string, so it maps to a SQL expression.
 */

const ASSET_EXT = /\.(?:css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|woff2?|ttf|otf|eot|mp4|webm|mp3)$/i;

export function isAssetPath(path: string): boolean {
  return ASSET_EXT.test(path.length > 200 ? path.slice(-20) : path);
}

/**
 * A query string looks random (cache busting) when some value is a token of 6+
 * characters mixing letters and digits, or 8+ digits/hex characters.
 */
export function isRandomQuery(query: string): boolean {
  // One pass over char codes (no split / slice / regex): this runs per distinct query of every batch.
  const n = Math.min(query.length, 512);
  let start = 0;
  while (start <= n) {
    let end = query.indexOf('&', start);
    if (end < 0 || end > n) end = n;
    let v = start;
    for (let i = start; i < end; i++) {
      if (query.charCodeAt(i) === 61) {
        v = i + 1;
        break;
      }
    }
    const len = end - v;
    if (len >= 6 && len <= 128) {
      let ok = true;
      let letters = false;
      let digits = false;
      let hex = true;
      for (let i = v; i < end; i++) {
        const c = query.charCodeAt(i);
        if (c >= 48 && c <= 57) digits = true;
        else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
          letters = true;
          if (!((c >= 65 && c <= 70) || (c >= 97 && c <= 102))) hex = false;
        } else if (c === 95 || c === 45) hex = false;
        else {
          ok = false;
          break;
        }
      }
      if (ok && ((letters && digits) || (len >= 8 && hex))) return true;
    }
    start = end + 1;
  }
  return false;
}

export const REF_NONE = 0;
export const REF_SEARCH = 1;
export const REF_SOCIAL = 2;
export const REF_OTHER = 3;

const SEARCH_HOSTS = /(^|\.)(google\.[a-z.]+|bing\.com|duckduckgo\.com|yandex\.[a-z]+|baidu\.com|search\.yahoo\.com|ecosia\.org|qwant\.com)$/i;
const SOCIAL_HOSTS =
  /(^|\.)(news\.ycombinator\.com|reddit\.com|t\.co|twitter\.com|x\.com|facebook\.com|lnkd\.in|linkedin\.com|slashdot\.org|lobste\.rs|news\.google\.com|digg\.com|mastodon\.social|bsky\.app|telegram\.org|whatsapp\.com|youtube\.com|instagram\.com|tiktok\.com|[a-z]*news[a-z]*\.[a-z.]+)$/i;

/** Host of a referer URL, lower-cased, or null for `-`, empty or unparseable. */
export function refererHost(referer: string | null | undefined): string | null {
  if (referer === null || referer === undefined || referer === '' || referer === '-') return null;
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#:@]+)/i.exec(referer.length > 300 ? referer.slice(0, 300) : referer);
  return m === null ? null : m[1]!.toLowerCase();
}

export function refererClass(referer: string | null | undefined): number {
  const host = refererHost(referer);
  if (host === null) return REF_NONE;
  if (SEARCH_HOSTS.test(host)) return REF_SEARCH;
  if (SOCIAL_HOSTS.test(host)) return REF_SOCIAL;
  return REF_OTHER;
}

/** Crawlers that publish their networks: the ASNs their verified traffic comes from. */
export const CRAWLER_ASNS: Readonly<Record<string, readonly number[]>> = {
  googlebot: [15169, 396982, 19527, 36040, 43515],
  bingbot: [8075],
  applebot: [714, 6185],
  yandexbot: [13238, 208722],
  baiduspider: [55967, 38365, 45085],
  duckduckbot: [8075, 14618, 16509],
};

const MAJOR_CRAWLERS: readonly [RegExp, string][] = [
  [/googlebot|google-inspectiontool|googleother|adsbot-google|mediapartners-google/i, 'googlebot'],
  [/bingbot|bingpreview|msnbot|adidxbot/i, 'bingbot'],
  [/applebot/i, 'applebot'],
  [/yandex(bot|images|mobilebot)/i, 'yandexbot'],
  [/baiduspider/i, 'baiduspider'],
  [/duckduckbot/i, 'duckduckbot'],
];
const DECLARED_BOT = /bot\b|crawler|spider|crawl|slurp|ahrefs|semrush|mj12|petalbot|seznam|sogou|facebookexternalhit|archive\.org/i;
const TOOL = /^(python-requests|python-urllib|python-httpx|aiohttp|curl|wget|go-http-client|java\/|okhttp|apache-httpclient|libwww-perl|lwp::|scrapy|axios|node-fetch|got |undici|httpie|masscan|zgrab|nikto|sqlmap|nmap|wpscan|nuclei|fasthttp|php\/|ruby|powershell)/i;

/** The major crawler a user agent claims to be (`googlebot`, …), or null. */
export function claimedCrawler(ua: string | null | undefined): string | null {
  if (ua === null || ua === undefined) return null;
  const s = ua.length > 512 ? ua.slice(0, 512) : ua;
  for (const [re, name] of MAJOR_CRAWLERS) if (re.test(s)) return name;
  return null;
}

export type UaKind = 'browser' | 'crawler' | 'tool' | 'empty' | 'other';

export function uaKind(ua: string | null | undefined): UaKind {
  if (ua === null || ua === undefined || ua.trim() === '' || ua === '-') return 'empty';
  const s = ua.length > 512 ? ua.slice(0, 512) : ua;
  if (claimedCrawler(s) !== null || DECLARED_BOT.test(s)) return 'crawler';
  if (TOOL.test(s.trim())) return 'tool';
  if (/^Mozilla\/5\.0 \(/.test(s) && /(Gecko|AppleWebKit|Trident)/.test(s)) return 'browser';
  return 'other';
}

/** True when `asn` is one of the networks the claimed crawler runs from; null when it cannot be told. */
export function crawlerAsnMatches(crawler: string, asn: number | null): boolean | null {
  if (asn === null) return null;
  const list = CRAWLER_ASNS[crawler];
  return list === undefined ? null : list.includes(asn);
}

/** Cloud and hosting networks (a botnet of rented servers); residential ISPs are not here. */
const HOSTING_ASNS = new Set<number>([
  16509, 14618, 8987, // Amazon
  396982, // Google Cloud
  8075, 8068, // Microsoft/Azure
  14061, // DigitalOcean
  16276, // OVH
  24940, 213230, // Hetzner
  63949, // Linode/Akamai
  20473, // Vultr/Choopa
  45102, 37963, // Alibaba
  132203, 45090, // Tencent
  51167, // Contabo
  12876, // Scaleway
  36352, // ColoCrossing
  9009, // M247
  60068, // Datacamp/CDN77
  62240, // Clouvider
  202425, // IP Volume
  49981, // WorldStream
  31898, // Oracle
  13335, // Cloudflare
  54113, // Fastly
  46606, // Unified Layer
  26496, // GoDaddy
  55286, // B2 Net
  200019, // AlexHost
  197540, // netcup
  8100, // QuadraNet
  40021, // Contabo US
  211252, // Delis
  53667, // FranTech
]);
const HOSTING_ORG = /hosting|cloud|server|data ?cent(er|re)|datacenter|\bvps\b|colo|dedicated|amazon|digitalocean|ovh|hetzner|linode|vultr|choopa|alibaba|tencent|contabo|scaleway|oracle|leaseweb|m247|hostinger|ionos|godaddy/i;

export function isHostingNetwork(asn: number | null, asOrg: string | null): boolean {
  if (asn !== null && HOSTING_ASNS.has(asn)) return true;
  return asOrg !== null && HOSTING_ORG.test(asOrg);
}
