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
  /** `[path, requests, random-query requests, …]` in first-seen order (`PathCounts`); null once the IP used more than the cap. */
  paths: PathCounts | null;
  /** `[user agent, requests, …]` in first-seen order; null once the IP used more than the cap. */
  userAgents: KeyCounts<string> | null;
  /** `[status, requests, …]` in first-seen order. */
  statuses: KeyCounts<number>;
}

/*
 * An IP's paths, agents and statuses are a few entries each (at most 16 paths and 4 agents),
 * kept in flat arrays rather than Maps: with up to 100,000 IPs of detail per window, three Maps
 * an IP were ~450 bytes of it (an empty Map's table alone is ~100 bytes); a flat array of one
 * entry is ~70. Plain arrays also cross threads by structured clone as they are. Entries are
 * appended with an exact-size copy (not push, which reserves 16 more slots), and scanned
 * linearly (a handful of entries). First-seen order is kept, as a Map's was.
 */

/** `[key, requests, …]`: counts per key, flat. */
export type KeyCounts<K extends string | number> = (K | number)[];
/** `[path, requests, random-query requests, …]`: counts per path, flat. */
export type PathCounts = (string | number)[];

/** Distinct keys of a KeyCounts. */
export const keyCount = (c: KeyCounts<string | number>): number => c.length >> 1;
/** Distinct paths of a PathCounts. */
export const pathCount = (c: PathCounts): number => c.length / 3;

/** `[key, requests]` entries, in first-seen order. */
export function countEntries<K extends string | number>(c: KeyCounts<K>): [K, number][] {
  const out: [K, number][] = [];
  for (let i = 0; i < c.length; i += 2) out.push([c[i] as K, c[i + 1] as number]);
  return out;
}

/** `[path, requests, random-query requests]` entries, in first-seen order. */
export function pathEntries(c: PathCounts): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (let i = 0; i < c.length; i += 3) out.push([c[i] as string, c[i + 1] as number, c[i + 2] as number]);
  return out;
}

/** Requests of `key` (0 when absent). */
export function countOf<K extends string | number>(c: KeyCounts<K>, key: K): number {
  for (let i = 0; i < c.length; i += 2) if (c[i] === key) return c[i + 1] as number;
  return 0;
}

/** Requests of `path` (0 when absent). */
export function pathRequests(c: PathCounts, path: string): number {
  for (let i = 0; i < c.length; i += 3) if (c[i] === path) return c[i + 1] as number;
  return 0;
}

/**
 * Adds `n` requests to `key`; a new key is appended when fewer than `max` are held. Returns the
 * counts (a new array when a key was appended), or null when a new key would pass `max`.
 */
export function addCount<K extends string | number>(c: KeyCounts<K>, key: K, n: number, max: number = Infinity): KeyCounts<K> | null {
  for (let i = 0; i < c.length; i += 2) {
    if (c[i] === key) {
      c[i + 1] = (c[i + 1] as number) + n;
      return c;
    }
  }
  if (c.length >> 1 >= max) return null;
  const out = c.slice() as KeyCounts<K>; // (exact size; the append below is the only growth)
  out[c.length] = key;
  out[c.length + 1] = n;
  return out;
}

/** Like addCount for a path with its random-query requests. */
export function addPath(c: PathCounts, path: string, n: number, randomQuery: number, max: number): PathCounts | null {
  for (let i = 0; i < c.length; i += 3) {
    if (c[i] === path) {
      c[i + 1] = (c[i + 1] as number) + n;
      c[i + 2] = (c[i + 2] as number) + randomQuery;
      return c;
    }
  }
  if (c.length / 3 >= max) return null;
  const out = c.slice();
  out[c.length] = path;
  out[c.length + 1] = n;
  out[c.length + 2] = randomQuery;
  return out;
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
    refNone: 0, refSearch: 0, refSocial: 0, refOther: 0, bytes: 0, paths: [], userAgents: [], statuses: [],
  };
}
