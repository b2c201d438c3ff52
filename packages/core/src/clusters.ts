/**
 * Per-burst cluster tables (ASN, country, prefix, path, user agent, status),
 * each row with its share of the burst's requests and of its attributed
 * excess. A GROUP BY over the burst's per-IP rows.
 */
import type { GeoAnswer } from '@alf/geo';
import type { Participant } from './attribute.ts';
import { claimedCrawler } from './request-traits.ts';
import type { AsnRow, CountryRow, PathRow, PrefixRow, StatusRow, UserAgentRow } from './types.ts';
import { pathEntries, countEntries } from './ip-window-stats.ts';

export interface Member {
  readonly p: Participant;
  readonly attacker: boolean;
  readonly geo: GeoAnswer | null;
  readonly prefix: string | null;
}

export interface BurstClusters {
  asns: AsnRow[];
  countries: CountryRow[];
  prefixes: PrefixRow[];
  paths: PathRow[];
  userAgents: UserAgentRow[];
  statuses: StatusRow[];
  /** Tables cut at maxRows (name → rows dropped). */
  truncated: Map<string, number>;
}

interface Acc {
  ips: number;
  requests: number;
  excess: number;
  extra: number;
}

function group<K>(members: readonly Member[], keysOf: (m: Member) => Iterable<[K, number, number]>): Map<K, Acc> {
  const out = new Map<K, Acc>();
  for (const m of members) {
    const excess = m.attacker ? Math.max(0, m.p.excess) : 0;
    const req = m.p.stats.requests;
    for (const [k, requests, extra] of keysOf(m)) {
      let a = out.get(k);
      if (a === undefined) {
        a = { ips: 0, requests: 0, excess: 0, extra: 0 };
        out.set(k, a);
      }
      a.ips++;
      a.requests += requests;
      a.excess += req > 0 ? (excess * requests) / req : 0;
      a.extra += extra;
    }
  }
  return out;
}

const round4 = (x: number): number => Math.round(x * 10000) / 10000;

function rows<K, R>(
  m: Map<K, Acc>, name: string, maxRows: number, truncated: Map<string, number>, keyText: (k: K) => string,
  make: (k: K, a: Acc) => R,
): R[] {
  const entries = [...m].sort((x, y) => y[1].requests - x[1].requests || (keyText(x[0]) < keyText(y[0]) ? -1 : keyText(x[0]) > keyText(y[0]) ? 1 : 0));
  if (entries.length > maxRows) truncated.set(name, entries.length - maxRows);
  return entries.slice(0, maxRows).map(([k, a]) => make(k, a));
}

export function buildClusters(
  burstId: number, members: readonly Member[], totalRequests: number, attributedExcess: number, maxRows: number,
): BurstClusters {
  const truncated = new Map<string, number>();
  const share = (a: Acc): number => (totalRequests > 0 ? round4(a.requests / totalRequests) : 0);
  const exShare = (a: Acc): number => (attributedExcess > 0 ? round4(a.excess / attributedExcess) : 0);
  const base = (a: Acc): { burstId: number; ips: number; requests: number; share: number; excessShare: number } => ({
    burstId, ips: a.ips, requests: a.requests, share: share(a), excessShare: exShare(a),
  });

  const asnOrg = new Map<string, string | null>();
  const asnMap = group<string>(members, (m) => {
    const asn = m.geo?.asn ?? null;
    const key = asn === null ? '' : String(asn);
    if (!asnOrg.has(key) || (asnOrg.get(key) === null && m.geo?.asOrg)) asnOrg.set(key, m.geo?.asOrg ?? null);
    return [[key, m.p.stats.requests, 0]];
  });
  const asns = rows(asnMap, 'asns', maxRows, truncated, (k) => k, (k, a): AsnRow => ({
    ...base(a), asn: k === '' ? null : Number(k), asOrg: asnOrg.get(k) ?? null,
  }));

  const countries = rows(
    group<string>(members, (m) => [[m.geo?.country ?? '', m.p.stats.requests, 0]]), 'countries', maxRows, truncated, (k) => k,
    (k, a): CountryRow => ({ ...base(a), country: k === '' ? null : k }),
  );

  const prefixAsn = new Map<string, number | null>();
  const prefixes = rows(
    group<string>(members, (m) => {
      const key = m.prefix ?? '';
      if (!prefixAsn.has(key)) prefixAsn.set(key, m.geo?.asn ?? null);
      return [[key, m.p.stats.requests, 0]];
    }),
    'prefixes', maxRows, truncated, (k) => k,
    (k, a): PrefixRow => ({ ...base(a), prefix: k === '' ? null : k, asn: prefixAsn.get(k) ?? null }),
  );

  const paths = rows(
    group<string>(members, (m) => {
      const s = m.p.stats;
      if (s.paths === null) return [['(many paths)', s.requests, s.randomQuery]];
      return pathEntries(s.paths);
    }),
    'paths', maxRows, truncated, (k) => k,
    (k, a): PathRow => ({ ...base(a), path: k, randomQueryShare: a.requests > 0 ? round4(a.extra / a.requests) : 0 }),
  );

  const userAgents = rows(
    group<string>(members, (m) => {
      const s = m.p.stats;
      if (s.userAgents === null) return [['\u0000many', s.requests, 0]];
      return countEntries(s.userAgents).map(([u, c]): [string, number, number] => [u, c, 0]);
    }),
    'user_agents', maxRows, truncated, (k) => k,
    (k, a): UserAgentRow => ({
      ...base(a), userAgent: k === '\u0000many' ? '(many user agents)' : k === '' ? null : k, claimedCrawler: claimedCrawler(k),
    }),
  );

  const statuses = rows(
    group<number>(members, (m) => countEntries(m.p.stats.statuses).map(([st, c]): [number, number, number] => [st, c, 0])),
    'statuses', maxRows, truncated, (k) => String(k).padStart(3, '0'),
    (k, a): StatusRow => ({ ...base(a), status: k }),
  );

  return { asns, countries, prefixes, paths, userAgents, statuses, truncated };
}
