/**
 * Verdict per burst from evidence that is all plain aggregates over the burst's
 * sources (attributed IPs, or the new IPs when none was attributed): network
 * type, path concentration, assets, referers, user agents, error rise, random
 * query strings, per-IP rates, new-IP share.
 */
import type { Member } from './clusters.ts';
import type { WindowAggregate } from './window-counts.ts';
import { REF_SOCIAL, claimedCrawler, crawlerAsnMatches, isHostingNetwork, refererClass, uaKind } from './request-traits.ts';
import type { Verdict } from './types.ts';
import { pathEntries, countEntries } from './ip-window-stats.ts';

export interface VerdictInput {
  readonly members: readonly Member[];
  readonly durationS: number;
  readonly excessRequests: number;
  /** Inside and reference aggregates for the error rise (null for split bursts). */
  readonly inside: WindowAggregate;
  readonly reference: WindowAggregate;
  /** Referer hosts of the window's page requests (host → requests). */
  readonly refererHosts?: ReadonlyMap<string, number>;
}

export interface VerdictOutput {
  readonly verdict: Verdict;
  readonly reasons: string[];
  /** Spoofed crawler claims seen: crawler name → ASNs. */
  readonly spoofed: Map<string, Set<number>>;
}

export function fmtInt(n: number): string {
  const s = String(Math.round(Math.abs(n)));
  return (n < 0 ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
export function pct(x: number): string {
  if (!Number.isFinite(x)) return '0%';
  const v = x * 100;
  return `${v > 0 && v < 1 ? '<1' : Math.round(v)}%`;
}
const plural = (n: number, one: string, many: string): string => `${fmtInt(n)} ${n === 1 ? one : many}`;

export function decideVerdict(input: VerdictInput): VerdictOutput {
  const { members, durationS } = input;
  const attackers = members.filter((m) => m.attacker);
  const newOnes = members.filter((m) => m.p.refRequests === 0);
  const sources = attackers.length > 0 ? attackers : newOnes.length > 0 ? newOnes : [...members];
  const weightOf = (m: Member): number => (m.attacker ? Math.max(0, m.p.excess) : m.p.stats.requests);
  const totalW = sources.reduce((a, m) => a + weightOf(m), 0) || 1;
  const srcReq = sources.reduce((a, m) => a + m.p.stats.requests, 0) || 1;
  const allReq = members.reduce((a, m) => a + m.p.stats.requests, 0) || 1;
  const what = attackers.length > 0 ? 'excess' : 'requests of new IPs';

  // Networks.
  let hostingW = 0;
  const asnW = new Map<number, number>();
  const hostingAsns = new Set<number>();
  for (const m of sources) {
    const asn = m.geo?.asn ?? null;
    if (isHostingNetwork(asn, m.geo?.asOrg ?? null)) {
      hostingW += weightOf(m);
      if (asn !== null) hostingAsns.add(asn);
    }
    if (asn !== null) asnW.set(asn, (asnW.get(asn) ?? 0) + weightOf(m));
  }
  const hostingShare = hostingW / totalW;

  // Paths, assets, referers.
  const pathReq = new Map<string, number>();
  let assets = 0;
  let pageAssetIps = 0;
  let refSocial = 0;
  let refExternal = 0;
  let randomQuery = 0;
  for (const m of sources) {
    const s = m.p.stats;
    assets += s.assets;
    randomQuery += s.randomQuery;
    refSocial += s.refSocial;
    refExternal += s.refSocial + s.refSearch;
    if (s.assets > 0 && s.assets < s.requests) pageAssetIps++;
    if (s.paths === null) pathReq.set('(many paths)', (pathReq.get('(many paths)') ?? 0) + s.requests);
    else for (const [p, c] of pathEntries(s.paths)) pathReq.set(p, (pathReq.get(p) ?? 0) + c);
  }
  const pathsSorted = [...pathReq].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const topPath = pathsSorted[0];
  const topPathShare = topPath === undefined ? 0 : topPath[1] / srcReq;
  const manyPaths = pathReq.has('(many paths)');
  const distinctPaths = pathReq.size;
  const assetShare = assets / srcReq;
  const pages = srcReq - assets || 1;
  const socialShare = refSocial / pages;
  const externalShare = refExternal / pages;
  const randomShare = randomQuery / srcReq;
  const pageAssetShare = pageAssetIps / sources.length;

  // User agents and crawler claims.
  const uas = new Set<string>();
  let manyUas = false;
  let browserW = 0;
  let toolW = 0;
  let verifiedW = 0;
  let declaredW = 0;
  let spoofedW = 0;
  const spoofed = new Map<string, Set<number>>();
  const verifiedNames = new Set<string>();
  const toolNames = new Map<string, number>();
  for (const m of sources) {
    const s = m.p.stats;
    const w = weightOf(m);
    if (s.userAgents === null) {
      manyUas = true;
      continue;
    }
    const entries = countEntries(s.userAgents);
    const total = entries.reduce((a, [, c]) => a + c, 0) || 1;
    for (const [ua, c] of entries) {
      uas.add(ua);
      const part = (w * c) / total;
      const kind = uaKind(ua);
      if (kind === 'browser') browserW += part;
      if (kind === 'tool' || kind === 'empty') {
        toolW += part;
        const name = ua.trim() === '' || ua === '-' ? '(empty user agent)' : ua.slice(0, 60);
        toolNames.set(name, (toolNames.get(name) ?? 0) + part);
      }
      const claim = claimedCrawler(ua);
      if (claim !== null) {
        const asn = m.geo?.asn ?? null;
        const ok = crawlerAsnMatches(claim, asn);
        if (ok === true) {
          verifiedW += part;
          verifiedNames.add(claim);
        } else if (ok === false) {
          spoofedW += part;
          let set = spoofed.get(claim);
          if (set === undefined) spoofed.set(claim, (set = new Set()));
          set.add(asn!);
        }
      } else if (kind === 'crawler') declaredW += part;
    }
  }
  const verifiedShare = verifiedW / totalW;
  const spoofedShare = spoofedW / totalW;
  const declaredShare = declaredW / totalW;
  const browserShare = browserW / totalW;
  const toolShare = toolW / totalW;

  // Rates, new IPs, errors.
  const rates = attackers.map((m) => m.p.stats.requests / Math.max(1, durationS)).sort((a, b) => a - b);
  const medianRate = rates.length > 0 ? rates[Math.floor(rates.length / 2)]! : 0;
  const newShare = newOnes.reduce((a, m) => a + m.p.stats.requests, 0) / allReq;
  const errIn = (input.inside.errors4xx + input.inside.errors5xx) / Math.max(1, input.inside.requests);
  const errRef = (input.reference.errors4xx + input.reference.errors5xx) / Math.max(1, input.reference.requests);
  const throttledIn = input.inside.throttled / Math.max(1, input.inside.requests);
  const throttledRef = input.reference.throttled / Math.max(1, input.reference.requests);
  const attributed = attackers.reduce((a, m) => a + Math.max(0, m.p.excess), 0);
  const attributedShare = input.excessRequests > 0 ? attributed / input.excessRequests : 0;
  let carriers = 0;
  let carried = 0;
  for (; carriers < attackers.length && carried < 0.8 * attributed; carriers++) carried += Math.max(0, attackers[carriers]!.p.excess);

  const reasons: string[] = [];
  let attack = 0;
  let flash = 0;
  /** Signs of abuse that even a crawler should not show: cache busting, error rise, throttling. */
  let abuse = 0;

  if (spoofedShare >= 0.3) {
    for (const [name, asns] of spoofed) {
      reasons.push(`${pct(spoofedShare)} of ${what} claims to be ${name} from ${[...asns].sort((a, b) => a - b).map((a) => `AS${a}`).join(', ')}, not ${name}'s network: spoofed`);
    }
    attack += 3;
  }
  const crawlShare = verifiedShare + declaredShare;
  const isCrawl = spoofedShare < 0.1 && crawlShare >= 0.6;
  if (isCrawl) {
    if (verifiedShare > 0) reasons.push(`${pct(verifiedShare)} of ${what} from verified ${[...verifiedNames].sort().join(', ')} (user agent and network agree)`);
    if (declaredShare > 0.05) reasons.push(`${pct(declaredShare)} of ${what} from self-declared crawlers`);
  }
  if (attackers.length > 0 && attributedShare >= 0.5 && carriers <= 10) {
    reasons.push(`${plural(carriers, 'IP', 'IPs')} (${attackers.slice(0, Math.min(carriers, 3)).map((m) => m.p.stats.ip).join(', ')}${carriers > 3 ? ', …' : ''}) ${carriers === 1 ? 'sends' : 'send'} ${pct(carried / Math.max(1, input.excessRequests))} of the excess`);
    attack++;
  } else if (attackers.length > 0) {
    reasons.push(`${plural(attackers.length, 'attributed IP', 'attributed IPs')} explain ${pct(attributedShare)} of the excess`);
  }
  if (hostingShare >= 0.5) {
    reasons.push(`${pct(hostingShare)} of ${what} from ${plural(Math.max(1, hostingAsns.size), 'hosting ASN', 'hosting ASNs')}`);
    attack++;
  } else if (sources.length >= 20 && hostingShare < 0.1 && asnW.size > 0) flash++;
  if (topPath !== undefined && !manyPaths && distinctPaths <= 3 && topPathShare >= 0.7) {
    reasons.push(`${plural(distinctPaths, 'path', 'paths')}; ${topPath[0].slice(0, 80)} takes ${pct(topPathShare)} of ${attackers.length > 0 ? 'attackers\u2019 requests' : 'their requests'}`);
    if (!isCrawl) attack++;
  } else if (manyPaths || distinctPaths > 50) {
    reasons.push(`${manyPaths ? 'many' : fmtInt(distinctPaths)} distinct paths`);
  }
  if (assetShare < 0.05 && srcReq >= 50) {
    reasons.push(`${pct(assetShare)} asset requests`);
    if (!isCrawl) attack++;
  } else if (assetShare >= 0.2) {
    reasons.push(`${pct(assetShare)} asset requests; ${pct(pageAssetShare)} of IPs load a page with its assets`);
    flash += pageAssetShare >= 0.3 ? 2 : 1;
  }
  if (socialShare >= 0.2) {
    const hosts = [...(input.refererHosts ?? new Map<string, number>())].filter(([h]) => refererClass(`https://${h}/`) === REF_SOCIAL).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const pagesIn = Math.max(1, input.inside.requests - input.inside.assets);
    const top = hosts[0];
    reasons.push(`${pct(socialShare)} of page requests referred by news or social sites${top !== undefined ? ` (top: ${top[0]}, ${pct(top[1] / pagesIn)} of the window's page requests)` : ''}`);
    flash += 2;
  } else if (externalShare >= 0.3) {
    reasons.push(`${pct(externalShare)} of page requests referred by search or social sites`);
    flash++;
  }
  const ipsN = sources.length;
  if (!manyUas && ipsN >= 20 && uas.size <= Math.max(3, ipsN / 50)) {
    reasons.push(`${plural(uas.size, 'user agent', 'user agents')} for ${plural(ipsN, 'IP', 'IPs')}`);
    if (!isCrawl) attack++;
  } else if (ipsN >= 20 && uas.size >= Math.min(10, ipsN / 5) && browserShare >= 0.8) {
    reasons.push(`${plural(uas.size, 'browser user agent', 'browser user agents')} for ${plural(ipsN, 'IP', 'IPs')}`);
    flash++;
  }
  if (toolShare >= 0.5) {
    const top = [...toolNames].sort((a, b) => b[1] - a[1])[0];
    reasons.push(`${pct(toolShare)} of ${what} from scripted clients${top !== undefined ? ` (${top[0]})` : ''}`);
    attack++;
  }
  if (randomShare >= 0.3) {
    reasons.push(`${pct(randomShare)} of requests carry random query strings (cache busting)`);
    attack++;
    abuse++;
  }
  if (errIn - errRef >= 0.2) {
    reasons.push(`${pct(errIn)} error statuses (vs ${pct(errRef)} around the burst)`);
    attack++;
    abuse++;
  }
  if (throttledIn >= 0.05 && throttledIn > 2 * throttledRef) {
    reasons.push(`${pct(throttledIn)} 429/499/503 (vs ${pct(throttledRef)} around the burst)`);
    attack++;
    abuse++;
  }
  if (medianRate >= 0.5) {
    reasons.push(`median attributed IP at ${medianRate.toFixed(1)} requests/s`);
    attack++;
  }
  if (newShare >= 0.5) {
    reasons.push(`${pct(newShare)} of requests from IPs not seen around the burst`);
    if (attackers.length === 0 && ipsN >= 50) flash++;
  }
  if (attackers.length === 0 && ipsN >= 50) {
    const perIp = srcReq / ipsN;
    reasons.push(`${plural(ipsN, 'new IP', 'new IPs')} at ${perIp.toFixed(1)} requests each; none stands out`);
    flash++;
  }

  let verdict: Verdict;
  if (spoofedShare >= 0.3) verdict = 'attack';
  else if (isCrawl && (verifiedShare >= 0.6 || abuse < 2)) verdict = 'crawl';
  else if (attack >= 2 && attack > flash) verdict = 'attack';
  else if (flash >= 4 && flash > attack) verdict = 'flash_crowd';
  else verdict = 'unclear';
  return { verdict, reasons, spoofed };
}
