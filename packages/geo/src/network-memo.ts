/**
 * Memoises a database by the network each answer came from. A search returns the record
 * and the prefix length of the network it sits in (`getWithPrefixLength`); every other
 * address in that network has the same answer, so it is stored under (network, length).
 * A later address is checked against the known networks (networks in one database never
 * overlap, so at most one matches) before the database is searched: for IPv4 through a
 * /16 array and per-/16 sorted ranges, for IPv6 the same on the first hextet and the first
 * 64 bits (only networks longer than /64 are probed length by length).
 * A flood of 100k addresses from one /16 costs one search per database network.
 */
import { BoundedMemo } from './bounded-memo.ts';
import { ipv4Cidr, ipv6Cidr } from './ip-address.ts';
import type { DbFields } from './record-fields.ts';

/** What one database search returns: the record's fields (null: no record) and the prefix length. */
export interface RawHit {
  readonly fields: DbFields | null;
  readonly prefixLength: number;
}

/** A database that can be searched by address. Searches may throw on a broken database. */
export interface NetworkSource {
  findV4(value: number, text: string): RawHit;
  findV6(hextets: Uint16Array): RawHit;
}

/** A memoised answer: the fields (null when the database has no record) and the network as CIDR. */
export interface NetworkHit {
  readonly fields: DbFields | null;
  readonly network: string;
}

/** Searches that must all fail before a database is treated as unusable. */
const BROKEN_AFTER = 1000;

/** Known IPv6 /17–/64 networks under one first hextet, as ranges of the first 64 bits (two 32-bit halves), sorted. */
interface V6Bucket {
  readonly startHi: number[];
  readonly startLo: number[];
  readonly endHi: number[];
  readonly endLo: number[];
  readonly hits: NetworkHit[];
}

/** Known IPv4 networks longer than /16 inside one /16, sorted by start. */
interface V4Bucket {
  readonly starts: number[];
  readonly ends: number[];
  readonly hits: NetworkHit[];
}

export class MemoisedSource {
  private readonly source: NetworkSource;
  /** /65–/128 networks by exact key. */
  private readonly v6: BoundedMemo<string, NetworkHit>;
  /** Networks of /16 or shorter, by first hextet. */
  private v6Wide: (NetworkHit | undefined)[] = new Array<NetworkHit | undefined>(65536).fill(undefined);
  /** /17–/64 networks, by first hextet. */
  private v6Buckets: (V6Bucket | undefined)[] = new Array<V6Bucket | undefined>(65536).fill(undefined);
  private v6Stored = 0;
  private v6Evictions = 0;
  /** Networks of /16 or shorter, by /16 index. */
  private v4Wide: (NetworkHit | undefined)[] = new Array<NetworkHit | undefined>(65536).fill(undefined);
  /** Networks longer than /16, by /16 index. */
  private v4Buckets: (V4Bucket | undefined)[] = new Array<V4Bucket | undefined>(65536).fill(undefined);
  private v4Stored = 0;
  private v4Evictions = 0;
  private readonly capacity: number;
  private readonly v6Lengths: number[] = [];
  private readonly v6Seen = new Uint8Array(129);
  walks = 0;
  networkHits = 0;
  errors = 0;
  /**
   * Set when the first BROKEN_AFTER searches all threw: the database is unusable, and some
   * broken records take milliseconds each to fail, so further searches are not attempted
   * (answers stay `error: true` and are still counted).
   */
  broken = false;

  constructor(source: NetworkSource, capacity: number) {
    this.source = source;
    this.capacity = Math.max(1, Math.floor(capacity));
    this.v6 = new BoundedMemo(capacity);
  }

  private failed(): void {
    this.errors++;
    if (this.errors >= BROKEN_AFTER && this.errors === this.walks) this.broken = true;
  }

  get evictions(): number {
    return this.v4Evictions + this.v6Evictions + this.v6.evictions;
  }

  /** The answer for an IPv4 address, or null when the database search threw. */
  lookupV4(value: number, text: string): NetworkHit | null {
    const cached = this.findV4Memo(value);
    if (cached !== undefined) {
      this.networkHits++;
      return cached;
    }
    if (this.broken) {
      this.errors++;
      return null;
    }
    let raw: RawHit;
    this.walks++;
    try {
      raw = this.source.findV4(value, text);
    } catch {
      this.failed();
      return null;
    }
    const len = raw.prefixLength;
    if (!(len >= 0 && len <= 32 && Number.isInteger(len))) {
      this.errors++;
      return null;
    }
    const hit: NetworkHit = { fields: raw.fields, network: ipv4Cidr(value, len) };
    this.storeV4(value, len, hit);
    return hit;
  }

  /**
   * IPv4 networks are indexed so that a lookup is one array read plus a short binary
   * search whatever the prefix lengths: networks of /16 or shorter fill their slots of a
   * 65,536-entry array indexed by the /16; longer ones go into a per-/16 bucket of
   * ranges sorted by start. The buckets hold at most `capacity` networks in all; when
   * full they are dropped and refilled.
   */
  private findV4Memo(value: number): NetworkHit | undefined {
    const wide = this.v4Wide[value >>> 16];
    if (wide !== undefined) return wide;
    const bucket = this.v4Buckets[value >>> 16];
    if (bucket === undefined) return undefined;
    const starts = bucket.starts;
    let lo = 0;
    let hi = starts.length - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= value) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return i >= 0 && value <= bucket.ends[i]! ? bucket.hits[i] : undefined;
  }

  private storeV4(value: number, len: number, hit: NetworkHit): void {
    if (len <= 16) {
      const first = len === 0 ? 0 : (value >>> (32 - len)) * 2 ** (16 - len);
      const n = 2 ** (16 - len);
      for (let i = 0; i < n; i++) this.v4Wide[first + i] = hit;
      return;
    }
    if (this.v4Stored >= this.capacity) {
      this.v4Buckets = new Array<V4Bucket | undefined>(65536).fill(undefined);
      this.v4Stored = 0;
      this.v4Evictions++;
    }
    const size = 2 ** (32 - len);
    const start = Math.floor(value / size) * size;
    const key = value >>> 16;
    let bucket = this.v4Buckets[key];
    if (bucket === undefined) {
      bucket = { starts: [], ends: [], hits: [] };
      this.v4Buckets[key] = bucket;
    }
    let at = bucket.starts.length;
    while (at > 0 && bucket.starts[at - 1]! > start) at--;
    bucket.starts.splice(at, 0, start);
    bucket.ends.splice(at, 0, start + size - 1);
    bucket.hits.splice(at, 0, hit);
    this.v4Stored++;
  }

  /** The answer for an IPv6 address, or null when the database search threw. */
  lookupV6(hextets: Uint16Array): NetworkHit | null {
    const cached = this.findV6Memo(hextets);
    if (cached !== undefined) {
      this.networkHits++;
      return cached;
    }
    if (this.broken) {
      this.errors++;
      return null;
    }
    let raw: RawHit;
    this.walks++;
    try {
      raw = this.source.findV6(hextets);
    } catch {
      this.failed();
      return null;
    }
    const len = raw.prefixLength;
    if (!(len >= 0 && len <= 128 && Number.isInteger(len))) {
      this.errors++;
      return null;
    }
    const hit: NetworkHit = { fields: raw.fields, network: ipv6Cidr(hextets, len) };
    this.storeV6(hextets, len, hit);
    return hit;
  }

  /**
   * IPv6 networks: /16 or shorter in an array by the first hextet; /17–/64 as ranges of
   * the first 64 bits in a per-first-hextet bucket; longer ones (rare) by exact key,
   * probed length by length.
   */
  private findV6Memo(h: Uint16Array): NetworkHit | undefined {
    const wide = this.v6Wide[h[0]!];
    if (wide !== undefined) return wide;
    const bucket = this.v6Buckets[h[0]!];
    if (bucket !== undefined) {
      const hi = h[0]! * 65536 + h[1]!;
      const lo = h[2]! * 65536 + h[3]!;
      const { startHi, startLo } = bucket;
      let a = 0;
      let b = startHi.length - 1;
      let i = -1;
      while (a <= b) {
        const mid = (a + b) >>> 1;
        if (startHi[mid]! < hi || (startHi[mid] === hi && startLo[mid]! <= lo)) {
          i = mid;
          a = mid + 1;
        } else b = mid - 1;
      }
      if (i >= 0) {
        const eh = bucket.endHi[i]!;
        if (hi < eh || (hi === eh && lo <= bucket.endLo[i]!)) return bucket.hits[i];
      }
    }
    const lengths = this.v6Lengths;
    for (let k = 0; k < lengths.length; k++) {
      const hit = this.v6.get(v6LongKey(h, lengths[k]!));
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  private storeV6(h: Uint16Array, len: number, hit: NetworkHit): void {
    if (len <= 16) {
      const first = len === 0 ? 0 : (h[0]! >>> (16 - len)) << (16 - len);
      const n = 2 ** (16 - len);
      for (let i = 0; i < n; i++) this.v6Wide[first + i] = hit;
      return;
    }
    if (len > 64) {
      this.v6.set(v6LongKey(h, len), hit);
      if (this.v6Seen[len] === 0) {
        this.v6Seen[len] = 1;
        this.v6Lengths.push(len);
      }
      return;
    }
    if (this.v6Stored >= this.capacity) {
      this.v6Buckets = new Array<V6Bucket | undefined>(65536).fill(undefined);
      this.v6Stored = 0;
      this.v6Evictions++;
    }
    const hi = h[0]! * 65536 + h[1]!;
    const lo = h[2]! * 65536 + h[3]!;
    let sHi: number;
    let sLo: number;
    let eHi: number;
    let eLo: number;
    if (len <= 32) {
      const host = len === 32 ? 0 : 0xffffffff >>> len;
      sHi = (hi & ~host) >>> 0;
      eHi = (hi | host) >>> 0;
      sLo = 0;
      eLo = 0xffffffff;
    } else {
      const host = len === 64 ? 0 : 0xffffffff >>> (len - 32);
      sHi = hi;
      eHi = hi;
      sLo = (lo & ~host) >>> 0;
      eLo = (lo | host) >>> 0;
    }
    let bucket = this.v6Buckets[h[0]!];
    if (bucket === undefined) {
      bucket = { startHi: [], startLo: [], endHi: [], endLo: [], hits: [] };
      this.v6Buckets[h[0]!] = bucket;
    }
    let at = bucket.startHi.length;
    while (at > 0 && (bucket.startHi[at - 1]! > sHi || (bucket.startHi[at - 1] === sHi && bucket.startLo[at - 1]! > sLo))) at--;
    bucket.startHi.splice(at, 0, sHi);
    bucket.startLo.splice(at, 0, sLo);
    bucket.endHi.splice(at, 0, eHi);
    bucket.endLo.splice(at, 0, eLo);
    bucket.hits.splice(at, 0, hit);
    this.v6Stored++;
  }

  clear(): void {
    this.v4Wide = new Array<NetworkHit | undefined>(65536).fill(undefined);
    this.v4Buckets = new Array<V4Bucket | undefined>(65536).fill(undefined);
    this.v4Stored = 0;
    this.v6Wide = new Array<NetworkHit | undefined>(65536).fill(undefined);
    this.v6Buckets = new Array<V6Bucket | undefined>(65536).fill(undefined);
    this.v6Stored = 0;
    this.v6.clear();
  }
}

/** Key of a /65–/128 network: length and the masked hextets. */
function v6LongKey(h: Uint16Array, len: number): string {
  let key = `${len}`;
  const full = len >>> 4;
  for (let i = 0; i < full; i++) key += `:${h[i]!}`;
  const rest = len & 15;
  if (rest > 0) key += `:${h[full]! & (0xffff << (16 - rest)) & 0xffff}`;
  return key;
}
