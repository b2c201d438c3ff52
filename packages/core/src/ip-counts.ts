/**
 * Exact per-IP request counts of one burst window: requests inside the window
 * and in its reference periods, for every client, in open-addressing hash
 * tables on typed arrays (no object per IP).
 *
 * Keys are the client text exactly as logged (two spellings of one address are
 * two clients, as everywhere in core):
 * - canonical dotted IPv4 (no other spelling is accepted) as one u32 word:
 *   8 bytes per slot (key + two u16 counts, interleaved);
 * - IPv6 whose text is its RFC 5952 form, as four u32 words: 20 bytes per slot;
 * - anything else (host names, other spellings) in a Map keyed by the text, up
 *   to `maxOtherKeys` (200,000); past it such clients are counted only in totals
 *   and the result says so (`otherDropped*`).
 * Counts are u16 per slot; a count that reaches 65,535 continues in a Map keyed
 * by the key (few IPs are that heavy: at most requests / 65,535 of them).
 * Tables double at 70% load, so memory is about 8 / 0.35..0.7 bytes per IPv4
 * client (11-23 B; 134 MB at 10M distinct IPv4 in 2^24 slots). Each address family is
 * split into 16 tables by a hash of the key (`SHARDS`), which grow one at a time: growing
 * copies one sixteenth of the slots, where one table copied them all at once (at 2^24
 * single-request clients, the 134 MB old table was held next to the new 268 MB one).
 *
 * With a spill directory (`CountsSpill`), the tables are bounded: when they pass their budget
 * they are written out as a sorted run (count-runs.ts) and start again empty, and the runs are
 * merged when read (`forEach`, `get`, `size` first compact them into one run). Without one,
 * every client stays in memory.
 *
 * All counts are sums, so add and merge commute: the state depends only on the
 * multiset of requests. In SQL: `SELECT ip, countIf(inside), countIf(ref) …
 * GROUP BY ip`.
 */
import { formatIpv4, formatIpv6, parseIpv4Number } from '@alf/geo';
import { AlfError } from '@alf/parser';
import { compactRuns, removeRun, runBytes, runPath, RunCursor, RunIndex, RunWriter, type CountRun } from './count-runs.ts';

export const ROLE_INSIDE = 0;
export const ROLE_REF = 1;

const SAT = 0xffff;
const INITIAL_SLOTS = 1 << 6;
/** Tables per address family (a power of two). */
const SHARDS = 16;
const SHARD_SHIFT = 32 - Math.log2(SHARDS);

/** The table of an IPv4 key (top bits of a multiplicative hash; WordTable's own hash picks the slot). */
function shardOf4(k0: number): number {
  return Math.imul(k0 ^ (k0 >>> 16), 0x9e3779b1) >>> SHARD_SHIFT;
}

function shardOf6(k0: number, k1: number, k2: number, k3: number): number {
  return shardOf4(k0 ^ Math.imul(k1, 0x85ebca6b) ^ Math.imul(k2, 0xc2b2ae35) ^ Math.imul(k3, 0x27d4eb2f));
}

const shards = (w: number): WordTable[] => Array.from({ length: SHARDS }, () => new WordTable(w));
const MAX_LOAD = 0.7;
/** Runs an IpCounts keeps before it merges them into one. */
const MAX_RUNS = 32;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Where and past what size the count tables are written out as sorted runs. */
export interface CountsSpill {
  /** A scratch directory its owner removes (the runs are not removed one by one when the process ends). */
  readonly dir: string;
  /** Bytes of count tables (`tableBytes`) past which they are written out. */
  readonly tableBytes: number;
}

/** One window's exact per-IP counts as plain data (structured-clone safe; GROUP BY ip). */
export interface IpCountsSnapshot {
  /** IPv4 keys (u32), in no particular order; `ipv4Inside[i]`, `ipv4Ref[i]` are their counts. */
  readonly ipv4: Uint32Array;
  readonly ipv4Inside: Uint32Array;
  readonly ipv4Ref: Uint32Array;
  /** IPv6 keys as 4 big-endian u32 words each (length 4 × n); counts per key. */
  readonly ipv6: Uint32Array;
  readonly ipv6Inside: Uint32Array;
  readonly ipv6Ref: Uint32Array;
  /** Other client texts and their counts. */
  readonly other: readonly string[];
  readonly otherInside: Uint32Array;
  readonly otherRef: Uint32Array;
  /** Requests of "other" clients not kept per client (past maxOtherKeys). */
  readonly otherDroppedInside: number;
  readonly otherDroppedRef: number;
  /**
   * Counts written out as sorted runs (`CountsSpill`), added to the tables' counts. The files go
   * with the snapshot: whoever merges it as owned (`mergeSnapshot(s, true)`) may remove them.
   */
  readonly runs?: readonly CountRun[];
}

/**
 * Open-addressing table (linear probing) with `w`-word u32 keys and two saturating
 * u16 counts, interleaved in one Uint32Array so that a probe touches one cache line:
 * slot s is words [s·(w+1), s·(w+1)+w) of key and one word of counts (inside in the
 * low half, reference in the high half). A slot is empty while its counts word is 0.
 */
class WordTable {
  readonly w: number;
  readonly stride: number;
  data: Uint32Array;
  size = 0;
  mask: number;
  /** Full counts of keys whose slot count saturated (key text → count). */
  readonly bigInside: Map<string, number> = new Map();
  readonly bigRef: Map<string, number> = new Map();

  constructor(w: number, slots: number = INITIAL_SLOTS) {
    this.w = w;
    this.stride = w + 1;
    this.data = new Uint32Array(slots * this.stride);
    this.mask = slots - 1;
  }

  get bytes(): number {
    return this.data.byteLength;
  }

  private static hash(k0: number, k1: number, k2: number, k3: number): number {
    let h = Math.imul(k0 ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 15) ^ k1, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 13) ^ k2, 0x27d4eb2f);
    h = Math.imul(h ^ (h >>> 16) ^ k3, 0x165667b1);
    return (h ^ (h >>> 15)) >>> 0;
  }

  used(s: number): boolean {
    return this.data[s * this.stride + this.w] !== 0;
  }

  key(s: number, k: number): number {
    return this.data[s * this.stride + k]!;
  }

  /** Slot of the key, claiming an empty one when absent (the caller adds a count right away). */
  slot(k0: number, k1: number, k2: number, k3: number): number {
    if (this.size >= this.mask * MAX_LOAD) this.grow();
    const w = this.w;
    const st = this.stride;
    const d = this.data;
    let s = WordTable.hash(k0, k1, k2, k3) & this.mask;
    for (;;) {
      const at = s * st;
      if (d[at + w] === 0) {
        d[at] = k0;
        if (w === 4) {
          d[at + 1] = k1;
          d[at + 2] = k2;
          d[at + 3] = k3;
        }
        this.size++;
        return s;
      }
      if (d[at] === k0 && (w === 1 || (d[at + 1] === k1 && d[at + 2] === k2 && d[at + 3] === k3))) return s;
      s = (s + 1) & this.mask;
    }
  }

  /** Slot of the key or -1. */
  find(k0: number, k1: number, k2: number, k3: number): number {
    const w = this.w;
    const st = this.stride;
    const d = this.data;
    let s = WordTable.hash(k0, k1, k2, k3) & this.mask;
    for (;;) {
      const at = s * st;
      if (d[at + w] === 0) return -1;
      if (d[at] === k0 && (w === 1 || (d[at + 1] === k1 && d[at + 2] === k2 && d[at + 3] === k3))) return s;
      s = (s + 1) & this.mask;
    }
  }

  private bigKey(s: number): string {
    const at = s * this.stride;
    const d = this.data;
    return this.w === 1 ? String(d[at]) : `${d[at]}:${d[at + 1]}:${d[at + 2]}:${d[at + 3]}`;
  }

  /** Adds `n` to a count of slot `s`; returns the new count. */
  addAt(s: number, role: number, n: number): number {
    const at = s * this.stride + this.w;
    const word = this.data[at]!;
    const shift = role === ROLE_INSIDE ? 0 : 16;
    const c = (word >>> shift) & SAT;
    if (c + n < SAT) {
      this.data[at] = (word + (n << shift)) >>> 0;
      return c + n;
    }
    const big = role === ROLE_INSIDE ? this.bigInside : this.bigRef;
    const k = this.bigKey(s);
    const v = (c === SAT ? big.get(k)! : c) + n;
    this.data[at] = (word | (SAT << shift)) >>> 0;
    big.set(k, v);
    return v;
  }

  /** One inside or reference request of an IPv4 key (the hot path). */
  add1(k0: number, role: number): number {
    if (this.size >= this.mask * MAX_LOAD) this.grow();
    const d = this.data;
    let s = WordTable.hash(k0, 0, 0, 0) & this.mask;
    for (;;) {
      const at = s * 2;
      const word = d[at + 1]!;
      if (word === 0 || d[at] === k0) {
        if (word === 0) {
          d[at] = k0;
          this.size++;
        }
        const shift = role === ROLE_INSIDE ? 0 : 16;
        const c = (word >>> shift) & SAT;
        if (c + 1 < SAT) {
          d[at + 1] = (word + (1 << shift)) >>> 0;
          return c + 1;
        }
        return this.addAt(s, role, 1);
      }
      s = (s + 1) & this.mask;
    }
  }

  countAt(s: number, role: number): number {
    const c = (this.data[s * this.stride + this.w]! >>> (role === ROLE_INSIDE ? 0 : 16)) & SAT;
    return c === SAT ? (role === ROLE_INSIDE ? this.bigInside : this.bigRef).get(this.bigKey(s))! : c;
  }

  /**
   * Grows the table until `n` keys fit under the load limit. Merging calls it first: keys
   * taken in another table's slot order arrive sorted by hash, and linear probing would
   * pile them into one stretch of a table that is about to grow.
   */
  reserve(n: number): void {
    while (n >= this.mask * MAX_LOAD) this.grow();
  }

  private grow(): void {
    const old = this.data;
    const st = this.stride;
    const w = this.w;
    const slots = (this.mask + 1) * 2;
    this.data = new Uint32Array(slots * st);
    this.mask = slots - 1;
    this.size = 0;
    for (let at = 0; at < old.length; at += st) {
      const counts = old[at + w]!;
      if (counts === 0) continue;
      const t = w === 1 ? this.slot(old[at]!, 0, 0, 0) : this.slot(old[at]!, old[at + 1]!, old[at + 2]!, old[at + 3]!);
      this.data[t * st + w] = counts;
    }
  }
}

/** A failed write or read of count runs, as the error a user can act on (a full or unwritable scratch directory). */
function runError(dir: string, e: unknown): AlfError {
  if (e instanceof AlfError) return e;
  const why = e instanceof Error ? e.message : String(e);
  return new AlfError('ALF_OUTPUT_UNWRITABLE', `cannot write the per-IP count runs of pass 2 to ${dir}: ${why} (free space there, or point TMPDIR at a file system with room: about 12 bytes per distinct client)`, { dir });
}

/** Exact inside / reference request counts per client of one window. */
export class IpCounts {
  /** IPv4 keys by `shardOf4`, IPv6 keys by `shardOf6`. */
  private v4: WordTable[] = shards(1);
  private v6: WordTable[] = shards(4);
  readonly other: Map<string, number[]> = new Map();
  readonly maxOtherKeys: number;
  otherDroppedInside = 0;
  otherDroppedRef = 0;
  readonly spill: CountsSpill | null;
  /** Counts written out (see CountsSpill); `owned`: this accumulator may remove the file. */
  private runs: { run: CountRun; owned: boolean }[] = [];
  /** Point lookups in the one run left after `compact` (null until needed, dropped when the runs change). */
  private index: RunIndex | null = null;

  constructor(maxOtherKeys: number = 200_000, spill: CountsSpill | null = null) {
    this.maxOtherKeys = maxOtherKeys;
    this.spill = spill;
  }

  /** Distinct clients with a count (with runs: compacts them first, see compact). */
  get size(): number {
    let n = this.other.size;
    if (this.runs.length > 0) {
      this.compact();
      const r = this.runs[0]!.run;
      return n + r.n4 + r.n6;
    }
    return n + this.tableKeys;
  }

  /** True while no request was counted (tables, runs and dropped totals). */
  get empty(): boolean {
    return this.runs.length === 0 && this.other.size === 0 && this.otherDroppedInside + this.otherDroppedRef === 0 && this.tableKeys === 0;
  }

  /** IPv4 and IPv6 keys in the tables (not in runs). */
  private get tableKeys(): number {
    let n = 0;
    for (let i = 0; i < SHARDS; i++) n += this.v4[i]!.size + this.v6[i]!.size;
    return n;
  }

  /** Bytes of the counts written out as runs. */
  get spilledBytes(): number {
    return this.runs.reduce((a, r) => a + runBytes(r.run), 0);
  }

  /** Writes the tables out as a run when they pass the spill budget (no-op without a spill directory). */
  spillIfFull(): void {
    if (this.spill !== null && this.tableBytes > this.spill.tableBytes) this.flush();
  }

  /** Writes the tables out as one sorted run and empties them; merges the runs when there are too many. */
  flush(): void {
    const spill = this.spill;
    if (spill === null) throw new Error('IpCounts.flush: no spill directory');
    if (this.tableKeys > 0) {
      let run: CountRun;
      try {
        const out = new RunWriter(runPath(spill.dir));
        try {
          this.dump4(out);
          this.dump6(out);
        } catch (e) {
          out.abort();
          throw e;
        }
        run = out.finish();
      } catch (e) {
        throw runError(spill.dir, e);
      }
      this.runs.push({ run, owned: true });
      this.v4 = shards(1);
      this.v6 = shards(4);
      this.dropIndex();
    }
    if (this.runs.length > MAX_RUNS) this.mergeRuns();
  }

  /** Everything in one run: the tables written out, then the runs merged (when there are any runs). */
  compact(): void {
    if (this.runs.length === 0) return;
    if (this.tableKeys > 0) this.flush();
    if (this.runs.length > 1) this.mergeRuns();
  }

  private mergeRuns(): void {
    let merged: CountRun;
    try {
      merged = compactRuns(this.runs.map((r) => r.run), this.spill!.dir);
    } catch (e) {
      throw runError(this.spill!.dir, e);
    }
    for (const r of this.runs) if (r.owned) removeRun(r.run);
    this.runs = [{ run: merged, owned: true }];
    this.dropIndex();
  }

  private dropIndex(): void {
    this.index?.close();
    this.index = null;
  }

  /** Removes the run files this accumulator owns and forgets every count written out (the tables stay). */
  dropRuns(): void {
    this.dropIndex();
    for (const r of this.runs) if (r.owned) removeRun(r.run);
    this.runs = [];
  }

  /** The IPv4 tables into `out` in key order. */
  private dump4(out: RunWriter): void {
    let n = 0;
    for (const t of this.v4) n += t.size;
    if (n === 0) return;
    // Little-endian: a u64 of (key << 32 | counts word) sorts by key, natively. Otherwise a comparator sort.
    if (LITTLE_ENDIAN) {
      const packed = new BigUint64Array(n);
      const w = new Uint32Array(packed.buffer);
      let i = 0;
      for (const t of this.v4) {
        const d = t.data;
        for (let s = 0; s <= t.mask; s++) {
          const c = d[2 * s + 1]!;
          if (c === 0) continue;
          w[2 * i] = c;
          w[2 * i + 1] = d[2 * s]!;
          i++;
        }
      }
      packed.sort();
      for (let j = 0; j < n; j++) {
        const key = w[2 * j + 1]!;
        const c = w[2 * j]!;
        const a = c & SAT;
        const b = c >>> 16;
        const t = this.v4[shardOf4(key)]!;
        out.put4(key, a === SAT ? t.bigInside.get(String(key))! : a, b === SAT ? t.bigRef.get(String(key))! : b);
      }
      return;
    }
    this.dumpSorted(this.v4, (t, s) => out.put4(t.key(s, 0), t.countAt(s, ROLE_INSIDE), t.countAt(s, ROLE_REF)));
  }

  private dump6(out: RunWriter): void {
    this.dumpSorted(this.v6, (t, s) => out.put6(t.key(s, 0), t.key(s, 1), t.key(s, 2), t.key(s, 3), t.countAt(s, ROLE_INSIDE), t.countAt(s, ROLE_REF)));
  }

  /** Calls `put` for every used slot of the tables in key order (a comparator sort of (table, slot) pairs). */
  private dumpSorted(tables: readonly WordTable[], put: (t: WordTable, s: number) => void): void {
    const at: number[] = [];
    tables.forEach((t, ti) => {
      for (let s = 0; s <= t.mask; s++) if (t.used(s)) at.push(ti * 2 ** 32 + s);
    });
    const w = tables[0]!.w;
    const cmp = (x: number, y: number): number => {
      const tx = tables[Math.floor(x / 2 ** 32)]!;
      const ty = tables[Math.floor(y / 2 ** 32)]!;
      const sx = x % 2 ** 32;
      const sy = y % 2 ** 32;
      for (let k = 0; k < w; k++) {
        const d = tx.key(sx, k) - ty.key(sy, k);
        if (d !== 0) return d;
      }
      return 0;
    };
    at.sort(cmp);
    for (const x of at) put(tables[Math.floor(x / 2 ** 32)]!, x % 2 ** 32);
  }

  /** Bytes of the typed arrays (the Map of other clients is not counted). */
  get tableBytes(): number {
    let n = 0;
    for (let i = 0; i < SHARDS; i++) n += this.v4[i]!.bytes + this.v6[i]!.bytes;
    return n;
  }

  /** Adds n requests of a client given by its key (see `clientKey`); returns its new count in that role. */
  add(key: ClientKey, role: number, n: number = 1): number {
    if (key.kind === 4) {
      const t = this.v4[shardOf4(key.w0)]!;
      return t.addAt(t.slot(key.w0, 0, 0, 0), role, n);
    }
    if (key.kind === 6) {
      const t = this.v6[shardOf6(key.w0, key.w1, key.w2, key.w3)]!;
      return t.addAt(t.slot(key.w0, key.w1, key.w2, key.w3), role, n);
    }
    let e = this.other.get(key.text);
    if (e === undefined) {
      if (this.other.size >= this.maxOtherKeys) {
        if (role === ROLE_INSIDE) this.otherDroppedInside += n;
        else this.otherDroppedRef += n;
        return 0;
      }
      e = [0, 0];
      this.other.set(key.text, e);
    }
    e[role] = e[role]! + n;
    return e[role]!;
  }

  /** One request of an IPv4 client (its u32 value); returns its new count in that role. */
  addV4(value: number, role: number): number {
    return this.v4[shardOf4(value)]!.add1(value, role);
  }

  /** Count of a client in a role (0 when unseen). With runs: one read of the compacted run (see compact). */
  get(key: ClientKey, role: number): number {
    if (key.kind === 4) {
      const t = this.v4[shardOf4(key.w0)]!;
      const s = t.find(key.w0, 0, 0, 0);
      return (s < 0 ? 0 : t.countAt(s, role)) + this.runCount(key, role);
    }
    if (key.kind === 6) {
      const t = this.v6[shardOf6(key.w0, key.w1, key.w2, key.w3)]!;
      const s = t.find(key.w0, key.w1, key.w2, key.w3);
      return (s < 0 ? 0 : t.countAt(s, role)) + this.runCount(key, role);
    }
    return this.other.get(key.text)?.[role] ?? 0;
  }

  private readonly lookupKey = new Uint32Array(4);
  private readonly lookupOut: [number, number] = [0, 0];

  /** The count of a key in the runs (0 without runs). */
  private runCount(key: ClientKey, role: number): number {
    if (this.runs.length === 0) return 0;
    if (this.runs.length > 1) this.mergeRuns();
    this.index ??= new RunIndex(this.runs[0]!.run);
    const k = this.lookupKey;
    k[0] = key.w0;
    k[1] = key.w1;
    k[2] = key.w2;
    k[3] = key.w3;
    return this.index.get(key.kind === 4 ? 4 : 6, k, this.lookupOut)[role === ROLE_INSIDE ? 0 : 1];
  }

  /**
   * Calls fn(inside, ref, kind, textOf) for every client, kind being 4, 6 or 0; `textOf()`
   * gives the client's text and is valid only during that call (texts are built on demand).
   */
  forEach(fn: (inside: number, ref: number, kind: number, textOf: () => string) => void): void {
    const hex = new Uint16Array(8);
    if (this.runs.length > 0) {
      // Everything is in one run after compact (the tables are empty): read it in order.
      this.compact();
      const run = this.runs[0]!.run;
      for (const section of [4, 6] as const) {
        const c = new RunCursor(run, section);
        const kw = section === 4 ? 1 : 4;
        const textRun = (): string => {
          if (section === 4) return formatIpv4(c.words[c.at]!);
          for (let k = 0; k < 4; k++) {
            hex[2 * k] = c.words[c.at + k]! >>> 16;
            hex[2 * k + 1] = c.words[c.at + k]! & 0xffff;
          }
          return formatIpv6(hex);
        };
        try {
          while (c.next()) fn(c.words[c.at + kw]!, c.words[c.at + kw + 1]!, section, textRun);
        } finally {
          c.close();
        }
      }
      this.forEachOther(fn);
      return;
    }
    let t: WordTable = this.v4[0]!;
    let at = 0;
    const textOf = (): string => {
      if (t.w === 1) return formatIpv4(t.key(at, 0));
      for (let k = 0; k < 4; k++) {
        hex[2 * k] = t.key(at, k) >>> 16;
        hex[2 * k + 1] = t.key(at, k) & 0xffff;
      }
      return formatIpv6(hex);
    };
    for (const table of [...this.v4, ...this.v6]) {
      t = table;
      const kind = table.w === 1 ? 4 : 6;
      const d = table.data;
      const st = table.stride;
      for (let s = 0; s <= table.mask; s++) {
        const word = d[s * st + table.w]!;
        if (word === 0) continue;
        at = s;
        const a = word & SAT;
        const b = word >>> 16;
        fn(a === SAT ? table.countAt(s, ROLE_INSIDE) : a, b === SAT ? table.countAt(s, ROLE_REF) : b, kind, textOf);
      }
    }
    this.forEachOther(fn);
  }

  private forEachOther(fn: (inside: number, ref: number, kind: number, textOf: () => string) => void): void {
    let text = '';
    const textOther = (): string => text;
    for (const [k, [a, b]] of this.other) {
      text = k;
      fn(a!, b!, 0, textOther);
    }
  }

  /** Takes another accumulator's runs (`owned`: this one may remove them), then spills or merges as the budget says. */
  private addRuns(runs: readonly CountRun[], owned: boolean): void {
    if (runs.length === 0) return;
    if (this.spill === null) throw new Error('IpCounts: counts written out as runs can only merge into an accumulator with a spill directory');
    for (const run of runs) this.runs.push({ run, owned });
    this.dropIndex();
    if (this.runs.length > MAX_RUNS) this.mergeRuns();
  }

  /** Adds another accumulator's counts. `take`: `o` is dropped afterwards, so its run files become this one's. */
  merge(o: IpCounts, take = false): void {
    const pairs = [...this.v4.map((t, i) => [t, o.v4[i]!] as const), ...this.v6.map((t, i) => [t, o.v6[i]!] as const)];
    for (const [mine, theirs] of pairs) {
      const w = theirs.w;
      mine.reserve(mine.size + theirs.size);
      for (let s = 0; s <= theirs.mask; s++) {
        if (!theirs.used(s)) continue;
        const t = w === 1 ? mine.slot(theirs.key(s, 0), 0, 0, 0) : mine.slot(theirs.key(s, 0), theirs.key(s, 1), theirs.key(s, 2), theirs.key(s, 3));
        const a = theirs.countAt(s, ROLE_INSIDE);
        const b = theirs.countAt(s, ROLE_REF);
        // Claim the slot first with a non-zero count so it stays occupied.
        if (a > 0) mine.addAt(t, ROLE_INSIDE, a);
        if (b > 0) mine.addAt(t, ROLE_REF, b);
      }
    }
    for (const [text, [a, b]] of o.other) {
      const key: ClientKey = { kind: 0, w0: 0, w1: 0, w2: 0, w3: 0, text };
      if (a! > 0) this.add(key, ROLE_INSIDE, a!);
      if (b! > 0) this.add(key, ROLE_REF, b!);
    }
    this.otherDroppedInside += o.otherDroppedInside;
    this.otherDroppedRef += o.otherDroppedRef;
    this.addRuns(o.runs.map((r) => r.run), take && o.runs.every((r) => r.owned));
    if (take) o.runs = [];
    this.spillIfFull();
  }

  snapshot(): IpCountsSnapshot {
    const dump = (t: WordTable): [Uint32Array, Uint32Array, Uint32Array] => {
      const keys = new Uint32Array(t.size * t.w);
      const a = new Uint32Array(t.size);
      const b = new Uint32Array(t.size);
      let n = 0;
      for (let s = 0; s <= t.mask; s++) {
        if (!t.used(s)) continue;
        for (let k = 0; k < t.w; k++) keys[n * t.w + k] = t.key(s, k);
        a[n] = t.countAt(s, ROLE_INSIDE);
        b[n] = t.countAt(s, ROLE_REF);
        n++;
      }
      return [keys, a, b];
    };
    const dumpAll = (ts: readonly WordTable[]): [Uint32Array, Uint32Array, Uint32Array] => {
      const parts = ts.map(dump);
      const cat = (k: 0 | 1 | 2): Uint32Array => {
        const out = new Uint32Array(parts.reduce((a, p) => a + p[k].length, 0));
        let at = 0;
        for (const p of parts) {
          out.set(p[k], at);
          at += p[k].length;
        }
        return out;
      };
      return [cat(0), cat(1), cat(2)];
    };
    const [ipv4, ipv4Inside, ipv4Ref] = dumpAll(this.v4);
    const [ipv6, ipv6Inside, ipv6Ref] = dumpAll(this.v6);
    const other = [...this.other.keys()];
    return {
      ipv4, ipv4Inside, ipv4Ref, ipv6, ipv6Inside, ipv6Ref, other,
      otherInside: Uint32Array.from(other, (k) => this.other.get(k)![0]!),
      otherRef: Uint32Array.from(other, (k) => this.other.get(k)![1]!),
      otherDroppedInside: this.otherDroppedInside, otherDroppedRef: this.otherDroppedRef,
      ...(this.runs.length > 0 ? { runs: this.runs.map((r) => r.run) } : {}),
    };
  }

  /**
   * Adds a snapshot's counts: as `merge(IpCounts.fromSnapshot(s))`, without building a second table.
   * `owned`: the snapshot's run files become this accumulator's (it may remove them).
   */
  mergeSnapshot(s: IpCountsSnapshot, owned = false): void {
    // Grow each table once for what it will get (see WordTable.reserve).
    const n4 = new Float64Array(SHARDS);
    const n6 = new Float64Array(SHARDS);
    for (let i = 0; i < s.ipv4Inside.length; i++) n4[shardOf4(s.ipv4[i]!)]!++;
    for (let i = 0; i < s.ipv6Inside.length; i++) n6[shardOf6(s.ipv6[4 * i]!, s.ipv6[4 * i + 1]!, s.ipv6[4 * i + 2]!, s.ipv6[4 * i + 3]!)]!++;
    for (let i = 0; i < SHARDS; i++) {
      this.v4[i]!.reserve(this.v4[i]!.size + n4[i]!);
      this.v6[i]!.reserve(this.v6[i]!.size + n6[i]!);
    }
    const key: ClientKey = { kind: 4, w0: 0, w1: 0, w2: 0, w3: 0, text: '' };
    for (let i = 0; i < s.ipv4Inside.length; i++) {
      key.w0 = s.ipv4[i]!;
      if (s.ipv4Inside[i]! > 0) this.add(key, ROLE_INSIDE, s.ipv4Inside[i]!);
      if (s.ipv4Ref[i]! > 0) this.add(key, ROLE_REF, s.ipv4Ref[i]!);
    }
    key.kind = 6;
    for (let i = 0; i < s.ipv6Inside.length; i++) {
      key.w0 = s.ipv6[4 * i]!;
      key.w1 = s.ipv6[4 * i + 1]!;
      key.w2 = s.ipv6[4 * i + 2]!;
      key.w3 = s.ipv6[4 * i + 3]!;
      if (s.ipv6Inside[i]! > 0) this.add(key, ROLE_INSIDE, s.ipv6Inside[i]!);
      if (s.ipv6Ref[i]! > 0) this.add(key, ROLE_REF, s.ipv6Ref[i]!);
    }
    key.kind = 0;
    s.other.forEach((text, i) => {
      key.text = text;
      if (s.otherInside[i]! > 0) this.add(key, ROLE_INSIDE, s.otherInside[i]!);
      if (s.otherRef[i]! > 0) this.add(key, ROLE_REF, s.otherRef[i]!);
    });
    this.otherDroppedInside += s.otherDroppedInside;
    this.otherDroppedRef += s.otherDroppedRef;
    this.addRuns(s.runs ?? [], owned);
    this.spillIfFull();
  }

  static fromSnapshot(s: IpCountsSnapshot, maxOtherKeys?: number, spill: CountsSpill | null = null, owned = false): IpCounts {
    const c = new IpCounts(maxOtherKeys, spill);
    c.mergeSnapshot(s, owned);
    return c;
  }

  /** The typed arrays of a snapshot (to transfer it to another thread without a copy). */
  static buffers(s: IpCountsSnapshot): ArrayBuffer[] {
    return [s.ipv4, s.ipv4Inside, s.ipv4Ref, s.ipv6, s.ipv6Inside, s.ipv6Ref, s.otherInside, s.otherRef].map((a) => a.buffer as ArrayBuffer);
  }
}

/** A client's table key: kind 4 (w0), 6 (w0..w3) or 0 (text). */
export interface ClientKey {
  kind: number;
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  text: string;
}

const hextets = new Uint16Array(8);

/** The table key of a client text (see the module comment: one key per spelling). */
export function clientKey(text: string, into?: ClientKey): ClientKey {
  const k = into ?? { kind: 0, w0: 0, w1: 0, w2: 0, w3: 0, text: '' };
  k.text = text;
  const v4 = text.length <= 15 ? parseIpv4(text) : -1;
  if (v4 >= 0) {
    k.kind = 4;
    k.w0 = v4;
    return k;
  }
  k.kind = 0;
  if (text.indexOf(':') >= 0 && text.length <= 39 && parseIpv6Hextets(text, hextets) && formatIpv6(hextets) === text) {
    k.kind = 6;
    k.w0 = hextets[0]! * 65536 + hextets[1]!;
    k.w1 = hextets[2]! * 65536 + hextets[3]!;
    k.w2 = hextets[4]! * 65536 + hextets[5]!;
    k.w3 = hextets[6]! * 65536 + hextets[7]!;
  }
  return k;
}

/** Canonical dotted quad → u32, else -1 (no leading zeros, so the text is the key's only spelling). */
export function parseIpv4(text: string): number {
  return parseIpv4Number(text);
}

/** Plain `a:b::c` IPv6 (no brackets, zone or embedded IPv4) into 8 hextets; false otherwise. */
function parseIpv6Hextets(text: string, out: Uint16Array): boolean {
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) return false;
  const head = dbl >= 0 ? text.slice(0, dbl) : text;
  const tail = dbl >= 0 ? text.slice(dbl + 2) : '';
  const hs = head === '' ? [] : head.split(':');
  const ts = tail === '' ? [] : tail.split(':');
  if (dbl < 0 ? hs.length !== 8 : hs.length + ts.length > 7) return false;
  out.fill(0);
  const put = (g: string, at: number): boolean => {
    if (g.length === 0 || g.length > 4 || !/^[0-9a-f]+$/.test(g)) return false;
    out[at] = parseInt(g, 16);
    return true;
  };
  for (let i = 0; i < hs.length; i++) if (!put(hs[i]!, i)) return false;
  for (let i = 0; i < ts.length; i++) if (!put(ts[i]!, 8 - ts.length + i)) return false;
  return true;
}
