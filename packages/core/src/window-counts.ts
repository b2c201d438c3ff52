/**
 * Pass 2 state: per burst window, per-IP counts inside the window and in its
 * reference periods (before and after), plus per-IP paths, user agents and
 * statuses. All counts are sums, so add() is commutative and merge() exact.
 * Per-window IP tracking is capped by deterministic hash sampling: past the cap
 * only IPs whose hash is below a threshold are kept (the threshold halves until
 * the set fits), the others go into an aggregate; the final set is the same
 * whatever the order or split of the input.
 */
import type { RecordBatch } from '@alf/parser';
import { hashString } from './hash.ts';
import { REF_NONE, REF_SEARCH, REF_SOCIAL, isAssetPath, isRandomQuery, refererClass, refererHost } from './request-traits.ts';
import {
  addAggregate, emptyAggregate, ipToAggregate, mergeIpStats, newIpStats, type IpWindowStats, type WindowAggregate,
} from './ip-window-stats.ts';

export type { IpWindowStats, WindowAggregate } from './ip-window-stats.ts';
export { emptyAggregate } from './ip-window-stats.ts';

export interface WindowState {
  readonly insideFromMs: number;
  /** Exclusive. */
  readonly insideToMs: number;
  readonly refBefore: readonly [number, number];
  readonly refAfter: readonly [number, number];
  /** Length of the reference periods outside every window. */
  refDurationMs: number;
  /** Hash threshold: IPs with hash >= limit are not tracked individually. 2^32 = all. */
  limit: number;
  readonly ips: Map<string, IpWindowStats>;
  /** Requests per IP in the reference periods (tracked IPs under the same limit). */
  readonly ref: Map<string, number>;
  readonly inside: WindowAggregate;
  readonly reference: WindowAggregate;
  /** Inside requests of IPs past the sampling limit. */
  readonly sampledOut: WindowAggregate;
  /** Referer hosts of inside requests (capped; see refererHostsDropped). */
  readonly refererHosts: Map<string, number>;
  refererHostsDropped: number;
  /** Distinct IPs in the reference periods beyond the sampling limit, summed requests. */
  refSampledOutRequests: number;
}

export interface WindowCountsOptions {
  readonly maxIpsPerWindow: number;
  readonly maxPathsPerIp: number;
  readonly maxUserAgentsPerIp: number;
  readonly maxRefererHosts: number;
}

const FULL = 2 ** 32;
/** Halve the limit until the tracked IPs fit the cap. */
function shrink(w: WindowState, cap: number): void {
  while (w.ips.size > cap || w.ref.size > 2 * cap) {
    w.limit /= 2;
    for (const [ip, s] of w.ips) {
      if (s.hash >= w.limit) {
        ipToAggregate(w.sampledOut, s);
        w.ips.delete(ip);
      }
    }
    for (const [ip, c] of w.ref) {
      if (hashString(ip) >= w.limit) {
        w.refSampledOutRequests += c;
        w.ref.delete(ip);
      }
    }
  }
}

/** Longest path or user agent kept as a key (attacker-written; longer ones end in `…`). */
export const MAX_KEY_CHARS = 512;

function capKey(s: string): string {
  return s.length > MAX_KEY_CHARS ? `${s.slice(0, MAX_KEY_CHARS)}…` : s;
}

const ROLE_INSIDE = 1;
const ROLE_REF = 2;

/** Pass-2 state as plain data (Maps and plain objects: structured-clone and postMessage safe). */
export interface WindowCountsSnapshot {
  readonly windows: readonly WindowState[];
}

export class WindowCounts {
  readonly windows: WindowState[];
  readonly opts: WindowCountsOptions;
  /** Sorted boundaries; segment k is [bounds[k], bounds[k+1]). */
  private readonly bounds: number[];
  /** Per segment: flat list of (window index, role). */
  private readonly roles: number[][];

  constructor(ranges: readonly { insideFromMs: number; insideToMs: number; refBefore: readonly [number, number]; refAfter: readonly [number, number] }[], opts: WindowCountsOptions) {
    this.opts = opts;
    this.windows = ranges.map((r) => ({
      ...r, refDurationMs: 0, limit: FULL, ips: new Map(), ref: new Map(), inside: emptyAggregate(), reference: emptyAggregate(),
      sampledOut: emptyAggregate(), refererHosts: new Map(), refererHostsDropped: 0, refSampledOutRequests: 0,
    }));
    const pts = new Set<number>();
    for (const r of ranges) for (const x of [r.insideFromMs, r.insideToMs, ...r.refBefore, ...r.refAfter]) pts.add(x);
    this.bounds = [...pts].sort((a, b) => a - b);
    this.roles = [];
    for (let k = 0; k < this.bounds.length - 1; k++) {
      const a = this.bounds[k]!;
      const list: number[] = [];
      // Time inside any window is no window's reference: an attacker that comes back an hour
      // later must not have its first burst counted as its ordinary rate.
      const insideAny = ranges.some((r) => a >= r.insideFromMs && a < r.insideToMs);
      ranges.forEach((r, i) => {
        if (a >= r.insideFromMs && a < r.insideToMs) list.push(i, ROLE_INSIDE);
        else if (!insideAny && ((a >= r.refBefore[0] && a < r.refBefore[1]) || (a >= r.refAfter[0] && a < r.refAfter[1]))) {
          list.push(i, ROLE_REF);
          this.windows[i]!.refDurationMs += this.bounds[k + 1]! - a;
        }
      });
      this.roles.push(list);
    }
  }

  private segment(t: number): number {
    const b = this.bounds;
    if (b.length < 2 || t < b[0]! || t >= b[b.length - 1]!) return -1;
    let lo = 0;
    let hi = b.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (b[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  add(batch: RecordBatch): void {
    const { ts, status, bytesSent, ip, ipKind, path, query, referer } = batch;
    const nW = this.windows.length;
    if (nW === 0) return;
    const cap = this.opts.maxIpsPerWindow;
    const ipHash = new Float64Array(ip.values.length).fill(-1);
    const pathAsset = new Int8Array(path.values.length).fill(-1);
    const queryRandom = new Int8Array(query.values.length).fill(-1);
    const refClass = new Int8Array(referer.values.length).fill(-1);
    const refHost: (string | null | undefined)[] = new Array(referer.values.length);
    const statsCache: (IpWindowStats | undefined)[][] = this.windows.map(() => new Array(ip.values.length));
    for (let i = 0; i < batch.length; i++) {
      const t = ts[i]!;
      if (!Number.isFinite(t)) continue;
      const seg = this.segment(t);
      if (seg < 0) continue;
      const roles = this.roles[seg]!;
      if (roles.length === 0) continue;
      const ipId = ip.ids[i]!;
      if (ipId < 0) continue;
      const ipStr = ip.values[ipId]!;
      let h = ipHash[ipId]!;
      if (h < 0) h = ipHash[ipId] = hashString(ipStr);
      const st = status[i]!;
      for (let r = 0; r < roles.length; r += 2) {
        const wi = roles[r]!;
        const w = this.windows[wi]!;
        if (roles[r + 1] === ROLE_REF) {
          w.reference.requests++;
          if (st >= 400 && st < 500) w.reference.errors4xx++;
          if (st >= 500) w.reference.errors5xx++;
          if (st === 429 || st === 499 || st === 503) w.reference.throttled++;
          const qRef = query.ids[i]!;
          if (qRef >= 0) {
            let rqRef = queryRandom[qRef]!;
            if (rqRef < 0) rqRef = queryRandom[qRef] = isRandomQuery(query.values[qRef]!) ? 1 : 0;
            w.reference.randomQuery += rqRef;
          }
          if (h >= w.limit) w.refSampledOutRequests++;
          else {
            w.ref.set(ipStr, (w.ref.get(ipStr) ?? 0) + 1);
            if (w.ref.size > 2 * cap) {
              shrink(w, cap);
              for (let k = 0; k < nW; k++) statsCache[k] = new Array(ip.values.length);
            }
          }
          continue;
        }
        // inside
        const pId = path.ids[i]!;
        const p = pId >= 0 ? capKey(path.values[pId]!) : '';
        let asset = pId >= 0 ? pathAsset[pId]! : 0;
        if (asset < 0) asset = pathAsset[pId] = isAssetPath(p) ? 1 : 0;
        const qId = query.ids[i]!;
        let rq = qId >= 0 ? queryRandom[qId]! : 0;
        if (rq < 0) rq = queryRandom[qId] = isRandomQuery(query.values[qId]!) ? 1 : 0;
        const rId = referer.ids[i]!;
        let rc = rId >= 0 ? refClass[rId]! : REF_NONE;
        if (rc < 0) {
          rc = refClass[rId] = refererClass(referer.values[rId]!);
          refHost[rId] = refererHost(referer.values[rId]!);
        }
        const agg = w.inside;
        agg.requests++;
        agg.assets += asset;
        agg.randomQuery += rq;
        if (st >= 400 && st < 500) agg.errors4xx++;
        if (st >= 500) agg.errors5xx++;
        if (st === 429 || st === 499 || st === 503) agg.throttled++;
        if (rc === REF_NONE) agg.refNone++;
        else if (rc === REF_SEARCH) agg.refSearch++;
        else if (rc === REF_SOCIAL) agg.refSocial++;
        else agg.refOther++;
        if (rId >= 0 && asset === 0) {
          const host = refHost[rId];
          if (host !== null && host !== undefined) {
            const c = w.refererHosts.get(host);
            if (c !== undefined) w.refererHosts.set(host, c + 1);
            else if (w.refererHosts.size < this.opts.maxRefererHosts) w.refererHosts.set(host, 1);
            else w.refererHostsDropped++;
          }
        }
        let s: IpWindowStats | undefined = statsCache[wi]![ipId];
        if (s === undefined) {
          if (h >= w.limit) {
            const tmp = newIpStats(ipStr, h);
            this.countInto(tmp, i, batch, p, asset, rq, rc);
            ipToAggregate(w.sampledOut, tmp);
            continue;
          }
          s = w.ips.get(ipStr);
          if (s === undefined) {
            s = newIpStats(ipStr, h);
            w.ips.set(ipStr, s);
          }
          statsCache[wi]![ipId] = s;
        }
        s.ipKind = ipKind[i]!;
        this.countInto(s, i, batch, p, asset, rq, rc);
        const b = bytesSent[i]!;
        if (b > 0) s.bytes += b;
        if (w.ips.size > cap) {
          shrink(w, cap);
          for (let k = 0; k < nW; k++) statsCache[k] = new Array(ip.values.length);
        }
      }
    }
  }

  private countInto(s: IpWindowStats, i: number, batch: RecordBatch, p: string, asset: number, rq: number, rc: number): void {
    const t = batch.ts[i]!;
    s.requests++;
    if (t < s.firstMs) s.firstMs = t;
    if (t > s.lastMs) s.lastMs = t;
    s.assets += asset;
    s.randomQuery += rq;
    if (rc === REF_NONE) s.refNone++;
    else if (rc === REF_SEARCH) s.refSearch++;
    else if (rc === REF_SOCIAL) s.refSocial++;
    else s.refOther++;
    const st = batch.status[i]!;
    s.statuses.set(st, (s.statuses.get(st) ?? 0) + 1);
    if (s.paths !== null) {
      const e = s.paths.get(p);
      if (e !== undefined) {
        e[0] = e[0]! + 1;
        e[1] = e[1]! + rq;
      } else if (s.paths.size < this.opts.maxPathsPerIp) s.paths.set(p, [1, rq]);
      else s.paths = null;
    }
    if (s.userAgents !== null) {
      const uId = batch.userAgent.ids[i]!;
      const ua = uId >= 0 ? capKey(batch.userAgent.values[uId]!) : '';
      const c = s.userAgents.get(ua);
      if (c !== undefined) s.userAgents.set(ua, c + 1);
      else if (s.userAgents.size < this.opts.maxUserAgentsPerIp) s.userAgents.set(ua, 1);
      else s.userAgents = null;
    }
  }

  snapshot(): WindowCountsSnapshot {
    return structuredClone({ windows: this.windows });
  }

  /** A copy of this accumulator's shape holding the snapshot's counts (for merge). */
  withSnapshot(snap: WindowCountsSnapshot): WindowCounts {
    const c = new WindowCounts([], this.opts);
    if (snap.windows.length !== this.windows.length) throw new Error(`snapshot has ${snap.windows.length} windows, expected ${this.windows.length}`);
    c.windows.push(...structuredClone(snap.windows) as WindowState[]);
    return c;
  }

  merge(other: WindowCounts): void {
    const cap = this.opts.maxIpsPerWindow;
    this.windows.forEach((w, k) => {
      const o = other.windows[k]!;
      addAggregate(w.inside, o.inside);
      addAggregate(w.reference, o.reference);
      addAggregate(w.sampledOut, o.sampledOut);
      w.refSampledOutRequests += o.refSampledOutRequests;
      w.refererHostsDropped += o.refererHostsDropped;
      for (const [h, c] of o.refererHosts) {
        const e = w.refererHosts.get(h);
        if (e !== undefined) w.refererHosts.set(h, e + c);
        else if (w.refererHosts.size < this.opts.maxRefererHosts) w.refererHosts.set(h, c);
        else w.refererHostsDropped += c;
      }
      const limit = Math.min(w.limit, o.limit);
      if (limit < w.limit) {
        w.limit = limit;
        for (const [ip, s] of w.ips) if (s.hash >= limit) { ipToAggregate(w.sampledOut, s); w.ips.delete(ip); }
        for (const [ip, c] of w.ref) if (hashString(ip) >= limit) { w.refSampledOutRequests += c; w.ref.delete(ip); }
      }
      for (const [ip, s] of o.ips) {
        if (s.hash >= limit) {
          ipToAggregate(w.sampledOut, s);
          continue;
        }
        const mine = w.ips.get(ip);
        if (mine === undefined) {
          const copy = newIpStats(ip, s.hash);
          mergeIpStats(copy, s, this.opts);
          w.ips.set(ip, copy);
        } else mergeIpStats(mine, s, this.opts);
      }
      for (const [ip, c] of o.ref) {
        if (hashString(ip) >= limit) w.refSampledOutRequests += c;
        else w.ref.set(ip, (w.ref.get(ip) ?? 0) + c);
      }
      shrink(w, cap);
    });
  }
}
