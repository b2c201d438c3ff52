/**
 * Caches that outlive one batch: a text range of the current line → the
 * dictionary id of its value in the current batch, without taking a substring
 * or hashing the whole string. Direct-mapped on a hash of a few sampled
 * characters and verified with startsWith; a slot remembers which batch its id
 * belongs to, so a value seen in an earlier batch costs one Map lookup per
 * batch, not one per row. Logs repeat few IPs, paths and user agents, so most
 * rows are hits.
 */
import { canonicalIp } from './ip-address.ts';

/** A hash of up to 8 sampled characters and the length of text[start,end). */
export function sampleHash(text: string, start: number, end: number, mask: number): number {
  const len = end - start;
  let h = Math.imul(len, 0x9e3779b1) ^ text.charCodeAt(start);
  if (len > 1) {
    h = Math.imul(h ^ text.charCodeAt(end - 1), 0x85ebca6b);
    h = Math.imul(h ^ text.charCodeAt(start + (len >> 1)), 0xc2b2ae35);
    h = Math.imul(h ^ text.charCodeAt(end - 1 - (len >> 2)), 0x27d4eb2f);
    h = Math.imul(h ^ text.charCodeAt(start + (len >> 2)), 0x165667b1);
    h = Math.imul(h ^ text.charCodeAt(end - 2), 0x9e3779b1);
    h = Math.imul(h ^ text.charCodeAt(start + 1), 0x85ebca6b);
    h = Math.imul(h ^ text.charCodeAt(end - 1 - (len >> 3)), 0xc2b2ae35);
  }
  return (h ^ (h >>> 15)) & mask;
}

/** text[start, start + k.length) equals k. Short keys by a char loop (no allocation), long ones by slice + === (memcmp). */
function equalsAt(text: string, start: number, end: number, k: string): boolean {
  const len = end - start;
  if (k.length !== len) return false;
  if (len > 24) return k === text.slice(start, end);
  for (let i = 0; i < len; i++) if (text.charCodeAt(start + i) !== k.charCodeAt(i)) return false;
  return true;
}

/** Hash of a dictionary value: every character of short values, 8 sampled ones and the length of longer ones. */
function valueHash(v: string): number {
  const len = v.length;
  let h: number;
  if (len <= 16) {
    h = len;
    for (let i = 0; i < len; i++) h = Math.imul(h ^ v.charCodeAt(i), 0x01000193);
  } else {
    h = Math.imul(len, 0x9e3779b1) ^ v.charCodeAt(0);
    h = Math.imul(h ^ v.charCodeAt(len - 1), 0x85ebca6b);
    h = Math.imul(h ^ v.charCodeAt(len >> 1), 0xc2b2ae35);
    h = Math.imul(h ^ v.charCodeAt(len - 1 - (len >> 2)), 0x27d4eb2f);
    h = Math.imul(h ^ v.charCodeAt(len >> 2), 0x165667b1);
    h = Math.imul(h ^ v.charCodeAt(len - 2), 0x9e3779b1);
    h = Math.imul(h ^ v.charCodeAt(1), 0x85ebca6b);
    h = Math.imul(h ^ v.charCodeAt(len - 1 - (len >> 3)), 0xc2b2ae35);
  }
  return h ^ (h >>> 15);
}

/** Dict.owner before a writer has appended with `add`. */
const NO_OWNER = 0;
let nextOwner = 1;

/** A fresh writer token for Dict.add (a table takes a new one whenever it forgets what it added). */
export function newDictOwner(): number {
  return nextOwner++;
}

/**
 * Per-batch dictionary: values in id order and an open-addressing index to find
 * them (a Map measured several times slower to fill: one insert per distinct
 * value per batch, tens of thousands per batch). The first writer to `add`
 * (an owner token) appends without a lookup; values that reach the dictionary
 * any other way (`intern`: the generic parser, a second table) are looked up
 * among all values and, while an owner appends, also kept in a small `foreign`
 * map the owner checks before appending. So a few generic-path lines in a
 * batch no longer turn every later append into a full lookup.
 */
export class Dict {
  readonly values: string[] = [];
  private slots: Int32Array = new Int32Array(64);
  private hashes: Int32Array = new Int32Array(32);
  /** values[0, indexed) are in the index. */
  private indexed = 0;
  private owner = NO_OWNER;
  /** Values not added by the owner, while there is one: value → id. */
  private foreign: Map<string, number> | null = null;

  /**
   * Id of v for a writer that knows v is not among the values it added to this
   * dictionary under `owner`: appended without a lookup while `owner` is the
   * first writer (unless another path added v), else interned.
   */
  add(v: string, owner: number): number {
    if (this.lookupHook !== null) return this.hooked(v);
    const values = this.values;
    if (this.owner !== owner) {
      if (this.owner !== NO_OWNER) return this.intern(v);
      this.owner = owner;
      if (values.length > 0) {
        const f = new Map<string, number>();
        for (let i = 0; i < values.length; i++) f.set(values[i] as string, i);
        this.foreign = f;
      }
    }
    const foreign = this.foreign;
    if (foreign !== null) {
      const id = foreign.get(v);
      if (id !== undefined) return id;
    }
    values.push(v);
    return values.length - 1;
  }

  /**
   * While set (the lines the WebAssembly fast path leaves to the JavaScript parsers), the id of a
   * value or -1, from an index that knows every value of this dictionary: lookups ask it, and this
   * dictionary's own index, which would hash every value the module appended, is never built.
   */
  lookupHook: ((v: string) => number) | null = null;

  private hooked(v: string): number {
    const id = (this.lookupHook as (v: string) => number)(v);
    return id >= 0 ? id : this.append(v);
  }

  /**
   * Id of v for a writer outside the owner scheme that knows v is not among the values (the
   * WebAssembly fast path, which binds every value other writers add back into its tables).
   */
  append(v: string): number {
    const id = this.values.length;
    this.values.push(v);
    if (this.owner !== NO_OWNER) (this.foreign ??= new Map()).set(v, id);
    return id;
  }

  /** Id of v, or -1 when absent. */
  find(v: string): number {
    if (this.lookupHook !== null) return this.lookupHook(v);
    if (this.indexed !== this.values.length) this.index();
    const h = valueHash(v);
    const mask = this.slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const k = (this.slots[i] as number) - 1;
      if (k < 0 || (this.hashes[k] === h && this.values[k] === v)) return k;
    }
  }

  intern(v: string): number {
    if (this.lookupHook !== null) return this.hooked(v);
    if (this.indexed !== this.values.length) this.index();
    const h = valueHash(v);
    const values = this.values;
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = h & mask;
    for (;;) {
      const k = (slots[i] as number) - 1;
      if (k < 0) break;
      if (this.hashes[k] === h && values[k] === v) return k;
      i = (i + 1) & mask;
    }
    const id = values.length;
    values.push(v);
    if (this.owner !== NO_OWNER) (this.foreign ??= new Map()).set(v, id);
    if (id >= this.hashes.length) this.growHashes(id + 1);
    this.hashes[id] = h;
    this.indexed = id + 1;
    if ((id + 1) * 2 > slots.length) this.rehash(slots.length * 2);
    else slots[i] = id + 1;
    return id;
  }

  /** Indexes the values appended by `add` since the last lookup (only those: appends and lookups may alternate). */
  private index(): void {
    const values = this.values;
    const n = values.length;
    const from = this.indexed;
    if (n > this.hashes.length) this.growHashes(n);
    for (let k = from; k < n; k++) this.hashes[k] = valueHash(values[k] as string);
    this.indexed = n;
    let size = this.slots.length;
    while (n * 2 > size) size *= 2;
    if (size !== this.slots.length) {
      this.rehash(size);
      return;
    }
    const slots = this.slots;
    const mask = size - 1;
    for (let k = from; k < n; k++) {
      let i = (this.hashes[k] as number) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = k + 1;
    }
  }

  private growHashes(n: number): void {
    let m = this.hashes.length * 2;
    while (m < n) m *= 2;
    const hashes = new Int32Array(m);
    hashes.set(this.hashes);
    this.hashes = hashes;
  }

  private rehash(n: number): void {
    const slots = new Int32Array(n);
    const mask = n - 1;
    const count = this.indexed;
    for (let k = 0; k < count; k++) {
      let i = (this.hashes[k] as number) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = k + 1;
    }
    this.slots = slots;
  }
}

/** text[start,end) (ASCII) → id in `dict` for batch `serial`. */
export class RangeCache {
  private readonly mask: number;
  private readonly keys: (string | undefined)[];
  private readonly serials: Int32Array;
  private readonly ids: Int32Array;

  constructor(slots: number) {
    this.mask = slots - 1;
    this.keys = new Array<string | undefined>(slots).fill(undefined);
    this.serials = new Int32Array(slots).fill(-1);
    this.ids = new Int32Array(slots);
  }

  private last = '\u0000';
  private lastSerial = -1;
  private lastId = -1;

  lookup(text: string, buf: Buffer, start: number, end: number, dict: Dict, serial: number): number {
    const len = end - start;
    if (len <= 16) {
      // short, repetitive values (method, protocol, '-'-less user): compare with the previous row's, no substring
      const l = this.last;
      if (l.length === len && this.lastSerial === serial) {
        let i = 0;
        while (i < len && text.charCodeAt(start + i) === l.charCodeAt(i)) i++;
        if (i === len) return this.lastId;
      }
      const id = this.lookupSlot(text, buf, start, end, dict, serial);
      this.last = dict.values[id] as string;
      this.lastSerial = serial;
      this.lastId = id;
      return id;
    }
    return this.lookupSlot(text, buf, start, end, dict, serial);
  }

  private lookupSlot(text: string, buf: Buffer, start: number, end: number, dict: Dict, serial: number): number {
    const slot = sampleHash(text, start, end, this.mask);
    const k = this.keys[slot];
    // startsWith(k, start) measured ~3x slower than slice + === on long values
    if (k !== undefined && equalsAt(text, start, end, k)) {
      if (this.serials[slot] === serial) return this.ids[slot] as number;
      const id = dict.intern(k);
      this.serials[slot] = serial;
      this.ids[slot] = id;
      return id;
    }
    let id = dict.find(text.slice(start, end));
    // a fresh copy, so neither the dictionary nor this cache keeps the block text alive
    if (id < 0) id = dict.intern(buf.toString('latin1', start, end));
    this.keys[slot] = dict.values[id];
    this.serials[slot] = serial;
    this.ids[slot] = id;
    return id;
  }
}

/** Raw client text → canonical IP dictionary id * 8 + kind for batch `serial`; -1 when not an IP nor host name. */
export class ClientCache {
  private readonly mask: number;
  private readonly keys: (string | undefined)[];
  private readonly canon: (string | null)[];
  private readonly kinds: Uint8Array;
  private readonly serials: Int32Array;
  private readonly ids: Int32Array;

  constructor(slots: number) {
    this.mask = slots - 1;
    this.keys = new Array<string | undefined>(slots).fill(undefined);
    this.canon = new Array<string | null>(slots).fill(null);
    this.kinds = new Uint8Array(slots);
    this.serials = new Int32Array(slots).fill(-1);
    this.ids = new Int32Array(slots);
  }

  lookup(text: string, buf: Buffer, start: number, end: number, dict: Dict, serial: number): number {
    const slot = sampleHash(text, start, end, this.mask);
    const k = this.keys[slot];
    if (k !== undefined && equalsAt(text, start, end, k)) {
      const c = this.canon[slot] as string | null;
      if (c === null) return -1;
      if (this.serials[slot] !== serial) {
        this.ids[slot] = dict.intern(c);
        this.serials[slot] = serial;
      }
      return (this.ids[slot] as number) * 8 + (this.kinds[slot] as number);
    }
    const raw = buf.toString('latin1', start, end); // a fresh copy: the cache must not keep the block alive
    const ip = canonicalIp(raw);
    this.keys[slot] = raw;
    if (ip === null) {
      this.canon[slot] = null;
      return -1;
    }
    const id = dict.intern(ip.value);
    this.canon[slot] = dict.values[id] as string;
    this.kinds[slot] = ip.kind;
    this.serials[slot] = serial;
    this.ids[slot] = id;
    return id * 8 + ip.kind;
  }
}

/** The caches of one parse (one per string column plus the client cache), allocated on first use. */
export class ValueCaches {
  private readonly columns: (RangeCache | undefined)[] = [];
  private clientCache: ClientCache | undefined;
  private readonly columnSlots: number;
  private readonly clientSlots: number;
  serial = 0;

  /** Small caches (detection on a sample) or full-size ones (default). */
  constructor(columnSlots: number = 1 << 14, clientSlots: number = 1 << 17) {
    this.columnSlots = columnSlots;
    this.clientSlots = clientSlots;
  }

  get client(): ClientCache {
    return this.clientCache ?? (this.clientCache = new ClientCache(this.clientSlots));
  }

  column(i: number): RangeCache {
    return this.columns[i] ?? (this.columns[i] = new RangeCache(this.columnSlots));
  }
}
