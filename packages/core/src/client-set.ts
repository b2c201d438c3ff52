/**
 * The distinct client addresses seen in the inputs, exactly, up to a cap: the
 * "normal clients" a blocklist must not cover (report's `blocklist.ts`).
 *
 * IPv4 addresses are u32 values, IPv6 addresses four u32 words each
 * (big-endian word order, so word-wise comparison is numeric order). The set
 * is a sorted, duplicate-free typed array; new addresses go to a pending
 * buffer that, when full, is sorted, deduplicated and merged into it in place
 * in one linear pass, so memory follows the number of distinct addresses (4-6
 * bytes each, plus a pending buffer of at most 4 MB), not of requests. Past `maxIpv4` / `maxIpv6`
 * distinct addresses the set keeps what it has, stops growing and reports
 * `complete: false`: a check against it may then miss clients.
 *
 * Host-name clients are not addresses and are not kept. Sets merge (workers
 * each fold a share of the inputs, then merge), and the sorted snapshot does
 * not depend on the order addresses were added in.
 */
import { classifyIp, parseIpv4Number } from '@alf/geo';
import { IP_KIND_V4, IP_KIND_V6 } from '@alf/parser';
import type { RecordBatch } from '@alf/parser';

/** Caps of a `ClientSet` (distinct addresses). */
export interface ClientSetOptions {
  /** Distinct IPv4 addresses kept exactly (default 20,000,000: 80 MB). */
  readonly maxIpv4?: number;
  /** Distinct IPv6 addresses kept exactly (default 2,000,000: 32 MB). */
  readonly maxIpv6?: number;
}

export const DEFAULT_CLIENT_SET_OPTIONS: { readonly maxIpv4: number; readonly maxIpv6: number } = {
  maxIpv4: 20_000_000,
  maxIpv6: 2_000_000,
};

/** Sorted, duplicate-free addresses of a `ClientSet`. */
export interface ClientSetSnapshot {
  /** IPv4 values, ascending. */
  readonly ipv4: Uint32Array;
  /** IPv6 addresses as 4 big-endian u32 words each, ascending (length = 4 × count). */
  readonly ipv6: Uint32Array;
  /** False when a cap was reached: some clients seen are missing. */
  readonly complete: boolean;
  /** Why it is incomplete, in words; null when complete. */
  readonly incompleteReason: string | null;
}

const INITIAL = 1 << 12;
/** Largest pending buffer (addresses). */
const MAX_PENDING = 1 << 20;

/** Compares the 4-word keys at word offsets `a` and `b` of two arrays. */
export function compareIpv6Words(x: Uint32Array, a: number, y: Uint32Array, b: number): number {
  for (let k = 0; k < 4; k++) {
    const d = x[a + k]! - y[b + k]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function sortUniqueV6(words: Uint32Array, n: number): number {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => compareIpv6Words(words, a * 4, words, b * 4));
  const sorted = new Uint32Array(n * 4);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const at = order[i]! * 4;
    if (m > 0 && compareIpv6Words(sorted, (m - 1) * 4, words, at) === 0) continue;
    sorted.set(words.subarray(at, at + 4), m * 4);
    m++;
  }
  words.set(sorted.subarray(0, m * 4));
  return m;
}

function sortUniqueV4(values: Uint32Array, n: number): number {
  const view = values.subarray(0, n);
  view.sort();
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (m > 0 && view[m - 1] === view[i]) continue;
    view[m++] = view[i]!;
  }
  return m;
}

/** Merges sorted unique a[0..an) and b into `out` (sorted, unique); returns the count. */
function mergeSortedV4(a: Uint32Array, an: number, b: Uint32Array, out: Uint32Array): number {
  const bn = b.length;
  let i = 0;
  let j = 0;
  let m = 0;
  while (i < an && j < bn) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) {
      out[m++] = x;
      i++;
    } else if (y < x) {
      out[m++] = y;
      j++;
    } else {
      out[m++] = x;
      i++;
      j++;
    }
  }
  while (i < an) out[m++] = a[i++]!;
  while (j < bn) out[m++] = b[j++]!;
  return m;
}

/** As mergeSortedV4 for 4-word IPv6 keys: a holds an keys, b b.length / 4. */
function mergeSortedV6(a: Uint32Array, an: number, b: Uint32Array, out: Uint32Array): number {
  const bn = b.length / 4;
  let i = 0;
  let j = 0;
  let m = 0;
  while (i < an || j < bn) {
    const c = i >= an ? 1 : j >= bn ? -1 : compareIpv6Words(a, i * 4, b, j * 4);
    if (c <= 0) {
      out.set(a.subarray(i * 4, i * 4 + 4), m * 4);
      i++;
      if (c === 0) j++;
    } else {
      out.set(b.subarray(j * 4, j * 4 + 4), m * 4);
      j++;
    }
    m++;
  }
  return m;
}

/** Size of the union of sorted unique a[0..an) and b. */
function unionCountV4(a: Uint32Array, an: number, b: Uint32Array): number {
  const bn = b.length;
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < an && j < bn) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) i++;
    else if (y < x) j++;
    else {
      common++;
      i++;
      j++;
    }
  }
  return an + bn - common;
}

/**
 * Merges sorted unique b into sorted unique a[0..an) in place, from the back, when the union
 * has `count` values and a has room for them: a write never passes an unread value of a (the
 * distance is the number of b's values still to place that a lacks).
 */
function mergeUnionIntoV4(a: Uint32Array, an: number, b: Uint32Array, count: number): void {
  let i = an - 1;
  let j = b.length - 1;
  let k = count - 1;
  while (j >= 0) {
    const y = b[j]!;
    if (i >= 0 && a[i]! > y) a[k--] = a[i--]!;
    else {
      if (i >= 0 && a[i] === y) i--;
      a[k--] = y;
      j--;
    }
  }
}

/**
 * Merges sorted unique b[0..bn) into sorted unique a[0..an) in place, from the back
 * (a has room for an + bn); the result is a[0..count), count returned.
 */
function mergeIntoV4(a: Uint32Array, an: number, b: Uint32Array, bn: number): number {
  let i = an - 1;
  let j = bn - 1;
  let k = an + bn - 1;
  while (j >= 0) {
    if (i >= 0 && a[i]! >= b[j]!) {
      if (a[i] === b[j]) j--;
      a[k--] = a[i--]!;
    } else a[k--] = b[j--]!;
  }
  // Duplicates leave a gap before the merged run (the rest of a is in place already).
  const gap = k - i;
  if (gap > 0) a.copyWithin(i + 1, k + 1, an + bn);
  return an + bn - gap;
}

/** As mergeIntoV4 for 4-word IPv6 keys (counts in keys). */
function mergeIntoV6(a: Uint32Array, an: number, b: Uint32Array, bn: number): number {
  let i = an - 1;
  let j = bn - 1;
  let k = an + bn - 1;
  while (j >= 0) {
    const c = i >= 0 ? compareIpv6Words(a, i * 4, b, j * 4) : -1;
    if (c >= 0) {
      if (c === 0) j--;
      a.copyWithin(k * 4, i * 4, i * 4 + 4);
      i--;
    } else {
      a.set(b.subarray(j * 4, j * 4 + 4), k * 4);
      j--;
    }
    k--;
  }
  const gap = k - i;
  if (gap > 0) a.copyWithin((i + 1) * 4, (k + 1) * 4, (an + bn) * 4);
  return an + bn - gap;
}

/** Distinct client addresses, exact up to a cap; see the module comment. */
export class ClientSet {
  readonly maxIpv4: number;
  readonly maxIpv6: number;
  /** The set so far, sorted and unique: v4[0, n4) (a buffer of the size the last merge needed). */
  private v4: Uint32Array = new Uint32Array(0);
  private n4 = 0;
  /** Added since the last flush, in any order: pend4[0, p4). */
  private pend4 = new Uint32Array(INITIAL);
  private p4 = 0;
  /** The same for IPv6, 4 words an address. */
  private v6: Uint32Array = new Uint32Array(0);
  private n6 = 0;
  private pend6 = new Uint32Array(INITIAL * 4);
  private p6 = 0;
  private full4 = false;
  private full6 = false;
  private readonly hextets = new Uint16Array(8);
  private seen = new Uint8Array(1024);
  private mergedIncomplete: string | null = null;

  constructor(opts: ClientSetOptions = {}) {
    this.maxIpv4 = Math.max(1, Math.floor(opts.maxIpv4 ?? DEFAULT_CLIENT_SET_OPTIONS.maxIpv4));
    this.maxIpv6 = Math.max(1, Math.floor(opts.maxIpv6 ?? DEFAULT_CLIENT_SET_OPTIONS.maxIpv6));
  }

  /**
   * A set holding a snapshot's addresses, taking its arrays over (no copy): for a snapshot this
   * process wrote earlier (sorted, duplicate-free), e.g. one parked in a file between passes.
   */
  static adopt(s: ClientSetSnapshot, opts: ClientSetOptions = {}): ClientSet {
    const set = new ClientSet(opts);
    set.v4 = s.ipv4;
    set.n4 = s.ipv4.length;
    set.v6 = s.ipv6;
    set.n6 = s.ipv6.length >> 2;
    if (!s.complete) set.mergedIncomplete = s.incompleteReason ?? 'a merged client set was incomplete';
    return set;
  }

  /** True while no cap was reached. */
  get complete(): boolean {
    return !this.full4 && !this.full6;
  }

  /** Adds every IP client of a batch (each dictionary value once; host names skipped). */
  add(batch: RecordBatch): void {
    const { ids, values } = batch.ip;
    if (this.seen.length < values.length) this.seen = new Uint8Array(Math.max(values.length, this.seen.length * 2));
    const seen = this.seen;
    seen.fill(0, 0, values.length);
    const kind = batch.ipKind;
    for (let i = 0; i < batch.length; i++) {
      const id = ids[i]!;
      if (id < 0 || seen[id] !== 0) continue;
      const k = kind[i]!;
      if (k === IP_KIND_V4 || k === IP_KIND_V6) seen[id] = 1;
    }
    for (let id = 0; id < values.length; id++) if (seen[id] !== 0) this.addText(values[id]!);
  }

  /** Adds one address given as text; returns false when it is not an IP address. */
  addText(ip: string): boolean {
    const v4 = parseIpv4Number(ip);
    if (v4 >= 0) {
      this.addIpv4(v4);
      return true;
    }
    const kind = classifyIp(ip, this.hextets);
    if (kind === -1) return false;
    if (kind >= 0) this.addIpv4(kind);
    else {
      const h = this.hextets;
      this.addIpv6Words(h[0]! * 65536 + h[1]!, h[2]! * 65536 + h[3]!, h[4]! * 65536 + h[5]!, h[6]! * 65536 + h[7]!);
    }
    return true;
  }

  addIpv4(value: number): void {
    if (this.full4) return;
    if (this.p4 === this.pend4.length) this.normalise4();
    if (this.full4) return;
    this.pend4[this.p4++] = value;
  }

  /** Adds an IPv6 address as four big-endian u32 words. */
  addIpv6Words(w0: number, w1: number, w2: number, w3: number): void {
    if (this.full6) return;
    if (this.p6 * 4 === this.pend6.length) this.normalise6();
    if (this.full6) return;
    const at = this.p6++ * 4;
    this.pend6[at] = w0;
    this.pend6[at + 1] = w1;
    this.pend6[at + 2] = w2;
    this.pend6[at + 3] = w3;
  }

  /**
   * Adds every address of another set (or snapshot); incomplete if either is. Both sorted
   * lists are merged (no copy of `other`, no re-sort): IPv4 in place when the buffer holds
   * the union, else into a new one an eighth larger than it; IPv6 into a new buffer of their
   * summed length. Past a cap the lowest addresses are kept, as when adding them one by one.
   */
  merge(other: ClientSet | ClientSetSnapshot): void {
    let v4: Uint32Array;
    let v6: Uint32Array;
    let incomplete: string | null;
    if (other instanceof ClientSet) {
      other.normalise4();
      other.normalise6();
      v4 = other.v4.subarray(0, other.n4);
      v6 = other.v6.subarray(0, other.n6 * 4);
      incomplete = other.snapshotReason();
    } else {
      v4 = other.ipv4;
      v6 = other.ipv6;
      incomplete = other.complete ? null : other.incompleteReason ?? 'a merged client set was incomplete';
    }
    if (v4.length > 0 && !this.full4) {
      this.normalise4();
      // The union's exact size first: merged in place when the buffer holds it (sets merged one
      // after another then grow one buffer instead of allocating their summed length each time).
      let m = unionCountV4(this.v4, this.n4, v4);
      if (m <= this.v4.length) mergeUnionIntoV4(this.v4, this.n4, v4, m);
      else {
        const merged = new Uint32Array(m + (m >> 3));
        mergeSortedV4(this.v4, this.n4, v4, merged);
        this.v4 = merged;
      }
      if (m > this.maxIpv4) {
        m = this.maxIpv4;
        this.full4 = true;
      }
      this.n4 = m;
    }
    if (v6.length > 0 && !this.full6) {
      this.normalise6();
      const merged = new Uint32Array(this.n6 * 4 + v6.length);
      let m = mergeSortedV6(this.v6, this.n6, v6, merged);
      if (m > this.maxIpv6) {
        m = this.maxIpv6;
        this.full6 = true;
      }
      this.v6 = merged;
      this.n6 = m;
    }
    if (incomplete !== null) this.mergedIncomplete = incomplete;
  }

  /** Why this set is incomplete (its caps, or a merged set's reason); null when complete. */
  private snapshotReason(): string | null {
    const reasons: string[] = [];
    if (this.full4) reasons.push(`more than ${this.maxIpv4} distinct IPv4 clients`);
    if (this.full6) reasons.push(`more than ${this.maxIpv6} distinct IPv6 clients`);
    // (a merged set's reason already says "client cap reached: ", once)
    if (this.mergedIncomplete !== null) reasons.push(this.mergedIncomplete.replace(/^client cap reached: /, ''));
    return reasons.length === 0 ? null : `client cap reached: ${reasons.join('; ')}`;
  }

  /**
   * Sorted, duplicate-free copy of the addresses (merges the pending ones first). `share`: views of
   * this set's own arrays instead of copies (40 MB at 10M clients), for a caller that adds nothing more.
   */
  snapshot(share = false): ClientSetSnapshot {
    this.normalise4();
    this.normalise6();
    const reason = this.snapshotReason();
    return {
      ipv4: share ? this.v4.subarray(0, this.n4) : this.v4.slice(0, this.n4),
      ipv6: share ? this.v6.subarray(0, this.n6 * 4) : this.v6.slice(0, this.n6 * 4),
      complete: reason === null,
      incompleteReason: reason,
    };
  }

  /** Distinct IPv4 / IPv6 addresses held (merges the pending ones first). */
  get ipv4Count(): number {
    this.normalise4();
    return this.n4;
  }

  get ipv6Count(): number {
    this.normalise6();
    return this.n6;
  }

  /**
   * Sorts the addresses added since the last call and merges them into the set, in place
   * from the back (the set's buffer grows by half when they may not fit: about 4-6 bytes
   * per address, not a doubling buffer's 8-16); past the cap keeps the lowest addresses
   * and stops growing. The pending buffer grows with the set (an eighth of it, at most 1M
   * addresses) so a large set is merged rarely.
   */
  private normalise4(): void {
    if (this.p4 === 0) return;
    const m = sortUniqueV4(this.pend4, this.p4);
    const need = this.n4 + m;
    if (need > this.v4.length) {
      const next = new Uint32Array(need + (need >> 1));
      next.set(this.v4.subarray(0, this.n4));
      this.v4 = next;
    }
    let c = mergeIntoV4(this.v4, this.n4, this.pend4, m);
    if (c > this.maxIpv4) {
      c = this.maxIpv4;
      this.full4 = true;
    }
    this.n4 = c;
    this.p4 = 0;
    if (this.pend4.length < MAX_PENDING && this.pend4.length * 8 < c) this.pend4 = new Uint32Array(this.pend4.length * 2);
  }

  private normalise6(): void {
    if (this.p6 === 0) return;
    const m = sortUniqueV6(this.pend6, this.p6);
    const need = this.n6 + m;
    if (need * 4 > this.v6.length) {
      const next = new Uint32Array((need + (need >> 1)) * 4);
      next.set(this.v6.subarray(0, this.n6 * 4));
      this.v6 = next;
    }
    let c = mergeIntoV6(this.v6, this.n6, this.pend6, m);
    if (c > this.maxIpv6) {
      c = this.maxIpv6;
      this.full6 = true;
    }
    this.n6 = c;
    this.p6 = 0;
    if (this.pend6.length < MAX_PENDING * 4 && this.pend6.length * 2 < c) this.pend6 = new Uint32Array(this.pend6.length * 2);
  }
}
