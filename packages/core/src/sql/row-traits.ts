/**
 * The per-record values `alf load clickhouse` precomputes, with the same
 * functions the local analysis uses (so the SQL engine's sums are exact).
 */
import { hashString } from '../hash.ts';
import { isAssetPath, isRandomQuery, refererClass, refererHost } from '../request-traits.ts';
import { SQL_MAX_KEY_CHARS } from './columns.ts';

export interface RowTraits {
  readonly ipHash: number;
  readonly pathAsset: number;
  readonly queryRandom: number;
  readonly refClass: number;
  readonly refHost: string;
}

/** hashString of a client address (per distinct value: callers memoise per dictionary id). */
export function ipHash(ip: string): number {
  return hashString(ip);
}

/** isAssetPath of the path as attribution keys it (capped to 512 characters plus `…`). */
export function pathAsset(path: string | null): number {
  if (path === null) return 0;
  const p = path.length > SQL_MAX_KEY_CHARS ? `${path.slice(0, SQL_MAX_KEY_CHARS)}…` : path;
  return isAssetPath(p) ? 1 : 0;
}

export function queryRandom(query: string | null): number {
  return query !== null && isRandomQuery(query) ? 1 : 0;
}

/** Referer class (0 none, 1 search, 2 social, 3 other) and host ('' for none). */
export function refererTraits(referer: string | null): { refClass: number; refHost: string } {
  return { refClass: refererClass(referer), refHost: refererHost(referer) ?? '' };
}
