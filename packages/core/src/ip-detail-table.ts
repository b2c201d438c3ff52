/**
 * The per-IP detail of a window (what `IpWindowStats` holds: sums, first/last seen, and the IP's
 * paths, user agents and statuses with their counts) for up to ~100,000 IPs, kept in typed
 * arrays instead of one object and three arrays per IP.
 *
 * Measured on the 50M-line bench corpus (10M distinct IPs, a window of 105,306 IPs sampled to
 * ~59,000): the object form took ~54 MB of the main thread's heap (objects, boxed numbers,
 * property and element arrays, and each path and agent string once per batch that brought it),
 * about 900 bytes an IP, and as much again in each worker and in each structured-clone copy
 * between them. Here an IP is one slot: 11 doubles, a kind byte, three list heads, and its
 * list entries (key id, count, random-query count: 24 bytes each) in one shared arena; paths
 * and agents are interned once per window (`strs`). A snapshot (`pack`) is a handful of typed
 * arrays, posted between threads by transfer, plus the IP and string lists.
 *
 * Readers get the familiar `IpWindowStats` objects (`get`, `values`, made on demand); merging and
 * sampling work on the slots. All sums, so merge is exact and order-independent (list order is
 * first-seen order, as in the object form).
 */
import { REF_NONE, REF_SEARCH, REF_SOCIAL } from './request-traits.ts';
import { type IpWindowStats, type KeyCounts, type PathCounts, type WindowAggregate } from './ip-window-stats.ts';

/** Doubles per slot. */
const F = 11;
const HASH = 0;
const REQ = 1;
const FIRST = 2;
const LAST = 3;
const ASSETS = 4;
const RQ = 5;
const REF_NONE_N = 6;
const REF_SEARCH_N = 7;
const REF_SOCIAL_N = 8;
const REF_OTHER_N = 9;
const BYTES = 10;

/** The three lists of a slot. */
const PATHS = 0;
const AGENTS = 1;
const STATUSES = 2;
/** A list head: empty. */
const EMPTY = -1;
/** A list head: more distinct keys than the cap (`null` in IpWindowStats). */
const MANY = -2;
/** Hash of a removed slot (live hashes are in [0, 2^32)). */
const DEAD = -1;

/** A table as plain data: typed arrays (transferable) plus the IP and string lists. Lists are contiguous per slot. */
export interface PackedIpDetail {
  /** IP per slot. */
  readonly ips: readonly string[];
  /** `F` doubles per slot: hash, requests, first ms, last ms, assets, random-query, referer none/search/social/other, bytes. */
  readonly num: Float64Array;
  readonly kind: Uint8Array;
  /** Per slot and list (paths, agents, statuses): entry start and count; count -1 = more than the cap. */
  readonly lists: Int32Array;
  /** Per entry: string id (paths, agents) or status code. */
  readonly key: Int32Array;
  readonly count: Float64Array;
  /** Per entry: random-query requests (paths; 0 for the others). */
  readonly rq: Float64Array;
  /** Interned paths and user agents. */
  readonly strs: readonly string[];
}

/** The typed arrays of a packed table (its transfer list). */
export function packedBuffers(p: PackedIpDetail): ArrayBuffer[] {
  return [p.num, p.kind, p.lists, p.key, p.count, p.rq].map((a) => a.buffer as ArrayBuffer);
}

function grow<T extends Float64Array | Int32Array | Uint8Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const out = new (a.constructor as new (n: number) => T)(Math.max(need, 2 * a.length, 16));
  out.set(a);
  return out;
}

export class IpDetailTable {
  readonly maxPaths: number;
  readonly maxAgents: number;
  private ipOf: string[] = [];
  private slotOf = new Map<string, number>();
  private num: Float64Array = new Float64Array(0);
  private kindOf: Uint8Array = new Uint8Array(0);
  /** Per slot × 3 lists: first entry (or EMPTY / MANY), last entry, entries. */
  private head: Int32Array = new Int32Array(0);
  private tail: Int32Array = new Int32Array(0);
  private len: Int32Array = new Int32Array(0);
  private eKey: Int32Array = new Int32Array(0);
  private eNext: Int32Array = new Int32Array(0);
  private eCount: Float64Array = new Float64Array(0);
  private eRq: Float64Array = new Float64Array(0);
  private entries = 0;
  /** Slots used, removed ones included. */
  private n = 0;
  private dead = 0;
  private strs: string[] = [];
  private sid = new Map<string, number>();

  constructor(maxPaths: number, maxAgents: number) {
    this.maxPaths = maxPaths;
    this.maxAgents = maxAgents;
  }

  /** Live IPs. */
  get size(): number {
    return this.n - this.dead;
  }

  /** Slot of `ip`, -1 when absent. */
  slot(ip: string): number {
    return this.slotOf.get(ip) ?? -1;
  }

  has(ip: string): boolean {
    return this.slotOf.has(ip);
  }

  hashOf(slot: number): number {
    return this.num[slot * F + HASH]!;
  }

  /** Id of a path or user agent in this table's string list (interned on first use). */
  intern(s: string): number {
    let id = this.sid.get(s);
    if (id === undefined) {
      id = this.strs.length;
      this.strs.push(s);
      this.sid.set(s, id);
    }
    return id;
  }

  /** A new slot for `ip` (which must be absent). */
  insert(ip: string, hash: number): number {
    const s = this.n++;
    if (this.num.length < this.n * F) {
      const cap = Math.max(16, 2 * (this.num.length / F));
      this.num = grow(this.num, cap * F);
      this.kindOf = grow(this.kindOf, cap);
      this.head = grow(this.head, cap * 3);
      this.tail = grow(this.tail, cap * 3);
      this.len = grow(this.len, cap * 3);
    }
    const o = s * F;
    this.num.fill(0, o, o + F);
    this.num[o + HASH] = hash;
    this.num[o + FIRST] = Infinity;
    this.num[o + LAST] = -Infinity;
    this.kindOf[s] = 0;
    this.head.fill(EMPTY, s * 3, s * 3 + 3);
    this.tail.fill(EMPTY, s * 3, s * 3 + 3);
    this.len.fill(0, s * 3, s * 3 + 3);
    this.ipOf[s] = ip;
    this.slotOf.set(ip, s);
    return s;
  }

  /**
   * One request of the IP in `slot`; `path` and `agent` are ids from `intern`. Returns the detail
   * units it added (1 per new path or agent kept; see `units`).
   */
  hit(slot: number, t: number, kind: number, asset: number, rq: number, refClass: number, status: number, path: number, agent: number, bytes: number): number {
    const o = slot * F;
    const num = this.num;
    num[o + REQ]!++;
    if (t < num[o + FIRST]!) num[o + FIRST] = t;
    if (t > num[o + LAST]!) num[o + LAST] = t;
    num[o + ASSETS]! += asset;
    num[o + RQ]! += rq;
    // REF_NONE 0, REF_SEARCH 1, REF_SOCIAL 2, anything else counts as other (as in IpWindowStats).
    num[o + REF_NONE_N + (refClass === REF_NONE || refClass === REF_SEARCH || refClass === REF_SOCIAL ? refClass : 3)]!++;
    if (bytes > 0) num[o + BYTES]! += bytes;
    this.kindOf[slot] = kind;
    this.add(slot, STATUSES, status, 1, 0, Infinity);
    return this.add(slot, PATHS, path, 1, rq, this.maxPaths) + this.add(slot, AGENTS, agent, 1, 0, this.maxAgents);
  }

  /**
   * Adds `n` (and `rq`) to `key` in list `l` of `slot`; a new key is appended while fewer than
   * `max` are held, else the list becomes MANY. Returns 1 when a key was appended.
   */
  private add(slot: number, l: number, key: number, n: number, rq: number, max: number): number {
    const at = slot * 3 + l;
    let e = this.head[at]!;
    if (e === MANY) return 0;
    for (; e >= 0; e = this.eNext[e]!) {
      if (this.eKey[e] === key) {
        this.eCount[e]! += n;
        this.eRq[e]! += rq;
        return 0;
      }
    }
    if (this.len[at]! >= max) {
      this.head[at] = MANY;
      this.tail[at] = MANY;
      this.len[at] = 0;
      return 0;
    }
    const x = this.entries++;
    if (this.eKey.length <= x) {
      this.eKey = grow(this.eKey, x + 1);
      this.eNext = grow(this.eNext, x + 1);
      this.eCount = grow(this.eCount, x + 1);
      this.eRq = grow(this.eRq, x + 1);
    }
    this.eKey[x] = key;
    this.eNext[x] = -1;
    this.eCount[x] = n;
    this.eRq[x] = rq;
    const last = this.tail[at]!;
    if (last === EMPTY) this.head[at] = x;
    else this.eNext[last] = x;
    this.tail[at] = x;
    this.len[at]!++;
    return 1;
  }

  /**
   * The detail units of a slot: 1, plus its distinct paths and agents (a list past its cap counts
   * as full). They only grow as requests are added or merged, and their final value depends only on
   * the IP's requests (not on their order), so a sample cut on them is order-independent too.
   */
  units(slot: number): number {
    const at = slot * 3;
    return 1 + (this.head[at + PATHS] === MANY ? this.maxPaths : this.len[at + PATHS]!) + (this.head[at + AGENTS] === MANY ? this.maxAgents : this.len[at + AGENTS]!);
  }

  /** The detail units of all live slots. */
  totalUnits(): number {
    let u = 0;
    for (let s = 0; s < this.n; s++) if (this.num[s * F + HASH] !== DEAD) u += this.units(s);
    return u;
  }

  /** Adds a slot's requests into window totals (requests, sums, error and throttled statuses). */
  toAggregate(slot: number, into: WindowAggregate): void {
    const o = slot * F;
    const num = this.num;
    into.requests += num[o + REQ]!;
    into.assets += num[o + ASSETS]!;
    into.randomQuery += num[o + RQ]!;
    into.refNone += num[o + REF_NONE_N]!;
    into.refSearch += num[o + REF_SEARCH_N]!;
    into.refSocial += num[o + REF_SOCIAL_N]!;
    into.refOther += num[o + REF_OTHER_N]!;
    for (let e = this.head[slot * 3 + STATUSES]!; e >= 0; e = this.eNext[e]!) {
      const st = this.eKey[e]!;
      const c = this.eCount[e]!;
      if (st >= 400 && st < 500) into.errors4xx += c;
      if (st >= 500) into.errors5xx += c;
      if (st === 429 || st === 499 || st === 503) into.throttled += c;
    }
  }

  /**
   * Removes every IP whose hash is at or past `limit`, after `onRemoved` (e.g. toAggregate) saw
   * it; then rebuilds the arrays without them. Returns the detail units removed.
   */
  dropFrom(limit: number, onRemoved: (slot: number) => void): number {
    let removed = 0;
    for (let s = 0; s < this.n; s++) {
      const h = this.num[s * F + HASH]!;
      if (h === DEAD || h < limit) continue;
      onRemoved(s);
      removed += this.units(s);
      this.num[s * F + HASH] = DEAD;
      this.slotOf.delete(this.ipOf[s]!);
      this.dead++;
    }
    if (removed > 0) this.compact();
    return removed;
  }

  /** Rewrites the table without removed slots, dead entries and unused strings (slot and string ids change). */
  private compact(): void {
    const out = new IpDetailTable(this.maxPaths, this.maxAgents);
    out.mergeFrom(this, 2 ** 32);
    Object.assign(this, out);
  }

  /**
   * Adds the IPs of `other` whose hash is under `limit` (sums; lists merged by key, then
   * MANY when past the cap); `onSkipped` sees the others.
   */
  mergeFrom(other: IpDetailTable, limit: number, onSkipped?: (slot: number) => void): void {
    const map = new Int32Array(other.strs.length).fill(-1);
    const on = other.num;
    for (let os = 0; os < other.n; os++) {
      const oo = os * F;
      const h = on[oo + HASH]!;
      if (h === DEAD) continue;
      if (h >= limit) {
        onSkipped?.(os);
        continue;
      }
      let s = this.slot(other.ipOf[os]!);
      if (s < 0) s = this.insert(other.ipOf[os]!, h);
      const o = s * F;
      const num = this.num;
      num[o + REQ]! += on[oo + REQ]!;
      num[o + FIRST] = Math.min(num[o + FIRST]!, on[oo + FIRST]!);
      num[o + LAST] = Math.max(num[o + LAST]!, on[oo + LAST]!);
      for (let f = ASSETS; f <= BYTES; f++) num[o + f]! += on[oo + f]!;
      this.kindOf[s] = Math.max(this.kindOf[s]!, other.kindOf[os]!);
      for (let l = 0; l < 3; l++) {
        const at = s * 3 + l;
        if (this.head[at] === MANY) continue;
        const oh = other.head[os * 3 + l]!;
        if (oh === MANY) {
          this.head[at] = MANY;
          this.tail[at] = MANY;
          this.len[at] = 0;
          continue;
        }
        for (let e = oh; e >= 0; e = other.eNext[e]!) {
          let k = other.eKey[e]!;
          if (l !== STATUSES) {
            let m = map[k]!;
            if (m < 0) m = map[k] = this.intern(other.strs[k]!);
            k = m;
          }
          this.add(s, l, k, other.eCount[e]!, other.eRq[e]!, Infinity);
        }
        const max = l === PATHS ? this.maxPaths : l === AGENTS ? this.maxAgents : Infinity;
        if (this.len[at]! > max) {
          this.head[at] = MANY;
          this.tail[at] = MANY;
          this.len[at] = 0;
        }
      }
    }
  }

  /** The IP of a slot as IpWindowStats (a new object). */
  stats(slot: number): IpWindowStats {
    const o = slot * F;
    const num = this.num;
    const at = slot * 3;
    const list = (l: number, withRq: boolean, strings: boolean): (string | number)[] | null => {
      if (this.head[at + l] === MANY) return null;
      // Sized up front: a list grown by push holds ~17 slots from its first push, and finish holds up to
      // 100,000 of these objects per window at once (3 lists each: ~40 MB of spare slots).
      let n = 0;
      for (let e = this.head[at + l]!; e >= 0; e = this.eNext[e]!) n++;
      const stride = withRq ? 3 : 2;
      const out = new Array<string | number>(n * stride);
      let i = 0;
      for (let e = this.head[at + l]!; e >= 0; e = this.eNext[e]!, i += stride) {
        out[i] = strings ? this.strs[this.eKey[e]!]! : this.eKey[e]!;
        out[i + 1] = this.eCount[e]!;
        if (withRq) out[i + 2] = this.eRq[e]!;
      }
      return out;
    };
    return {
      ip: this.ipOf[slot]!, hash: num[o + HASH]!, ipKind: this.kindOf[slot]!, requests: num[o + REQ]!, firstMs: num[o + FIRST]!, lastMs: num[o + LAST]!,
      assets: num[o + ASSETS]!, randomQuery: num[o + RQ]!, refNone: num[o + REF_NONE_N]!, refSearch: num[o + REF_SEARCH_N]!,
      refSocial: num[o + REF_SOCIAL_N]!, refOther: num[o + REF_OTHER_N]!, bytes: num[o + BYTES]!,
      paths: list(PATHS, true, true) as PathCounts | null, userAgents: list(AGENTS, false, true) as KeyCounts<string> | null,
      statuses: (list(STATUSES, false, false) ?? []) as KeyCounts<number>,
    };
  }

  get(ip: string): IpWindowStats | undefined {
    const s = this.slotOf.get(ip);
    return s === undefined ? undefined : this.stats(s);
  }

  /** Calls `f` with every live slot. */
  forEachSlot(f: (slot: number) => void): void {
    for (let s = 0; s < this.n; s++) if (this.num[s * F + HASH] !== DEAD) f(s);
  }

  *keys(): IterableIterator<string> {
    for (let s = 0; s < this.n; s++) if (this.num[s * F + HASH] !== DEAD) yield this.ipOf[s]!;
  }

  /** Every live IP as IpWindowStats (new objects), in slot order. */
  *values(): IterableIterator<IpWindowStats> {
    for (let s = 0; s < this.n; s++) if (this.num[s * F + HASH] !== DEAD) yield this.stats(s);
  }

  /** Adds an IpWindowStats (e.g. built from SQL rows) as a new slot. */
  addStats(st: IpWindowStats): void {
    if (this.slotOf.has(st.ip)) throw new Error(`ip detail: ${JSON.stringify(st.ip)} came twice`);
    const s = this.insert(st.ip, st.hash);
    const o = s * F;
    const num = this.num;
    num[o + REQ] = st.requests;
    num[o + FIRST] = st.firstMs;
    num[o + LAST] = st.lastMs;
    num[o + ASSETS] = st.assets;
    num[o + RQ] = st.randomQuery;
    num[o + REF_NONE_N] = st.refNone;
    num[o + REF_SEARCH_N] = st.refSearch;
    num[o + REF_SOCIAL_N] = st.refSocial;
    num[o + REF_OTHER_N] = st.refOther;
    num[o + BYTES] = st.bytes;
    this.kindOf[s] = st.ipKind;
    const fill = (l: number, c: readonly (string | number)[] | null, stride: number): void => {
      if (c === null) {
        this.head[s * 3 + l] = MANY;
        this.tail[s * 3 + l] = MANY;
        return;
      }
      for (let i = 0; i < c.length; i += stride) {
        const k = typeof c[i] === 'string' ? this.intern(c[i] as string) : (c[i] as number);
        this.add(s, l, k, c[i + 1] as number, stride === 3 ? (c[i + 2] as number) : 0, Infinity);
      }
    };
    fill(PATHS, st.paths, 3);
    fill(AGENTS, st.userAgents, 2);
    fill(STATUSES, st.statuses, 2);
  }

  /** A table of the given IpWindowStats. */
  static of(stats: Iterable<IpWindowStats>, maxPaths: number, maxAgents: number): IpDetailTable {
    const t = new IpDetailTable(maxPaths, maxAgents);
    for (const s of stats) t.addStats(s);
    return t;
  }

  /** The live slots as plain data (new arrays; the table is unchanged). */
  pack(): PackedIpDetail {
    const size = this.size;
    const ips: string[] = [];
    const num = new Float64Array(size * F);
    const kind = new Uint8Array(size);
    const lists = new Int32Array(size * 6);
    let nEntries = 0;
    for (let s = 0; s < this.n; s++) {
      if (this.num[s * F + HASH] === DEAD) continue;
      for (let l = 0; l < 3; l++) nEntries += this.head[s * 3 + l] === MANY ? 0 : this.len[s * 3 + l]!;
    }
    const key = new Int32Array(nEntries);
    const count = new Float64Array(nEntries);
    const rq = new Float64Array(nEntries);
    const strMap = new Int32Array(this.strs.length).fill(-1);
    const strs: string[] = [];
    let d = 0;
    let x = 0;
    for (let s = 0; s < this.n; s++) {
      if (this.num[s * F + HASH] === DEAD) continue;
      ips.push(this.ipOf[s]!);
      num.set(this.num.subarray(s * F, s * F + F), d * F);
      kind[d] = this.kindOf[s]!;
      for (let l = 0; l < 3; l++) {
        const h = this.head[s * 3 + l]!;
        lists[d * 6 + 2 * l] = x;
        if (h === MANY) {
          lists[d * 6 + 2 * l + 1] = -1;
          continue;
        }
        const start = x;
        for (let e = h; e >= 0; e = this.eNext[e]!) {
          let k = this.eKey[e]!;
          if (l !== STATUSES) {
            let m = strMap[k]!;
            if (m < 0) {
              m = strMap[k] = strs.length;
              strs.push(this.strs[k]!);
            }
            k = m;
          }
          key[x] = k;
          count[x] = this.eCount[e]!;
          rq[x] = this.eRq[e]!;
          x++;
        }
        lists[d * 6 + 2 * l + 1] = x - start;
      }
      d++;
    }
    return { ips, num, kind, lists, key, count, rq, strs };
  }

  /** A table of packed data. Its typed arrays are taken over, not copied: the packed object must not be used afterwards. */
  static unpack(p: PackedIpDetail, maxPaths: number, maxAgents: number): IpDetailTable {
    const t = new IpDetailTable(maxPaths, maxAgents);
    const size = p.ips.length;
    if (p.num.length !== size * F || p.kind.length !== size || p.lists.length !== size * 6) throw new Error('packed ip detail: array lengths do not match its IPs');
    const nEntries = p.key.length;
    if (p.count.length !== nEntries || p.rq.length !== nEntries) throw new Error('packed ip detail: entry arrays differ in length');
    t.ipOf = [...p.ips];
    t.num = p.num;
    t.kindOf = p.kind;
    t.n = size;
    t.head = new Int32Array(size * 3);
    t.tail = new Int32Array(size * 3);
    t.len = new Int32Array(size * 3);
    t.eKey = p.key;
    t.eCount = p.count;
    t.eRq = p.rq;
    t.eNext = new Int32Array(nEntries);
    t.entries = nEntries;
    t.strs = [...p.strs];
    for (let i = 0; i < t.strs.length; i++) t.sid.set(t.strs[i]!, i);
    for (let s = 0; s < size; s++) {
      t.slotOf.set(t.ipOf[s]!, s);
      for (let l = 0; l < 3; l++) {
        const start = p.lists[s * 6 + 2 * l]!;
        const n = p.lists[s * 6 + 2 * l + 1]!;
        const at = s * 3 + l;
        if (n < 0) {
          t.head[at] = MANY;
          t.tail[at] = MANY;
          continue;
        }
        if (start < 0 || start + n > nEntries) throw new Error('packed ip detail: a list runs past the entries');
        t.len[at] = n;
        t.head[at] = n === 0 ? EMPTY : start;
        t.tail[at] = n === 0 ? EMPTY : start + n - 1;
        for (let e = start; e < start + n; e++) t.eNext[e] = e + 1 < start + n ? e + 1 : -1;
      }
    }
    if (t.slotOf.size !== size) throw new Error('packed ip detail: an IP came twice');
    return t;
  }
}
