/**
 * Memoises a database by the network each answer came from. A search returns the record
 * and the prefix length of the network it sits in (`getWithPrefixLength`); every other
 * address in that network has the same answer, so it is stored under (network, length).
 * A later address is checked against each prefix length seen so far (networks in one
 * database never overlap, so at most one matches) before the database is searched.
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
  findV6(hextets: Uint16Array, text: string): RawHit;
}

/** A memoised answer: the fields (null when the database has no record) and the network as CIDR. */
export interface NetworkHit {
  readonly fields: DbFields | null;
  readonly network: string;
}

const TWO32 = 4294967296;

export class MemoisedSource {
  private readonly source: NetworkSource;
  private readonly v4: BoundedMemo<number, NetworkHit>;
  private readonly v6: BoundedMemo<number | string, NetworkHit>;
  private readonly v4Lengths: number[] = [];
  private readonly v6Lengths: number[] = [];
  private readonly v4Seen = new Uint8Array(33);
  private readonly v6Seen = new Uint8Array(129);
  walks = 0;
  networkHits = 0;
  errors = 0;

  constructor(source: NetworkSource, capacity: number) {
    this.source = source;
    this.v4 = new BoundedMemo(capacity);
    this.v6 = new BoundedMemo(capacity);
  }

  get evictions(): number {
    return this.v4.evictions + this.v6.evictions;
  }

  /** The answer for an IPv4 address, or null when the database search threw. */
  lookupV4(value: number, text: string): NetworkHit | null {
    const lengths = this.v4Lengths;
    for (let i = 0; i < lengths.length; i++) {
      const hit = this.v4.get(v4Key(value, lengths[i]!));
      if (hit !== undefined) {
        this.networkHits++;
        return hit;
      }
    }
    let raw: RawHit;
    this.walks++;
    try {
      raw = this.source.findV4(value, text);
    } catch {
      this.errors++;
      return null;
    }
    const len = raw.prefixLength;
    if (!(len >= 0 && len <= 32 && Number.isInteger(len))) {
      this.errors++;
      return null;
    }
    const hit: NetworkHit = { fields: raw.fields, network: ipv4Cidr(value, len) };
    this.v4.set(v4Key(value, len), hit);
    if (this.v4Seen[len] === 0) {
      this.v4Seen[len] = 1;
      lengths.push(len);
    }
    return hit;
  }

  /** The answer for an IPv6 address, or null when the database search threw. */
  lookupV6(hextets: Uint16Array, text: string): NetworkHit | null {
    const lengths = this.v6Lengths;
    for (let i = 0; i < lengths.length; i++) {
      const hit = this.v6.get(v6Key(hextets, lengths[i]!));
      if (hit !== undefined) {
        this.networkHits++;
        return hit;
      }
    }
    let raw: RawHit;
    this.walks++;
    try {
      raw = this.source.findV6(hextets, text);
    } catch {
      this.errors++;
      return null;
    }
    const len = raw.prefixLength;
    if (!(len >= 0 && len <= 128 && Number.isInteger(len))) {
      this.errors++;
      return null;
    }
    const hit: NetworkHit = { fields: raw.fields, network: ipv6Cidr(hextets, len) };
    this.v6.set(v6Key(hextets, len), hit);
    if (this.v6Seen[len] === 0) {
      this.v6Seen[len] = 1;
      lengths.push(len);
    }
    return hit;
  }

  clear(): void {
    this.v4.clear();
    this.v6.clear();
  }
}

/**
 * Key of the /len network of an IPv4 value. Up to /24 the key is a small integer
 * (network bits in the low 24, length above), which V8 hashes fastest.
 */
function v4Key(value: number, len: number): number {
  if (len === 0) return 0;
  if (len <= 24) return (value >>> (32 - len)) | (len << 24);
  // /25–/32: network bits (up to 2^32) times 64 plus the length, above the small-key range
  return (value >>> (32 - len)) * 64 + len + TWO32;
}

function v6Key(h: Uint16Array, len: number): number | string {
  if (len === 0) return 0;
  if (len <= 32) {
    const w0 = h[0]! * 65536 + h[1]!;
    return Math.floor(w0 / 2 ** (32 - len)) * 256 + len;
  }
  let key = `${len}`;
  const full = len >>> 4;
  for (let i = 0; i < full; i++) key += `:${h[i]!}`;
  const rest = len & 15;
  if (rest > 0) key += `:${h[full]! & (0xffff << (16 - rest)) & 0xffff}`;
  return key;
}
