/**
 * Pass 2 state: per burst window, exact per-IP request counts inside the window
 * and in its reference periods (`IpCounts`, typed-array hash tables: every IP,
 * however many), plus per-IP detail (paths, user agents, statuses, first/last
 * seen) for a bounded set of IPs. All counts are sums, so add() is commutative
 * and merge() exact. The detail lives in typed-array tables (`IpDetailTable`,
 * ip-detail-table.ts), read as `IpWindowStats` objects.
 * Detail is kept for every IP while the window has at most `maxIpsPerWindow`
 * of them; past that, for a deterministic hash sample (IPs whose hash is below
 * a threshold that halves until the set fits; the others go into an
 * aggregate). The final state is the same whatever the order or split of the
 * input. Attackers found by the exact counts but outside the sample get their
 * detail from an optional third pass over the inputs (`detailFor`), which
 * tracks only those IPs (`heavy`).
 */
import type { RecordBatch } from '@alf/parser';
import { hashString } from './hash.ts';
import { IpCounts, ROLE_INSIDE as COUNT_INSIDE, ROLE_REF as COUNT_REF, clientKey, parseIpv4, type ClientKey, type CountsSpill, type IpCountsSnapshot } from './ip-counts.ts';
import { REF_NONE, REF_SEARCH, REF_SOCIAL, isAssetPath, isRandomQuery, refererClass, refererHost } from './request-traits.ts';
import { addAggregate, emptyAggregate, type WindowAggregate } from './ip-window-stats.ts';
import { IpDetailTable, packedBuffers, type PackedIpDetail } from './ip-detail-table.ts';

export type { IpWindowStats, WindowAggregate } from './ip-window-stats.ts';
export { emptyAggregate } from './ip-window-stats.ts';
export { IpDetailTable, type PackedIpDetail } from './ip-detail-table.ts';

/** A window's state but its count tables and per-IP detail: bounds, sampling limit and plain sums. */
export interface WindowSums {
  readonly insideFromMs: number;
  /** Exclusive. */
  readonly insideToMs: number;
  readonly refBefore: readonly [number, number];
  readonly refAfter: readonly [number, number];
  /** Length of the reference periods outside every window. */
  refDurationMs: number;
  /** Hash threshold: IPs with hash >= limit get no sampled detail. 2^32 = all. */
  limit: number;
  readonly inside: WindowAggregate;
  readonly reference: WindowAggregate;
  /** Inside requests of IPs without detail (past the sampling limit, not heavy). */
  readonly sampledOut: WindowAggregate;
  /** Referer hosts of inside requests (capped; see refererHostsDropped). */
  readonly refererHosts: Map<string, number>;
  refererHostsDropped: number;
}

/** A window's state but its count tables: the sums and the per-IP detail tables. */
export interface WindowDetail extends WindowSums {
  /** Detail of sampled IPs (all IPs while under the cap). */
  readonly ips: IpDetailTable;
  /** Detail pass only: detail of the attackers that the sample missed. */
  readonly heavy: IpDetailTable;
}

export interface WindowState extends WindowDetail {
  /** Exact inside and reference counts of every IP. */
  readonly counts: IpCounts;
}

export interface WindowCountsOptions {
  readonly maxIpsPerWindow: number;
  readonly maxPathsPerIp: number;
  readonly maxUserAgentsPerIp: number;
  readonly maxRefererHosts: number;
  /** Attackers per window whose detail a detail pass collects (default 20,000; the most excess first). */
  readonly maxHeavyIps?: number;
  /**
   * Cap on the detail of a window in units (`IpDetailTable.units`: 1 per IP plus 1 per path and user
   * agent it keeps; default 4 × maxIpsPerWindow): past it the sample shrinks as past
   * maxIpsPerWindow, so that memory does not follow distinct paths and agents.
   */
  readonly maxDetailUnits?: number;
  /**
   * Where the exact count tables go past a memory budget (`IpCounts`, count-runs.ts): `tableBytes`
   * is shared by the windows (each gets at least 1 MB). Without it they stay in memory, however many clients.
   */
  readonly countsSpill?: CountsSpill;
}

const FULL = 2 ** 32;

/** Longest path or user agent kept as a key (attacker-written; longer ones end in `…`). */
export const MAX_KEY_CHARS = 512;

function capKey(s: string): string {
  return s.length > MAX_KEY_CHARS ? `${s.slice(0, MAX_KEY_CHARS)}…` : s;
}

const ROLE_INSIDE = 1;
const ROLE_REF = 2;

/**
 * Pass-2 state as plain data (typed arrays, Maps and plain objects: structured-clone
 * and postMessage safe). Per window: `counts` is GROUP BY ip of inside / reference
 * requests; the rest is the detail described in `WindowDetail` (GROUP BY ip, path /
 * user agent / status over the detailed IPs, and plain sums).
 */
export interface WindowCountsSnapshot {
  readonly windows: readonly (WindowSums & { readonly ips: PackedIpDetail; readonly heavy: PackedIpDetail; readonly counts: IpCountsSnapshot })[];
}

/** The typed arrays of a snapshot's per-IP detail (to transfer with it, not copy). */
export function windowDetailBuffers(s: WindowCountsSnapshot): ArrayBuffer[] {
  return s.windows.flatMap((w) => [...packedBuffers(w.ips), ...packedBuffers(w.heavy)]);
}

/** A deep copy of packed detail (its arrays are taken over by whoever unpacks it). */
function clonePacked(p: PackedIpDetail): PackedIpDetail {
  return { ips: p.ips, num: p.num.slice(), kind: p.kind.slice(), lists: p.lists.slice(), key: p.key.slice(), count: p.count.slice(), rq: p.rq.slice(), strs: p.strs };
}

export class WindowCounts {
  readonly windows: WindowState[];
  readonly opts: WindowCountsOptions;
  readonly maxHeavyIps: number;
  readonly maxDetailUnits: number;
  /** Each window's share of `opts.countsSpill`. */
  private readonly spill: CountsSpill | null;
  /** Per window: the detail units (`IpDetailTable.units`) of its `ips`. */
  private readonly units: number[];
  /** Detail pass: per window, the only IPs tracked (null: an ordinary pass-2 accumulator). */
  readonly only: readonly ReadonlySet<string>[] | null;
  /** Sorted boundaries; segment k is [bounds[k], bounds[k+1]). */
  private readonly bounds: number[];
  /** Per segment: flat list of (window index, role). */
  private readonly roles: number[][];
  private scratchHash: Float64Array = new Float64Array(0);
  private scratchV4: Float64Array = new Float64Array(0);
  /** Per window: the detail slot by IP dictionary id of the current batch, -1 not looked up (cleared per batch). */
  private scratchSlot: Int32Array[] = [];
  /** Per window: the interned path / user-agent id by dictionary id of the current batch, -1 not yet. */
  private scratchPath: Int32Array[] = [];
  private scratchAgent: Int32Array[] = [];

  constructor(
    ranges: readonly { insideFromMs: number; insideToMs: number; refBefore: readonly [number, number]; refAfter: readonly [number, number] }[],
    opts: WindowCountsOptions, only: readonly ReadonlySet<string>[] | null = null,
  ) {
    this.opts = opts;
    this.only = only;
    this.maxHeavyIps = opts.maxHeavyIps ?? 20_000;
    this.maxDetailUnits = opts.maxDetailUnits ?? 4 * opts.maxIpsPerWindow;
    this.units = ranges.map(() => 0);
    const spill = opts.countsSpill;
    // Each window's share, at least 1 MB (unless the whole budget is smaller: tests force runs that way).
    this.spill = spill === undefined ? null : { dir: spill.dir, tableBytes: Math.max(Math.min(spill.tableBytes, 1 << 20), Math.floor(spill.tableBytes / Math.max(1, ranges.length))) };
    this.windows = ranges.map((r) => ({
      insideFromMs: r.insideFromMs, insideToMs: r.insideToMs, refBefore: r.refBefore, refAfter: r.refAfter,
      refDurationMs: 0, limit: FULL, ips: this.table(), heavy: this.table(), inside: emptyAggregate(), reference: emptyAggregate(),
      sampledOut: emptyAggregate(), refererHosts: new Map(), refererHostsDropped: 0, counts: new IpCounts(undefined, this.spill),
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

  /**
   * The time ranges `[fromMs, toMs)` (sorted, disjoint) of the records `add` reads more than the time of:
   * inside a window or in a reference period. Of any other record it reads nothing else, so a parser
   * may leave its string columns null (`ParseOptions.allColumnsWithin`). `insideOnly`: the ranges inside
   * a window; of a record in a reference period only its client, time, status and query are read.
   * A detail-pass accumulator (`detailFor`) reads only records inside a window: its ranges are those.
   */
  readRanges(insideOnly: boolean = this.only !== null): [number, number][] {
    const out: [number, number][] = [];
    for (let k = 0; k < this.roles.length; k++) {
      const roles = this.roles[k]!;
      if (roles.length === 0) continue;
      if (insideOnly && !roles.some((r, i) => i % 2 === 1 && r === ROLE_INSIDE)) continue;
      const from = this.bounds[k]!;
      const to = this.bounds[k + 1]!;
      const last = out[out.length - 1];
      if (last !== undefined && last[1] === from) last[1] = to;
      else out.push([from, to]);
    }
    return out;
  }

  /** Bytes held by the exact count tables of all windows (typed-array lengths). */
  get tableBytes(): number {
    return this.windows.reduce((a, w) => a + w.counts.tableBytes, 0);
  }

  /** An empty detail table with this accumulator's caps. */
  private table(): IpDetailTable {
    return new IpDetailTable(this.opts.maxPathsPerIp, this.opts.maxUserAgentsPerIp);
  }

  /** Halve the limit of window k until its sampled IPs fit the caps (IPs and detail units), then drop the rest in one rebuild. */
  private shrink(k: number): void {
    const w = this.windows[k]!;
    let ips = w.ips.size;
    let units = this.units[k]!;
    if (ips <= this.opts.maxIpsPerWindow && units <= this.maxDetailUnits) return;
    const hashes: number[] = [];
    const unitsOf: number[] = [];
    w.ips.forEachSlot((slot) => {
      hashes.push(w.ips.hashOf(slot));
      unitsOf.push(w.ips.units(slot));
    });
    let limit = w.limit;
    while (ips > this.opts.maxIpsPerWindow || units > this.maxDetailUnits) {
      limit /= 2;
      ips = 0;
      units = 0;
      for (let i = 0; i < hashes.length; i++) {
        if (hashes[i]! < limit) {
          ips++;
          units += unitsOf[i]!;
        }
      }
    }
    w.limit = limit;
    this.units[k]! -= w.ips.dropFrom(limit, (slot) => w.ips.toAggregate(slot, w.sampledOut));
  }

  /** Recounts the detail units of window k (after a merge). */
  private recount(k: number): void {
    this.units[k] = this.windows[k]!.ips.totalUnits();
  }

  /** Per window, the hash threshold of the per-IP detail sample (2^32: every IP). */
  detailLimits(): number[] {
    return this.windows.map((w) => w.limit);
  }

  /**
   * Lowers window k's sample threshold to `limits[k]` where that is lower (IPs past it go into the
   * window's sampled-out sums, as in a shrink). A threshold taken from another accumulator of the same
   * input (e.g. the main thread's, when a worker task starts) changes nothing in the merged result:
   * a part never needs a lower threshold than the whole, and the merge takes the lowest; it only
   * spares the task the detail of IPs the merge would drop (`urls`: up to 400,000 paths and agents a task).
   */
  lowerDetailLimits(limits: readonly number[]): void {
    this.windows.forEach((w, k) => {
      const l = limits[k];
      if (l === undefined || !(l < w.limit)) return;
      w.limit = l;
      this.units[k]! -= w.ips.dropFrom(l, (slot) => w.ips.toAggregate(slot, w.sampledOut));
    });
  }

  /** The detail pass: an accumulator over the same windows that tracks only `ips[w]` of window w. */
  detailFor(ips: readonly ReadonlySet<string>[]): WindowCounts {
    return new WindowCounts(this.windows, this.opts, ips);
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
    const maxUnits = this.maxDetailUnits;
    const units = this.units;
    const nIp = ip.values.length;
    if (this.scratchHash.length < nIp) {
      this.scratchHash = new Float64Array(Math.max(nIp, 2 * this.scratchHash.length));
      this.scratchV4 = new Float64Array(this.scratchHash.length);
    }
    // Per-batch scratch, reused across batches (no per-batch allocation in the common case).
    const ipHash = this.scratchHash.fill(-1, 0, nIp);
    /** Per dictionary id: the IPv4 key (≥ 0), -1 for other clients (their key in `keys`), -2 not yet parsed. */
    const v4 = this.scratchV4.fill(-2, 0, nIp);
    const keys: (ClientKey | undefined)[] = [];
    const pathAsset = new Int8Array(path.values.length).fill(-1);
    const queryRandom = new Int8Array(query.values.length).fill(-1);
    const refClass = new Int8Array(referer.values.length).fill(-1);
    const refHost: (string | null | undefined)[] = new Array(referer.values.length);
    const nPath = path.values.length;
    const nAgent = batch.userAgent.values.length;
    const fit = (list: Int32Array[], n: number): Int32Array[] => {
      while (list.length < nW) list.push(new Int32Array(0));
      for (let k = 0; k < nW; k++) {
        if (list[k]!.length < n) list[k] = new Int32Array(Math.max(n, 2 * list[k]!.length));
        list[k]!.fill(-1, 0, n);
      }
      return list;
    };
    const slotCache = (this.scratchSlot = fit(this.scratchSlot, nIp));
    const pathCache = (this.scratchPath = fit(this.scratchPath, nPath));
    const agentCache = (this.scratchAgent = fit(this.scratchAgent, nAgent));
    const only = this.only;
    let seg = -1;
    let segFrom = Infinity;
    let segTo = -Infinity;
    for (let i = 0; i < batch.length; i++) {
      const t = ts[i]!;
      if (!(t >= segFrom && t < segTo)) {
        if (!Number.isFinite(t)) continue;
        seg = this.segment(t);
        if (seg < 0) {
          segFrom = Infinity;
          segTo = -Infinity;
          continue;
        }
        segFrom = this.bounds[seg]!;
        segTo = this.bounds[seg + 1]!;
      }
      const roles = this.roles[seg]!;
      if (roles.length === 0) continue;
      const ipId = ip.ids[i]!;
      if (ipId < 0) continue;
      const ipStr = ip.values[ipId]!;
      if (only !== null) {
        for (let r = 0; r < roles.length; r += 2) {
          const wi = roles[r]!;
          if (roles[r + 1] !== ROLE_INSIDE || !only[wi]!.has(ipStr)) continue;
          const w = this.windows[wi]!;
          let s = w.heavy.slot(ipStr);
          if (s < 0) s = w.heavy.insert(ipStr, hashString(ipStr));
          this.detailInto(w.heavy, s, i, batch, pathAsset, queryRandom, refClass);
        }
        continue;
      }
      let v4Key = v4[ipId]!;
      if (v4Key === -2) {
        v4Key = v4[ipId] = ipStr.length <= 15 ? parseIpv4(ipStr) : -1;
        if (v4Key < 0) keys[ipId] = clientKey(ipStr);
      }
      const key = v4Key >= 0 ? null : keys[ipId]!;
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
          if (key === null) w.counts.addV4(v4Key, COUNT_REF);
          else w.counts.add(key, COUNT_REF);
          continue;
        }
        // inside
        if (key === null) w.counts.addV4(v4Key, COUNT_INSIDE);
        else w.counts.add(key, COUNT_INSIDE);
        const pId = path.ids[i]!;
        let asset = pId >= 0 ? pathAsset[pId]! : 0;
        if (asset < 0) asset = pathAsset[pId] = isAssetPath(capKey(path.values[pId]!)) ? 1 : 0;
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
        let s = slotCache[wi]![ipId]!;
        if (s < 0) {
          let h = ipHash[ipId]!;
          if (h < 0) h = ipHash[ipId] = hashString(ipStr);
          if (h < w.limit) {
            s = w.ips.slot(ipStr);
            if (s < 0) {
              s = w.ips.insert(ipStr, h);
              units[wi]!++;
            }
          } else {
            // No detail: the request goes into the window's sampled-out totals.
            const so = w.sampledOut;
            so.requests++;
            so.assets += asset;
            so.randomQuery += rq;
            if (rc === REF_NONE) so.refNone++;
            else if (rc === REF_SEARCH) so.refSearch++;
            else if (rc === REF_SOCIAL) so.refSocial++;
            else so.refOther++;
            if (st >= 400 && st < 500) so.errors4xx++;
            if (st >= 500) so.errors5xx++;
            if (st === 429 || st === 499 || st === 503) so.throttled++;
            continue;
          }
          slotCache[wi]![ipId] = s;
        }
        let pSid = pId >= 0 ? pathCache[wi]![pId]! : w.ips.intern('');
        if (pSid < 0) pSid = pathCache[wi]![pId] = w.ips.intern(capKey(path.values[pId]!));
        const uId = batch.userAgent.ids[i]!;
        let uSid = uId >= 0 ? agentCache[wi]![uId]! : w.ips.intern('');
        if (uSid < 0) uSid = agentCache[wi]![uId] = w.ips.intern(capKey(batch.userAgent.values[uId]!));
        units[wi]! += w.ips.hit(s, ts[i]!, ipKind[i]!, asset, rq, rc, st, pSid, uSid, bytesSent[i]!);
        if (w.ips.size > cap || units[wi]! > maxUnits) {
          this.shrink(wi);
          // Slots and string ids change when the table is rebuilt.
          for (let k = 0; k < nW; k++) {
            slotCache[k]!.fill(-1, 0, nIp);
            pathCache[k]!.fill(-1, 0, nPath);
            agentCache[k]!.fill(-1, 0, nAgent);
          }
        }
      }
    }
    for (let k = 0; k < nW; k++) this.windows[k]!.counts.spillIfFull();
  }

  /** Detail pass: one inside request of a tracked IP (slot `s` of `table`). */
  private detailInto(table: IpDetailTable, s: number, i: number, batch: RecordBatch, pathAsset: Int8Array, queryRandom: Int8Array, refClass: Int8Array): void {
    const { path, query, referer, userAgent } = batch;
    const pId = path.ids[i]!;
    const p = pId >= 0 ? capKey(path.values[pId]!) : '';
    let asset = pId >= 0 ? pathAsset[pId]! : 0;
    if (asset < 0) asset = pathAsset[pId] = isAssetPath(p) ? 1 : 0;
    const qId = query.ids[i]!;
    let rq = qId >= 0 ? queryRandom[qId]! : 0;
    if (rq < 0) rq = queryRandom[qId] = isRandomQuery(query.values[qId]!) ? 1 : 0;
    const rId = referer.ids[i]!;
    let rc = rId >= 0 ? refClass[rId]! : REF_NONE;
    if (rc < 0) rc = refClass[rId] = refererClass(referer.values[rId]!);
    const uId = userAgent.ids[i]!;
    const ua = uId >= 0 ? capKey(userAgent.values[uId]!) : '';
    table.hit(s, batch.ts[i]!, batch.ipKind[i]!, asset, rq, rc, batch.status[i]!, table.intern(p), table.intern(ua), batch.bytesSent[i]!);
  }

  /**
   * The state as plain data. A copy, unless `share`: then the detail Maps are this
   * accumulator's own (for posting from a worker thread that drops the accumulator).
   */
  snapshot(share = false): WindowCountsSnapshot {
    return {
      windows: this.windows.map((w) => {
        const { counts, ips, heavy, ...sums } = w;
        return { ...(share ? sums : structuredClone(sums)), ips: ips.pack(), heavy: heavy.pack(), counts: counts.snapshot() };
      }),
    };
  }

  /** A copy of this accumulator's shape holding the snapshot's counts (for merge). */
  withSnapshot(snap: WindowCountsSnapshot): WindowCounts {
    const c = new WindowCounts([], this.opts, this.only);
    if (snap.windows.length !== this.windows.length) throw new Error(`snapshot has ${snap.windows.length} windows, expected ${this.windows.length}`);
    for (const sw of snap.windows) {
      c.windows.push({ ...this.unpack(sw, false), counts: IpCounts.fromSnapshot(sw.counts, undefined, this.spill) });
      c.units.push(0);
      c.recount(c.windows.length - 1);
    }
    return c;
  }

  /** Adds another accumulator's state (which stays as it was). */
  merge(other: WindowCounts): void {
    this.windows.forEach((_, k) => this.mergeWindow(k, other.windows[k]!, other.windows[k]!.counts, false));
  }

  /**
   * As merge, but a window of this accumulator that is still empty takes over the other's
   * tables and Maps instead of copying them: `other` must not be used afterwards.
   */
  absorb(other: WindowCounts): void {
    this.windows.forEach((_, k) => this.mergeWindow(k, other.windows[k]!, other.windows[k]!.counts, true));
  }

  /**
   * Adds a snapshot's state (as `merge(withSnapshot(snap))`, without the intermediate
   * accumulator). `owned`: the snapshot is the caller's to give away (e.g. just received from a
   * worker): its Maps are taken over, not copied, and it must not be used afterwards.
   */
  mergeSnapshot(snap: WindowCountsSnapshot, owned = false): void {
    if (snap.windows.length !== this.windows.length) throw new Error(`snapshot has ${snap.windows.length} windows, expected ${this.windows.length}`);
    snap.windows.forEach((sw, k) => this.mergeWindow(k, this.unpack(sw, owned), sw.counts, owned));
  }

  /** A snapshot window's detail as live tables; `owned`: its arrays and Maps are taken over, else copied. */
  private unpack(sw: WindowCountsSnapshot['windows'][number], owned: boolean): WindowDetail {
    const { counts: _counts, ips, heavy, ...sums } = sw;
    const { maxPathsPerIp: p, maxUserAgentsPerIp: a } = this.opts;
    return {
      ...(owned ? sums : structuredClone(sums)),
      ips: IpDetailTable.unpack(owned ? ips : clonePacked(ips), p, a), heavy: IpDetailTable.unpack(owned ? heavy : clonePacked(heavy), p, a),
    };
  }

  /** True while window k has seen nothing (no count, no detail, no sum). */
  private pristine(w: WindowState): boolean {
    const c = w.counts;
    return c.empty && w.limit === FULL && w.ips.size === 0 && w.heavy.size === 0 &&
      w.inside.requests === 0 && w.reference.requests === 0 && w.sampledOut.requests === 0 && w.refererHosts.size === 0 && w.refererHostsDropped === 0;
  }

  /** Merges window k of another state; `take`: its Maps may be taken over when window k is still empty. */
  private mergeWindow(k: number, o: WindowDetail, oCounts: IpCounts | IpCountsSnapshot, take: boolean): void {
    const w = this.windows[k]!;
    if (take && this.pristine(w) && o.refererHosts.size <= this.opts.maxRefererHosts) {
      // Merging into an empty window gives the other's state: use it as it is.
      const next: WindowState = {
        insideFromMs: w.insideFromMs, insideToMs: w.insideToMs, refBefore: w.refBefore, refAfter: w.refAfter, refDurationMs: w.refDurationMs,
        limit: o.limit, ips: o.ips, heavy: o.heavy, inside: o.inside, reference: o.reference, sampledOut: o.sampledOut,
        refererHosts: o.refererHosts, refererHostsDropped: o.refererHostsDropped,
        counts: oCounts instanceof IpCounts ? oCounts : IpCounts.fromSnapshot(oCounts, undefined, this.spill, true),
      };
      this.windows[k] = next;
      this.recount(k);
      this.shrink(k);
      return;
    }
    if (oCounts instanceof IpCounts) w.counts.merge(oCounts, take);
    else w.counts.mergeSnapshot(oCounts, take);
    addAggregate(w.inside, o.inside);
    addAggregate(w.reference, o.reference);
    addAggregate(w.sampledOut, o.sampledOut);
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
      w.ips.dropFrom(limit, (slot) => w.ips.toAggregate(slot, w.sampledOut));
    }
    w.ips.mergeFrom(o.ips, limit, (slot) => o.ips.toAggregate(slot, w.sampledOut));
    w.heavy.mergeFrom(o.heavy, FULL);
    this.recount(k);
    this.shrink(k);
  }
}
