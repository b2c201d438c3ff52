/**
 * What pass 2 keeps per IP inside a window, and the aggregates of a window:
 * plain sums (merge = add; per-IP path and agent sets become "many" past a cap,
 * which does not depend on order).
 */

export interface IpWindowStats {
  readonly ip: string;
  readonly hash: number;
  ipKind: number;
  requests: number;
  firstMs: number;
  lastMs: number;
  assets: number;
  randomQuery: number;
  refNone: number;
  refSearch: number;
  refSocial: number;
  refOther: number;
  bytes: number;
  /** path → [requests, random-query requests]; null once the IP used more than the cap. */
  paths: Map<string, number[]> | null;
  /** user agent → requests; null once the IP used more than the cap. */
  userAgents: Map<string, number> | null;
  statuses: Map<number, number>;
}

/** Totals over requests: of the whole window, or of the sampled-out IPs. */
export interface WindowAggregate {
  requests: number;
  assets: number;
  randomQuery: number;
  errors4xx: number;
  errors5xx: number;
  /** 429, 499 and 503: the server shedding load. */
  throttled: number;
  refSocial: number;
  refSearch: number;
  refOther: number;
  refNone: number;
}

export function emptyAggregate(): WindowAggregate {
  return { requests: 0, assets: 0, randomQuery: 0, errors4xx: 0, errors5xx: 0, throttled: 0, refSocial: 0, refSearch: 0, refOther: 0, refNone: 0 };
}

export function addAggregate(into: WindowAggregate, o: WindowAggregate): void {
  into.requests += o.requests;
  into.assets += o.assets;
  into.randomQuery += o.randomQuery;
  into.errors4xx += o.errors4xx;
  into.errors5xx += o.errors5xx;
  into.throttled += o.throttled;
  into.refSocial += o.refSocial;
  into.refSearch += o.refSearch;
  into.refOther += o.refOther;
  into.refNone += o.refNone;
}

export function newIpStats(ip: string, hash: number): IpWindowStats {
  return {
    ip, hash, ipKind: 0, requests: 0, firstMs: Infinity, lastMs: -Infinity, assets: 0, randomQuery: 0,
    refNone: 0, refSearch: 0, refSocial: 0, refOther: 0, bytes: 0, paths: new Map(), userAgents: new Map(), statuses: new Map(),
  };
}

export function mergeIpStats(into: IpWindowStats, o: IpWindowStats, opts: { readonly maxPathsPerIp: number; readonly maxUserAgentsPerIp: number }): void {
  into.ipKind = Math.max(into.ipKind, o.ipKind);
  into.requests += o.requests;
  into.firstMs = Math.min(into.firstMs, o.firstMs);
  into.lastMs = Math.max(into.lastMs, o.lastMs);
  into.assets += o.assets;
  into.randomQuery += o.randomQuery;
  into.refNone += o.refNone;
  into.refSearch += o.refSearch;
  into.refSocial += o.refSocial;
  into.refOther += o.refOther;
  into.bytes += o.bytes;
  if (into.paths !== null) {
    if (o.paths === null) into.paths = null;
    else {
      for (const [p, c] of o.paths) {
        const e = into.paths.get(p);
        if (e === undefined) into.paths.set(p, [c[0]!, c[1]!]);
        else {
          e[0] = e[0]! + c[0]!;
          e[1] = e[1]! + c[1]!;
        }
      }
      if (into.paths.size > opts.maxPathsPerIp) into.paths = null;
    }
  }
  if (into.userAgents !== null) {
    if (o.userAgents === null) into.userAgents = null;
    else {
      for (const [u, c] of o.userAgents) into.userAgents.set(u, (into.userAgents.get(u) ?? 0) + c);
      if (into.userAgents.size > opts.maxUserAgentsPerIp) into.userAgents = null;
    }
  }
  for (const [s, c] of o.statuses) into.statuses.set(s, (into.statuses.get(s) ?? 0) + c);
}

export function ipToAggregate(into: WindowAggregate, s: IpWindowStats): void {
  into.requests += s.requests;
  into.assets += s.assets;
  into.randomQuery += s.randomQuery;
  into.refNone += s.refNone;
  into.refSearch += s.refSearch;
  into.refSocial += s.refSocial;
  into.refOther += s.refOther;
  for (const [st, c] of s.statuses) {
    if (st >= 400 && st < 500) into.errors4xx += c;
    if (st >= 500) into.errors5xx += c;
    if (st === 429 || st === 499 || st === 503) into.throttled += c;
  }
}
