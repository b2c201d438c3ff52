/**
 * Interning without a substring per field: a text range of the current line
 * plus a hash the caller computed while scanning it → the dictionary id of its
 * value in the current batch. Open addressing on the hash, confirmed by
 * comparing characters against the stored value only on a hash hit; a
 * substring (a flat copy, never a slice that keeps the block alive) is made
 * only for a value the table has not seen. Entries outlive a batch: a value
 * seen in an earlier batch costs one Dict.intern per batch, not one per row.
 * The table is cleared when it holds `maxEntries` values (memory stays bounded).
 */
import type { Buffer } from 'node:buffer';
import { canonicalIp } from './ip-address.ts';
import { newDictOwner } from './value-cache.ts';
import type { Dict } from './value-cache.ts';

/** text[s,e) equals k (same length checked by the caller). */
function sameText(t: string, s: number, e: number, k: string): boolean {
  const len = e - s;
  // a char loop for short keys (no allocation); slice + === (memcmp) for long ones
  if (len > 24) return k === t.slice(s, e);
  for (let i = 0; i < len; i++) if (t.charCodeAt(s + i) !== k.charCodeAt(i)) return false;
  return true;
}

/** A flat copy of latin1 text[s,e): short slices are copies already; longer ones come from the bytes. */
export function flatCopy(t: string, buf: Buffer, s: number, e: number): string {
  return e - s < 13 ? t.slice(s, e) : (buf as unknown as Latin1Slicer).latin1Slice(s, e);
}

/** Node's Buffer#latin1Slice (what toString('latin1', s, e) calls after checking its arguments). */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

/** Hash of up to 8 sampled characters and the length of text[s,e) . */
export function sampledHash(t: string, s: number, e: number): number {
  const len = e - s;
  if (len === 0) return 0;
  let h = Math.imul(len, 0x9e3779b1) ^ t.charCodeAt(s);
  if (len > 1) {
    h = Math.imul(h ^ t.charCodeAt(e - 1), 0x85ebca6b);
    h = Math.imul(h ^ t.charCodeAt(s + (len >> 1)), 0xc2b2ae35);
    h = Math.imul(h ^ t.charCodeAt(e - 1 - (len >> 2)), 0x27d4eb2f);
    h = Math.imul(h ^ t.charCodeAt(s + (len >> 2)), 0x165667b1);
    h = Math.imul(h ^ t.charCodeAt(e - 2), 0x9e3779b1);
    h = Math.imul(h ^ t.charCodeAt(s + 1), 0x85ebca6b);
    h = Math.imul(h ^ t.charCodeAt(e - 1 - (len >> 3)), 0xc2b2ae35);
  }
  return h ^ (h >>> 15);
}

/** Hash of every character of text[s,e). */
export function fullHash(t: string, s: number, e: number): number {
  let h = 0;
  for (let i = s; i < e; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193);
  return finishHash(h, e - s);
}

/** Hash of every byte of bytes[s,e), four bytes a step (DataView reads are ~4x cheaper than charCodeAt per byte). */
export function wordHash(dv: DataView, s: number, e: number): number {
  let h = Math.imul(e - s, 0x9e3779b1);
  let p = s;
  for (; p + 4 <= e; p += 4) h = Math.imul(h ^ dv.getInt32(p, true), 0x85ebca6b) ^ (h >>> 13);
  for (; p < e; p++) h = Math.imul(h ^ dv.getUint8(p), 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x27d4eb2f);
  return h ^ (h >>> 15);
}

/** Mixes a hash accumulated character by character (`h = imul(h ^ ch, 0x01000193)`) with the length. */
export function finishHash(h: number, len: number): number {
  h = Math.imul(h ^ len, 0x85ebca6b);
  return h ^ (h >>> 13);
}

const INITIAL_SLOTS = 1 << 12;

/** text range → id in the batch dictionary; one table per string column. */
export class InternTable {
  private slots: Int32Array = new Int32Array(INITIAL_SLOTS);
  private mask = INITIAL_SLOTS - 1;
  private keys: string[] = [];
  private hashes: Int32Array = new Int32Array(INITIAL_SLOTS >> 1);
  private serials: Int32Array = new Int32Array(INITIAL_SLOTS >> 1);
  private ids: Int32Array = new Int32Array(INITIAL_SLOTS >> 1);
  private count = 0;
  private readonly maxEntries: number;
  /**
   * Dict.add token: the values this table added to a batch dictionary under it are exactly its entries
   * whose serial is that batch's (renewed when entries are dropped, or when an older batch comes back).
   */
  private owner = newDictOwner();
  private lastSerial = -1;

  constructor(maxEntries: number = 1 << 16) {
    this.maxEntries = maxEntries;
  }

  /** Id of text[s,e) (hash h) in `dict`, the dictionary of batch `serial`. */
  intern(t: string, buf: Buffer, s: number, e: number, h: number, dict: Dict, serial: number): number {
    const len = e - s;
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const k = (this.slots[i] as number) - 1;
      if (k < 0) break;
      if (this.hashes[k] === h) {
        const key = this.keys[k] as string;
        if (key.length === len && sameText(t, s, e, key)) {
          if (this.serials[k] === serial) return this.ids[k] as number;
          if (serial !== this.lastSerial) this.nextBatch(serial);
          const id = dict.add(key, this.owner);
          this.serials[k] = serial;
          this.ids[k] = id;
          return id;
        }
      }
      i = (i + 1) & mask;
    }
    const v = flatCopy(t, buf, s, e);
    if (serial !== this.lastSerial) this.nextBatch(serial);
    const id = dict.add(v, this.owner);
    this.add(i, v, h, serial, id);
    return id;
  }

  /** A batch other than the last one: an older one (interleaved parses sharing this table) renews the token. */
  private nextBatch(serial: number): void {
    if (serial < this.lastSerial) this.owner = newDictOwner();
    this.lastSerial = serial;
  }

  private add(slot: number, v: string, h: number, serial: number, id: number): void {
    if (this.count >= this.maxEntries) {
      this.clear();
      slot = this.free(h);
    } else if ((this.count + 1) * 2 > this.slots.length) {
      this.grow();
      slot = this.free(h);
    }
    const k = this.count++;
    this.keys.push(v);
    this.hashes[k] = h;
    this.serials[k] = serial;
    this.ids[k] = id;
    this.slots[slot] = k + 1;
  }

  private free(h: number): number {
    let i = h & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    return i;
  }

  private clear(): void {
    this.slots.fill(0);
    this.keys = [];
    this.count = 0;
    // dropped values may be in the batch dictionary already: what is added from now on is looked up there
    this.owner = newDictOwner();
  }

  private grow(): void {
    const n = this.slots.length * 2;
    this.slots = new Int32Array(n);
    this.mask = n - 1;
    const m = n >> 1;
    const hashes = new Int32Array(m);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const serials = new Int32Array(m);
    serials.set(this.serials);
    this.serials = serials;
    const ids = new Int32Array(m);
    ids.set(this.ids);
    this.ids = ids;
    for (let k = 0; k < this.count; k++) this.slots[this.free(this.hashes[k] as number)] = k + 1;
  }
}

/**
 * Raw client text → canonical value, canonicalised once per distinct raw text;
 * `find` does not touch the batch dictionary (a line may still be rejected),
 * `idOf` interns the canonical value of a found entry.
 */
export class ClientTable {
  private slots: Int32Array = new Int32Array(INITIAL_SLOTS);
  private mask = INITIAL_SLOTS - 1;
  private keys: string[] = [];
  private canon: (string | null)[] = [];
  private kinds: Uint8Array = new Uint8Array(INITIAL_SLOTS >> 1);
  private hashes: Int32Array = new Int32Array(INITIAL_SLOTS >> 1);
  private serials: Int32Array = new Int32Array(INITIAL_SLOTS >> 1);
  private ids: Int32Array = new Int32Array(INITIAL_SLOTS >> 1);
  private count = 0;
  private readonly maxEntries: number;

  constructor(maxEntries: number = 1 << 16) {
    this.maxEntries = maxEntries;
  }

  /** Entry of raw client text[s,e) (hash h), or -1 when it is not an IP nor a host name. */
  find(t: string, buf: Buffer, s: number, e: number, h: number): number {
    const len = e - s;
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const k = (this.slots[i] as number) - 1;
      if (k < 0) break;
      if (this.hashes[k] === h) {
        const key = this.keys[k] as string;
        if (key.length === len && sameText(t, s, e, key)) return this.canon[k] === null ? -1 : k;
      }
      i = (i + 1) & mask;
    }
    const raw = flatCopy(t, buf, s, e);
    const ip = canonicalIp(raw);
    const k = this.add(i, raw, h, ip === null ? null : ip.value, ip === null ? 0 : ip.kind);
    return ip === null ? -1 : k;
  }

  /** ipId * 8 + kind of entry k in `dict`, the dictionary of batch `serial`. */
  idOf(k: number, dict: Dict, serial: number): number {
    if (this.serials[k] !== serial) {
      this.ids[k] = dict.intern(this.canon[k] as string);
      this.serials[k] = serial;
    }
    return (this.ids[k] as number) * 8 + (this.kinds[k] as number);
  }

  private add(slot: number, raw: string, h: number, canon: string | null, kind: number): number {
    if (this.count >= this.maxEntries) {
      this.clear();
      slot = this.free(h);
    } else if ((this.count + 1) * 2 > this.slots.length) {
      this.grow();
      slot = this.free(h);
    }
    const k = this.count++;
    this.keys.push(raw);
    this.canon.push(canon);
    this.kinds[k] = kind;
    this.hashes[k] = h;
    this.serials[k] = -1;
    this.ids[k] = -1;
    this.slots[slot] = k + 1;
    return k;
  }

  private free(h: number): number {
    let i = h & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    return i;
  }

  private clear(): void {
    this.slots.fill(0);
    this.keys = [];
    this.canon = [];
    this.count = 0;
  }

  private grow(): void {
    const n = this.slots.length * 2;
    this.slots = new Int32Array(n);
    this.mask = n - 1;
    const m = n >> 1;
    const kinds = new Uint8Array(m);
    kinds.set(this.kinds);
    this.kinds = kinds;
    const hashes = new Int32Array(m);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const serials = new Int32Array(m);
    serials.set(this.serials);
    this.serials = serials;
    const ids = new Int32Array(m);
    ids.set(this.ids);
    this.ids = ids;
    for (let k = 0; k < this.count; k++) this.slots[this.free(this.hashes[k] as number)] = k + 1;
  }
}

/** bytes a[s, s+len) equal bytes b[o, o+len), compared four bytes a step (no string, no allocation). */
export function sameBytes(a: DataView, s: number, b: DataView, o: number, len: number): boolean {
  let i = 0;
  for (; i + 4 <= len; i += 4) if (a.getInt32(s + i, true) !== b.getInt32(o + i, true)) return false;
  for (; i < len; i++) if (a.getUint8(s + i) !== b.getUint8(o + i)) return false;
  return true;
}

/**
 * A byte range → a tuple of ids per batch (a request line → method, path,
 * query and protocol ids; `referer" "user-agent` → both ids): a repeated
 * composite value costs one hash and one compare instead of one per part. Each
 * slot is one record [hash, key length + 1, serial, ids…, key offset] (one
 * cache line read on a probe); the key's bytes live in an arena and are
 * compared against the line's bytes (no string is made for a key). The caller
 * fills a record's ids when its serial is not the current batch's.
 */
export class TupleTable {
  /** Int32s per slot record. */
  readonly stride: number;
  private readonly width: number;
  /** Slot records; `ids` of the record at `r` are rec[r + 3 …]. */
  rec: Int32Array;
  private mask: number;
  /** Key bytes of every entry, at the offset its record keeps in its last Int32. */
  private arena: Uint8Array = new Uint8Array(1 << 16);
  private adv: DataView = new DataView(this.arena.buffer);
  private used = 0;
  private count = 0;
  private readonly maxEntries: number;
  /** Hashes of keys seen once and not stored (direct-mapped), or null when every key is stored at first sight. */
  private readonly once: Int32Array | null;

  /** `onceSlots` > 0: a key is stored only the second time it is seen (record() returns -1 the first time). */
  constructor(width: number, maxEntries: number = 1 << 16, onceSlots: number = 0) {
    this.width = width;
    let stride = 4;
    while (stride < width + 4) stride *= 2;
    this.stride = stride;
    this.maxEntries = maxEntries;
    this.rec = new Int32Array(INITIAL_SLOTS * this.stride);
    this.mask = INITIAL_SLOTS - 1;
    this.once = onceSlots > 0 ? new Int32Array(onceSlots) : null;
  }

  /**
   * Offset in `rec` of the record of bytes[s,e) (hash h), added (serial -1)
   * when new; -1 when the key is new and seen for the first time (a table with
   * `onceSlots`): nothing is stored then.
   */
  record(dv: DataView, buf: Buffer, s: number, e: number, h: number): number {
    const len = e - s;
    const mask = this.mask;
    const stride = this.stride;
    const rec = this.rec;
    let i = h & mask;
    for (;;) {
      const r = i * stride;
      const l = (rec[r + 1] as number) - 1;
      if (l < 0) break;
      if (rec[r] === h && l === len && sameBytes(dv, s, this.adv, rec[r + stride - 1] as number, len)) return r;
      i = (i + 1) & mask;
    }
    const once = this.once;
    if (once !== null) {
      const j = (h ^ (h >>> 16)) & (once.length - 1);
      if (once[j] !== h) {
        once[j] = h;
        return -1;
      }
    }
    if (this.count >= this.maxEntries) {
      this.rec.fill(0);
      this.count = 0;
      this.used = 0;
      i = this.free(h);
    } else if ((this.count + 1) * 2 > this.mask + 1) {
      this.grow();
      i = this.free(h);
    }
    if (this.used + len > this.arena.length) this.growArena(len);
    const at = this.used;
    buf.copy(this.arena, at, s, e);
    this.used = at + len;
    this.count++;
    const r = i * stride;
    this.rec[r] = h;
    this.rec[r + 1] = len + 1;
    this.rec[r + 2] = -1;
    this.rec[r + stride - 1] = at;
    return r;
  }

  private growArena(len: number): void {
    let n = this.arena.length * 2;
    while (n < this.used + len) n *= 2;
    const a = new Uint8Array(n);
    a.set(this.arena.subarray(0, this.used));
    this.arena = a;
    this.adv = new DataView(a.buffer);
  }

  private free(h: number): number {
    let i = h & this.mask;
    while (this.rec[i * this.stride + 1] !== 0) i = (i + 1) & this.mask;
    return i;
  }

  private grow(): void {
    const old = this.rec;
    const stride = this.stride;
    const n = (this.mask + 1) * 2;
    this.rec = new Int32Array(n * stride);
    this.mask = n - 1;
    for (let r = 0; r < old.length; r += stride) {
      if (old[r + 1] === 0) continue;
      const to = this.free(old[r] as number) * stride;
      for (let j = 0; j < stride; j++) this.rec[to + j] = old[r + j] as number;
    }
  }
}

/**
 * Canonical IPv4 client text (dotted quad, no leading zeros) keyed by its
 * 32-bit value: no string is touched on a hit. Each slot is one record
 * [key, state, id, -] (state 0 empty, else the batch serial of id). The text is
 * the canonical value itself, so it is copied once per distinct address.
 */
export class V4Table {
  private rec: Int32Array = new Int32Array(INITIAL_SLOTS * 4);
  private texts: (string | undefined)[] = new Array<string | undefined>(INITIAL_SLOTS).fill(undefined);
  private mask = INITIAL_SLOTS - 1;
  private count = 0;
  private readonly maxEntries: number;
  /** Dict.add token, as in InternTable. */
  private owner = newDictOwner();
  private lastSerial = -1;

  constructor(maxEntries: number = 1 << 16) {
    this.maxEntries = maxEntries;
  }

  /** ipDict id of the address `v4` written as text[s,e), in `dict`, the dictionary of batch `serial`. */
  idOf(v4: number, t: string, buf: Buffer, s: number, e: number, dict: Dict, serial: number): number {
    const key = v4 | 0;
    const rec = this.rec;
    let mask = this.mask;
    let i = (Math.imul(key, 0x9e3779b1) >>> 7) & mask;
    for (;;) {
      const r = i << 2;
      const st = rec[r + 1] as number;
      if (st === 0) break;
      if (rec[r] === key) {
        if (st === serial) return rec[r + 2] as number;
        if (serial !== this.lastSerial) this.nextBatch(serial);
        const id = dict.add(this.texts[i] as string, this.owner);
        rec[r + 1] = serial;
        rec[r + 2] = id;
        return id;
      }
      i = (i + 1) & mask;
    }
    const full = this.count >= this.maxEntries;
    if (full || (this.count + 1) * 2 > mask + 1) {
      this.resize(full ? mask + 1 : (mask + 1) * 2, full);
      mask = this.mask;
      i = (Math.imul(key, 0x9e3779b1) >>> 7) & mask;
      while (this.rec[(i << 2) + 1] !== 0) i = (i + 1) & mask;
    }
    const v = flatCopy(t, buf, s, e);
    if (serial !== this.lastSerial) this.nextBatch(serial);
    const id = dict.add(v, this.owner);
    const r = i << 2;
    this.rec[r] = key;
    this.rec[r + 1] = serial;
    this.rec[r + 2] = id;
    this.texts[i] = v;
    this.count++;
    return id;
  }

  /** A batch other than the last one: an older one (interleaved parses sharing this table) renews the token. */
  private nextBatch(serial: number): void {
    if (serial < this.lastSerial) this.owner = newDictOwner();
    this.lastSerial = serial;
  }

  /** n slots; keeps the entries unless `drop` (the table was full). */
  private resize(n: number, drop: boolean): void {
    const old = this.rec;
    const oldTexts = this.texts;
    this.rec = new Int32Array(n * 4);
    this.texts = new Array<string | undefined>(n).fill(undefined);
    this.mask = n - 1;
    this.count = 0;
    if (drop) {
      // dropped values may be in the batch dictionary already: what is added from now on is looked up there
      this.owner = newDictOwner();
      return;
    }
    const mask = this.mask;
    for (let j = 0; j < oldTexts.length; j++) {
      const r = j << 2;
      if (old[r + 1] === 0) continue;
      let i = (Math.imul(old[r] as number, 0x9e3779b1) >>> 7) & mask;
      while (this.rec[(i << 2) + 1] !== 0) i = (i + 1) & mask;
      const to = i << 2;
      this.rec[to] = old[r] as number;
      this.rec[to + 1] = old[r + 1] as number;
      this.rec[to + 2] = old[r + 2] as number;
      this.texts[i] = oldTexts[j];
      this.count++;
    }
  }
}
