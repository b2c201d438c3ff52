// The combined-family fast path as WebAssembly (AssemblyScript, compiled by `pnpm build` to
// packages/parser/wasm/combined.wasm; the JavaScript side is src/wasm-combined.ts).
//
// A block of bytes is copied in once. `scan` walks its lines and writes the rows of well-formed
// ASCII lines of the plain combined shape straight into column arrays, with their strings as ids
// of the current batch's dictionaries: it interns each value by its bytes in a table of its own,
// and a table slot remembers the batch (serial) and id its value has there, so a value costs one
// probe per row and is handed to JavaScript (as a new value, to append to the dictionary) once per
// batch. A line of any other shape (empty, too long, a byte >= 0x80, an escaped quote, a `±hh:mm`
// zone, ...) stops the scan, and the JavaScript parsers parse it, exactly as without this module;
// they bind the values they add to a dictionary back into these tables (`bind`), so no value is
// ever added twice. It accepts a line only where CombinedRowParser.row (src/combined-fast.ts)
// takes its plain branch at every step and reads the same bytes the same way: a differential test
// (src/wasm-combined.test.ts) checks that rows, rejects and accounting are those of the JavaScript
// parsers. Clients other than dotted quads (IPv6, host names) are canonicalised here as
// src/ip-address.ts does it, once per distinct raw text, and remembered.
//
// Nothing is allocated through AssemblyScript's runtime (`--runtime stub`): the layout is fixed by
// `init`, and only the input region at the end grows.

/** Rows a `scan` call writes at most. */
const OUT_CAP: i32 = 8192;
/** Entries a table holds before the tables are cleared (src/intern-table.ts keeps the same bound). */
const MAXE: i32 = 16384;
const SLOTS: i32 = MAXE * 2;
/** Bytes of stored values a table holds before the tables are cleared. */
const ARENA: i32 = 1 << 20;
/** Lines longer than this are left to the JavaScript parsers (a table's arena takes any line it is given). */
const LONG_LINE: i32 = 65536;

// Dictionary columns, in this order everywhere (the JavaScript side maps them to COL_*).
const C_IP: i32 = 0;
const C_USER: i32 = 1;
const C_METHOD: i32 = 2;
const C_PATH: i32 = 3;
const C_QUERY: i32 = 4;
const C_PROTO: i32 = 5;
const C_REF: i32 = 6;
const C_UA: i32 = 7;
const C_XFF: i32 = 8;
const NCOL: i32 = 9;

// Tables. 0..8: the values of column 0..8 (table 0 holds dotted quads, keyed by their 32-bit value);
// 9, 10: tuples (a whole request line → its method, path, query and protocol; `referer" "user-agent`
// → both), so a repeated request line or pair costs one probe; 11: raw client texts other than
// dotted quads, each with its canonical value; 12: those canonical values (column 0 too).
const T_REQ: i32 = 9;
const T_PAIR: i32 = 10;
const T_RAW: i32 = 11;
const T_CANON: i32 = 12;
const NT: i32 = 13;

// A slot, 32 bytes (a probe reads one cache line), or 64 in the tuple tables:
//   [0] entry + 1 (0: free)  [4] hash (table 0: the address)  [8] value length  [12] value offset
//   [16] batch serial of the ids  [20] id in that batch's dictionary (tuples: ids of the parts, 4 x i32)
//   tuples: [36] the parts' slot addresses (4 x i32, 0: none)
//   raw clients: [24] ip kind + 1 (0: not an IP nor a host name)  [28] the canonical value's slot address
const SLOT_SMALL: usize = 32;
const SLOT_TUPLE: usize = 64;
const S_ENTRY: usize = 0;
const S_HASH: usize = 4;
const S_LEN: usize = 8;
const S_OFF: usize = 12;
const S_SERIAL: usize = 16;
const S_ID: usize = 20;
const S_PARTS: usize = 36;
const S_KIND: usize = 24;
const S_CANON: usize = 28;

// Row columns, OUT_CAP each: f64 time, bytes, line number, byte offset; i32 ids of the 9 columns;
// u16 status; u8 ip kind.
const R_TS: i32 = 0;
const R_BYTES: i32 = 1;
const R_LINE: i32 = 2;
const R_OFFSET: i32 = 3;
const R_F64: i32 = 4;

// The status words JavaScript reads after a call (i32 each; scan returns the rows).
const W_LINES: i32 = 1;
const W_STOP: i32 = 2;
const W_STOP_START: i32 = 3;
const W_STOP_NL: i32 = 4;
/** New values of this call per column: counts at W_NEW + c, entries in the new-value lists. */
const W_NEW: i32 = 8;
/** Dictionary sizes JavaScript writes before `batch` / `sync`. */
const W_SIZES: i32 = 24;
/** The next id of each column's dictionary (its size, as far as this module knows). */
const W_IDS: i32 = 40;
const W_WORDS: i32 = 64;

/** Why a scan stopped: block end, batch full, a line for JavaScript (one holding a byte >= 0x80), tables full, rows full. */
const STOP_END: i32 = 0;
const STOP_ROOM: i32 = 1;
const STOP_LINE: i32 = 2;
const STOP_HIGH: i32 = 3;
const STOP_CLEAR: i32 = 5;
const STOP_CAP: i32 = 6;

const IP_KIND_V4: i32 = 4;
/** Time ranges held at most (bounds: two per range). */
const MAX_BOUNDS: i32 = 65536;

let words: usize = 0;
let rowsF64: usize = 0;
let rowsI32: usize = 0;
let rowsStatus: usize = 0;
let rowsKind: usize = 0;
let newLists: usize = 0;
let tableBase: usize = 0;
let bounds: usize = 0;
let scratch: usize = 0;
/** The parts of a request line split without being stored (4 slot addresses). */
let partsScratch: usize = 0;
/** The canonical text of a client (canonClient). */
let canonBuf: usize = 0;
let input: usize = 0;
let inputCap: usize = 0;

// configuration
let withAgent: bool = true;
let withXff: bool = false;
let maxLine: i32 = 1 << 20;
/** Column bits left null: on every row (or, with `within`, rows in it), and on rows outside `within`. */
let maskIn: i32 = 0;
let maskOut: i32 = 0;
/** Bounds of the wanted rows' ranges and of `within` (-1: no filter), sorted: [b2k, b2k+1) ranges. */
let wantedN: i32 = -1;
let withinN: i32 = -1;

// per block
let len: i32 = 0;
let pos: i32 = 0;
let lineNo: f64 = 0;
let baseOffset: f64 = 0;

// per batch
let serial: i32 = 0;

/** The largest entry count and arena use of any table (a line may add one entry to each). */
let maxCount: i32 = 0;
let maxUsed: i32 = 0;

/** The last `dd/Mon/yyyy:HH` and ` ±hhmm` bytes (14 + 6) and that hour's UTC ms. */
let hourA: u64 = 0;
let hourB: u32 = 0;
let hourC: u32 = 0;
let zoneA: u32 = 0;
let zoneB: u32 = 0;
let hourBase: i64 = -1;
let hourSet: bool = false;

@inline function slotBytes(t: i32): usize {
  return t === T_REQ || t === T_PAIR ? SLOT_TUPLE : SLOT_SMALL;
}
@inline function tb(t: i32): usize {
  return load<u32>(tableBase + (<usize>t << 2));
}
@inline function tCount(t: i32): usize {
  return tableBase + 64 + (<usize>t << 2);
}
@inline function tUsed(t: i32): usize {
  return tableBase + 128 + (<usize>t << 2);
}
@inline function arena(t: i32): usize {
  return tb(t) + <usize>SLOTS * slotBytes(t);
}
@inline function word(w: i32): i32 {
  return load<i32>(words + (<usize>w << 2));
}
@inline function setWord(w: i32, v: i32): void {
  store<i32>(words + (<usize>w << 2), v);
}

export function init(): usize {
  const base = (__heap_base + 63) & ~(<usize>63);
  words = base;
  rowsF64 = words + <usize>W_WORDS * 4;
  rowsI32 = rowsF64 + <usize>R_F64 * <usize>OUT_CAP * 8;
  rowsStatus = rowsI32 + <usize>NCOL * <usize>OUT_CAP * 4;
  rowsKind = rowsStatus + <usize>OUT_CAP * 2;
  newLists = (rowsKind + <usize>OUT_CAP + 63) & ~(<usize>63);
  tableBase = newLists + <usize>NCOL * <usize>(OUT_CAP + 64) * 16;
  let top = tableBase + 256;
  for (let t = 0; t < NT; t++) top += <usize>SLOTS * slotBytes(t) + <usize>ARENA;
  bounds = top;
  seen = bounds + <usize>MAX_BOUNDS * 8 * 2;
  partsScratch = seen + <usize>SEEN * 4;
  canonBuf = partsScratch + 64;
  scratch = canonBuf + 512;
  input = scratch + <usize>LONG_LINE + 64;
  inputCap = 0;
  ensure(input + 65536);
  memory.fill(tableBase, 0, 256);
  top = tableBase + 256;
  for (let t = 0; t < NT; t++) {
    store<u32>(tableBase + (<usize>t << 2), <u32>top);
    top += <usize>SLOTS * slotBytes(t) + <usize>ARENA;
  }
  return base;
}

function ensure(top: usize): void {
  const have = <usize>memory.size() << 16;
  if (top <= have) return;
  const pages = <i32>((top - have + 65535) >> 16);
  if (memory.grow(pages) < 0) unreachable();
}

export function wordsAt(): usize { return words; }
export function rowsF64At(): usize { return rowsF64; }
export function rowsI32At(): usize { return rowsI32; }
export function rowsStatusAt(): usize { return rowsStatus; }
export function rowsKindAt(): usize { return rowsKind; }
export function newListsAt(): usize { return newLists; }
export function boundsAt(): usize { return bounds; }
export function scratchAt(): usize { return scratch; }
export function outCap(): i32 { return OUT_CAP; }
export function newCap(): i32 { return OUT_CAP + 64; }
export function maxBounds(): i32 { return MAX_BOUNDS; }
export function longLine(): i32 { return LONG_LINE; }

export function configure(agent: i32, xff: i32, max: i32): void {
  withAgent = agent !== 0;
  withXff = xff !== 0;
  maxLine = max;
}

/** Column masks and time ranges of the rows to come (bounds written at boundsAt(): wanted, then within). */
export function filter(mIn: i32, mOut: i32, nWanted: i32, nWithin: i32): void {
  maskIn = mIn;
  maskOut = mOut;
  wantedN = nWanted;
  withinN = nWithin;
  segW = -1;
  segI = -1;
}

/** A new batch: dictionaries as large as the sizes written at W_SIZES (values of earlier batches no longer count). */
export function batch(): void {
  serial++;
  sync();
}

/** The dictionaries grew on the JavaScript side: take their sizes from W_SIZES. */
export function sync(): void {
  for (let c = 0; c < NCOL; c++) setWord(W_IDS + c, word(W_SIZES + c));
}

/** Room for a block of `n` bytes (and 64 bytes after it); its address. */
export function reserveInput(n: i32): usize {
  const need = <usize>n + 64;
  if (need > inputCap) {
    ensure(input + need);
    inputCap = need;
  }
  return input;
}

/** The block's bytes are in: zero the bytes past its end (vector reads look there), start at its first line. */
export function begin(n: i32, firstLine: f64, offset: f64): void {
  memory.fill(input + <usize>n, 0, 64);
  len = n;
  pos = 0;
  lineNo = firstLine;
  baseOffset = offset;
}

/** Whether table t is nearly full (7/8 of its entries or of its arena): it is emptied at the next clear. */
function nearlyFull(t: i32): bool {
  return load<i32>(tCount(t)) >= MAXE - (MAXE >> 3) || load<i32>(tUsed(t)) >= ARENA - (ARENA >> 3);
}

/**
 * Empties the nearly full tables, and the tuple tables that point into them (request lines into
 * methods, paths, queries and protocols; pairs into referers and agents; raw clients into the
 * canonical ones): the others keep their values, so one column full of unique values (query
 * strings) does not make every other table fill again. The caller starts a new batch (the slots'
 * batch ids no longer match). Returns the emptied tables as bits.
 */
export function clearTables(): i32 {
  let bits = 0;
  for (let t = 0; t < NT; t++) if (nearlyFull(t)) bits |= 1 << t;
  if (bits === 0) bits = (1 << NT) - 1; // (not reached: a scan stops for a nearly full table only)
  if ((bits & ((1 << C_METHOD) | (1 << C_PATH) | (1 << C_QUERY) | (1 << C_PROTO))) !== 0) bits |= 1 << T_REQ;
  if ((bits & ((1 << C_REF) | (1 << C_UA))) !== 0) bits |= 1 << T_PAIR;
  if ((bits & ((1 << C_IP) | (1 << T_CANON))) !== 0) bits |= 1 << T_RAW;
  maxCount = 0;
  maxUsed = 0;
  smallLen0 = -1; // (their slots may be emptied)
  smallLen1 = -1;
  for (let t = 0; t < NT; t++) {
    if ((bits & (1 << t)) !== 0) {
      if (load<i32>(tCount(t)) > 0) memory.fill(tb(t), 0, <usize>SLOTS * slotBytes(t));
      store<i32>(tCount(t), 0);
      store<i32>(tUsed(t), 0);
    } else {
      const k = load<i32>(tCount(t));
      const u = load<i32>(tUsed(t));
      if (k > maxCount) maxCount = k;
      if (u > maxUsed) maxUsed = u;
    }
  }
  return bits;
}

@inline function at(p: i32): i32 {
  return <i32>load<u8>(input + <usize>p);
}

/** First byte `ch` in [p, end), or end. */
function find(ch: i32, p: i32, end: i32): i32 {
  const needle = i8x16.splat(<i8>ch);
  while (p + 16 <= end) {
    const m = i8x16.bitmask(i8x16.eq(v128.load(input + <usize>p), needle));
    if (m !== 0) return p + ctz<i32>(m);
    p += 16;
  }
  while (p < end) {
    if (at(p) === ch) return p;
    p++;
  }
  return end;
}

/** Set by lineEnd: a byte of the line is >= 0x80. */
let lineHigh: bool = false;

/** The first newline at or after p (or the block end), noting in lineHigh whether a byte before it is >= 0x80: one pass. */
function lineEnd(p: i32): i32 {
  const nlv = i8x16.splat(10);
  let high: i32 = 0;
  while (p + 16 <= len) {
    const v = v128.load(input + <usize>p);
    const m = i8x16.bitmask(i8x16.eq(v, nlv));
    const h = i8x16.bitmask(v);
    if (m !== 0) {
      const k = ctz<i32>(m);
      lineHigh = (high | (h & ((1 << k) - 1))) !== 0;
      return p + k;
    }
    high |= h;
    p += 16;
  }
  while (p < len) {
    const ch = at(p);
    if (ch === 10) break;
    high |= ch & 0x80;
    p++;
  }
  lineHigh = high !== 0;
  return p;
}

/**
 * Hash of every byte of [a, a + n): two multiply chains over alternate 8-byte words (independent,
 * so they overlap), the last partial word read as the 8 bytes ending at the end, mixed to 32 bits.
 */
function hashBytes(a: usize, n: i32): u32 {
  let x: u64 = <u64>n * 0x9e3779b97f4a7c15;
  let y: u64 = 0x2545f4914f6cdd1d;
  let p = a;
  const q = a + <usize>n;
  while (p + 16 <= q) {
    x = (x ^ load<u64>(p)) * 0x100000001b3;
    y = (y ^ load<u64>(p, 8)) * 0xff51afd7ed558ccd;
    p += 16;
  }
  if (p + 8 <= q) {
    x = (x ^ load<u64>(p)) * 0x100000001b3;
    p += 8;
  }
  if (p < q) {
    if (n >= 8) y = (y ^ load<u64>(q - 8)) * 0xc4ceb9fe1a85ec53;
    else {
      while (p < q) {
        y = (y ^ <u64>load<u8>(p)) * 0xc4ceb9fe1a85ec53;
        p++;
      }
    }
  }
  let h = x ^ (y >> 29) ^ (y << 35);
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93;
  h ^= h >> 29;
  return <u32>(h ^ (h >> 32));
}

function sameBytes(a: usize, b: usize, n: i32): bool {
  let i: i32 = 0;
  while (i + 16 <= n) {
    if (v128.any_true(v128.xor(v128.load(a + <usize>i), v128.load(b + <usize>i)))) return false;
    i += 16;
  }
  while (i + 8 <= n) {
    if (load<u64>(a + <usize>i) !== load<u64>(b + <usize>i)) return false;
    i += 8;
  }
  while (i < n) {
    if (load<u8>(a + <usize>i) !== load<u8>(b + <usize>i)) return false;
    i++;
  }
  return true;
}

/** Set by `lookup` and `lookupV4`: the slot was free and now holds the value. */
let added: bool = false;

function addEntry(t: i32, sp: usize, h: u32, a: usize, n: i32): void {
  const k = load<i32>(tCount(t));
  const used = load<i32>(tUsed(t));
  const off = arena(t) + <usize>used;
  memory.copy(off, a, <usize>n);
  store<i32>(sp, k + 1, S_ENTRY);
  store<u32>(sp, h, S_HASH);
  store<i32>(sp, n, S_LEN);
  store<u32>(sp, <u32>off, S_OFF);
  store<i32>(tCount(t), k + 1);
  store<i32>(tUsed(t), used + n);
  if (k + 1 > maxCount) maxCount = k + 1;
  if (used + n > maxUsed) maxUsed = used + n;
  added = true;
}

/** The slot of the bytes [a, a + n) in table t (added when absent). */
@inline function lookup(t: i32, a: usize, n: i32): usize {
  return lookupHashed(t, a, n, hashBytes(a, n), true);
}

/** The slot of the bytes [a, a + n) (hash h) in table t: added when absent if `add`, else 0. */
function lookupHashed(t: i32, a: usize, n: i32, h: u32, add: bool): usize {
  const base = tb(t);
  const size = slotBytes(t);
  let i = <usize>(h & <u32>(SLOTS - 1));
  added = false;
  for (;;) {
    const sp = base + i * size;
    if (load<i32>(sp, S_ENTRY) === 0) {
      if (!add) return 0;
      addEntry(t, sp, h, a, n);
      return sp;
    }
    if (load<u32>(sp, S_HASH) === h && load<i32>(sp, S_LEN) === n && sameBytes(<usize>load<u32>(sp, S_OFF), a, n)) return sp;
    i = (i + 1) & <usize>(SLOTS - 1);
  }
  return 0; // not reached: a table is never full (scan stops at MAXE - 1 entries, twice as many slots)
}

/** The slot of the dotted quad v, written as [a, a + n), in table 0: added when absent if `add`, else 0. */
function lookupV4(v: u32, a: usize, n: i32, add: bool = true): usize {
  const base = tb(C_IP);
  let i = <usize>(((v * 0x9e3779b1) >> 7) & <u32>(SLOTS - 1));
  added = false;
  for (;;) {
    const sp = base + i * SLOT_SMALL;
    if (load<i32>(sp, S_ENTRY) === 0) {
      if (!add) return 0;
      addEntry(C_IP, sp, v, a, n);
      return sp;
    }
    if (load<u32>(sp, S_HASH) === v) return sp;
    i = (i + 1) & <usize>(SLOTS - 1);
  }
  return 0; // not reached, as in lookupHashed
}

/**
 * The batch id of the value in slot sp (of a column c table): a value new to the batch gets the
 * next id and is listed (its offset and length) for JavaScript to append to the dictionary.
 */
function idOf(sp: usize, c: i32): i32 {
  if (load<i32>(sp, S_SERIAL) === serial) return load<i32>(sp, S_ID);
  const id = word(W_IDS + c);
  setWord(W_IDS + c, id + 1);
  store<i32>(sp, serial, S_SERIAL);
  store<i32>(sp, id, S_ID);
  const k = word(W_NEW + c);
  const at = newLists + ((<usize>c * <usize>(OUT_CAP + 64) + <usize>k) << 4);
  // the value's bytes, and its table and entry (JavaScript keeps the text of an entry across batches)
  store<u32>(at, load<u32>(sp, S_OFF));
  store<i32>(at, load<i32>(sp, S_LEN), 4);
  store<i32>(at, ((c === C_IP && sp >= tb(T_CANON) ? T_CANON : c) << 16) | (load<i32>(sp, S_ENTRY) - 1), 8);
  setWord(W_NEW + c, k + 1);
  return id;
}

/** Table t has room for one more value of n bytes, outside a scan (scan keeps its own margin). */
function room(t: i32, n: i32): bool {
  return load<i32>(tCount(t)) < MAXE - 1 && load<i32>(tUsed(t)) + n <= ARENA;
}

@inline function isDigit(ch: i32): bool {
  return <u32>(ch - 48) <= 9;
}

function digits2(p: i32): i32 {
  const a = at(p) - 48;
  const b = at(p + 1) - 48;
  if (<u32>a > 9 || <u32>b > 9) return -1;
  return a * 10 + b;
}

/** Month 1..12 from three letters (any case, as timestamp.ts monthAt), 0 when not one. */
function monthAt(p: i32): i32 {
  const k = ((at(p) | 32) << 16) | ((at(p + 1) | 32) << 8) | (at(p + 2) | 32);
  switch (k) {
    case 0x6a616e: return 1; // jan
    case 0x666562: return 2; // feb
    case 0x6d6172: return 3; // mar
    case 0x617072: return 4; // apr
    case 0x6d6179: return 5; // may
    case 0x6a756e: return 6; // jun
    case 0x6a756c: return 7; // jul
    case 0x617567: return 8; // aug
    case 0x736570: return 9; // sep
    case 0x6f6374: return 10; // oct
    case 0x6e6f76: return 11; // nov
    case 0x646563: return 12; // dec
    default: return 0;
  }
}

function daysInMonth(y: i32, m: i32): i32 {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days since 1970-01-01 (Hinnant's days_from_civil; y >= 1, so no negative division). */
function daysFromCivil(y: i32, m: i32, d: i32): i64 {
  const yy = m <= 2 ? y - 1 : y;
  const era = yy / 400;
  const yoe = yy - era * 400;
  const doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return <i64>era * 146097 + <i64>doe - 719468;
}

/**
 * `dd/Mon/yyyy:HH:MM:SS ±hhmm` at ts → UTC ms, or -1 (anything else: a local month name, a
 * `±hh:mm` or missing zone, an impossible date, a time before 1970). The JavaScript parsers take those lines.
 */
function clfTime(ts: i32): i64 {
  const mi = digits2(ts + 15);
  const sec = digits2(ts + 18);
  if (at(ts + 14) !== 58 || at(ts + 17) !== 58 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return -1;
  const a = load<u64>(input + <usize>ts);
  const b = load<u32>(input + <usize>ts, 8);
  const c = <u32>load<u16>(input + <usize>ts, 12);
  const za = load<u32>(input + <usize>ts, 20);
  const zb = <u32>load<u16>(input + <usize>ts, 24);
  if (hourSet && a === hourA && b === hourB && c === hourC && za === zoneA && zb === zoneB) {
    return hourBase + <i64>mi * 60000 + <i64>sec * 1000;
  }
  const d = digits2(ts);
  const mo = monthAt(ts + 3);
  const y1 = digits2(ts + 7);
  const y2 = digits2(ts + 9);
  const h = digits2(ts + 12);
  if (at(ts + 2) !== 47 || at(ts + 6) !== 47 || at(ts + 11) !== 58 || mo === 0 || d < 1 || y1 < 0 || y2 < 0 || h < 0 || h > 23) return -1;
  const y = y1 * 100 + y2;
  if (y < 1 || d > daysInMonth(y, mo)) return -1;
  // zone: a space, a sign and exactly four digits, hh <= 18, mm <= 59
  const sign = at(ts + 21);
  const zh = digits2(ts + 22);
  const zm = digits2(ts + 24);
  if (at(ts + 20) !== 32 || (sign !== 43 && sign !== 45) || zh < 0 || zm < 0 || zh > 18 || zm > 59 || isDigit(at(ts + 26)) ||
    at(ts + 26) === 58) return -1;
  let off = <i64>(zh * 60 + zm) * 60000;
  if (sign === 45) off = -off;
  const local = ((daysFromCivil(y, mo, d) * 24 + <i64>h) * 60 + <i64>mi) * 60000 + <i64>sec * 1000;
  if (local - off < 0) return -1;
  hourA = a;
  hourB = b;
  hourC = c;
  zoneA = za;
  zoneB = zb;
  hourBase = local - off - <i64>mi * 60000 - <i64>sec * 1000;
  hourSet = true;
  return local - off;
}

// the segment of the last row in the wanted / within ranges, as src/time-ranges.ts keeps it
let segW: i32 = -1;
let segWFrom: f64 = 0;
let segWTo: f64 = 0;
let segWIn: bool = false;
let segI: i32 = -1;
let segIFrom: f64 = 0;
let segITo: f64 = 0;
let segIIn: bool = false;

/** ms is in one of the n bounds' ranges at b (the number of bounds <= ms is odd). */
function inRanges(b: usize, n: i32, ms: f64, within: bool): bool {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (load<f64>(b + (<usize>mid << 3)) <= ms) lo = mid + 1;
    else hi = mid;
  }
  const from = lo === 0 ? -Infinity : load<f64>(b + (<usize>(lo - 1) << 3));
  const to = lo === n ? Infinity : load<f64>(b + (<usize>lo << 3));
  const inside = (lo & 1) === 1;
  if (within) {
    segI = 1;
    segIFrom = from;
    segITo = to;
    segIIn = inside;
  } else {
    segW = 1;
    segWFrom = from;
    segWTo = to;
    segWIn = inside;
  }
  return inside;
}

@inline function wanted(ms: f64): bool {
  if (wantedN < 0) return true;
  if (segW >= 0 && ms >= segWFrom && ms < segWTo) return segWIn;
  return inRanges(bounds, wantedN, ms, false);
}

@inline function full(ms: f64): bool {
  if (withinN < 0) return true;
  if (segI >= 0 && ms >= segIFrom && ms < segITo) return segIIn;
  return inRanges(bounds + (<usize>MAX_BOUNDS << 3), withinN, ms, true);
}

/** A byte that may be part of an HTTP method token (as CombinedRowParser.request tests it). */
@inline function isTokenChar(ch: i32): bool {
  return ch > 32 && ch < 127 && ch !== 34 && ch !== 40 && ch !== 41 && ch !== 44 && ch !== 47 && ch !== 58 && ch !== 59 &&
    ch !== 60 && ch !== 61 && ch !== 62 && ch !== 63 && ch !== 64 && ch !== 91 && ch !== 92 && ch !== 93 && ch !== 123 && ch !== 125;
}

/** The part slot of [s, e) in table t, or 0 for `-`-less absence: stored as the tuple's part n. */
@inline function setPart(sp: usize, n: i32, part: usize): void {
  store<u32>((sp === 0 ? partsScratch - S_PARTS : sp) + S_PARTS + (<usize>n << 2), <u32>part);
}

/**
 * Request lines seen once, by hash (direct-mapped): a line is stored in the request table the second
 * time it is seen (or on a hash match), as src/intern-table.ts TupleTable does; most lines with a
 * query string are seen once, and storing them would only fill the table.
 */
const SEEN: i32 = 1 << 17;
let seen: usize = 0;

/** A new request line [s, e) in tuple slot sp (or, sp 0, in the scratch parts) → its parts' slots, split as CombinedRowParser.request splits it. */
function request(sp: usize, s: i32, e: i32): void {
  setPart(sp, 0, 0);
  setPart(sp, 1, 0);
  setPart(sp, 2, 0);
  setPart(sp, 3, 0);
  if (s === e || (e - s === 1 && at(s) === 45)) return;
  let p = s;
  while (p < e && isTokenChar(at(p))) p++;
  if (p >= e || at(p) !== 32) {
    setPart(sp, 1, lookup(C_PATH, input + <usize>s, e - s));
    return;
  }
  setPart(sp, 0, small(0, C_METHOD, s, p - s));
  let us = p;
  while (us < e && at(us) === 32) us++;
  let ue = e;
  let last = e - 1;
  while (last >= us && at(last) !== 32) last--;
  if (last >= us && at(last + 1) === 72 && at(last + 2) === 84 && at(last + 3) === 84 && at(last + 4) === 80 && at(last + 5) === 47) {
    setPart(sp, 3, small(1, C_PROTO, last + 1, e - last - 1));
    ue = last;
    while (ue > us && at(ue - 1) === 32) ue--;
  }
  if (us >= ue) return;
  const q = find(63, us, ue);
  setPart(sp, 1, lookup(C_PATH, input + <usize>us, q - us));
  if (q < ue) setPart(sp, 2, lookup(C_QUERY, input + <usize>(q + 1), ue - q - 1));
}

// the last method and protocol (at most 8 bytes: one word compared), and their slots
let smallLen0: i32 = -1;
let smallKey0: u64 = 0;
let smallSlot0: usize = 0;
let smallLen1: i32 = -1;
let smallKey1: u64 = 0;
let smallSlot1: usize = 0;

/** The slot of the n bytes at s in table t, remembered as the last value of cache k (0: methods, 1: protocols). */
function small(k: i32, t: i32, s: i32, n: i32): usize {
  if (n > 8) return lookup(t, input + <usize>s, n);
  const key = n === 8 ? load<u64>(input + <usize>s) : load<u64>(input + <usize>s) & ((<u64>1 << (<u64>n << 3)) - 1);
  if (k === 0) {
    if (n === smallLen0 && key === smallKey0) return smallSlot0;
    smallSlot0 = lookup(t, input + <usize>s, n);
    smallLen0 = n;
    smallKey0 = key;
    return smallSlot0;
  }
  if (n === smallLen1 && key === smallKey1) return smallSlot1;
  smallSlot1 = lookup(t, input + <usize>s, n);
  smallLen1 = n;
  smallKey1 = key;
  return smallSlot1;
}

/** `-` → 0, else the slot of [s, e) in table t. */
@inline function dashOr(t: i32, s: i32, e: i32): usize {
  return e - s === 1 && at(s) === 45 ? 0 : lookup(t, input + <usize>s, e - s);
}

@inline function rowI32(c: i32, r: i32, v: i32): void {
  store<i32>(rowsI32 + ((<usize>c * <usize>OUT_CAP + <usize>r) << 2), v);
}
@inline function rowF64(c: i32, r: i32, v: f64): void {
  store<f64>(rowsF64 + ((<usize>c * <usize>OUT_CAP + <usize>r) << 3), v);
}

/** Tuple slot sp's part ids for this batch (parts of columns c0.. in order; w parts). */
function tupleIds(sp: usize, c0: i32, w: i32): void {
  if (load<i32>(sp, S_SERIAL) === serial) return;
  for (let n = 0; n < w; n++) {
    const part = <usize>load<u32>(sp + S_PARTS + (<usize>n << 2));
    store<i32>(sp + S_ID + (<usize>n << 2), part === 0 ? -1 : idOf(part, c0 + n));
  }
  store<i32>(sp, serial, S_SERIAL);
}

// the fields of the line being parsed ([s, e) ranges), for `row`
let fS0: i32 = 0;
let fIpEnd: i32 = 0;
let fV4: u32 = 0;
let fQuad: bool = false;
let fUs: i32 = 0;
let fUe: i32 = 0;
let fRs: i32 = 0;
let fRe: i32 = 0;
let fRfs: i32 = 0;
let fRfe: i32 = 0;
let fUas: i32 = 0;
let fUae: i32 = 0;
let fXs: i32 = 0;
let fXe: i32 = 0;
let fMs: i64 = 0;
let fStatus: i32 = 0;
let fBytes: f64 = 0;

/** Line [s0, end) → the f* fields, or false when it is not of the plain shape. */
function fields(s0: i32, end: i32): bool {
  // client: one token, then ` - `; a canonical dotted quad (no leading zeros) is read as its 32-bit value
  const ipEnd = find(32, s0, end);
  let v4: u32 = 0;
  let octet: i32 = 0;
  let digits: i32 = 0;
  let dots: i32 = 0;
  let bad: i32 = 0;
  for (let p = s0; p < ipEnd; p++) {
    const ch = at(p);
    const d = ch - 48;
    if (ch === 46) {
      bad |= <i32>(digits === 0) | <i32>(digits > 3) | <i32>(octet > 255);
      v4 = (v4 << 8) | <u32>(octet & 255);
      octet = 0;
      digits = 0;
      dots++;
    } else {
      bad |= <i32>(<u32>d > 9) | <i32>(digits === 1 && octet === 0);
      octet = (octet * 10 + d) & 0xffff;
      digits++;
    }
  }
  fQuad = bad === 0 && dots === 3 && digits > 0 && digits <= 3 && octet <= 255;
  if (ipEnd === s0 || ipEnd + 6 > end || at(s0) === 34 || at(ipEnd - 1) === 44 || at(ipEnd + 1) !== 45 || at(ipEnd + 2) !== 32) return false;
  fV4 = (v4 << 8) | <u32>(octet & 255);
  fS0 = s0;
  fIpEnd = ipEnd;

  // remote_user: `-`, or text up to the first ` [` (never starting with a space or `[`)
  const us = ipEnd + 3;
  const u0 = at(us);
  let ue: i32;
  if (u0 === 32 || u0 === 91) return false;
  if (u0 === 45 && at(us + 1) === 32) ue = us + 1;
  else {
    ue = us;
    for (;;) {
      ue = find(32, ue, end);
      if (ue >= end) return false;
      if (at(ue + 1) === 91) break;
      ue++;
    }
  }
  if (at(ue + 1) !== 91) return false;
  fUs = us;
  fUe = ue;
  const ts = ue + 2;
  // time: exactly `dd/Mon/yyyy:HH:MM:SS ±hhmm`, then `] "`
  if (ts + 29 > end) return false;
  const ms = clfTime(ts);
  if (ms < 0) return false;
  fMs = ms;
  const te = ts + 26;
  if (at(te) !== 93 || at(te + 1) !== 32 || at(te + 2) !== 34) return false;

  // request: up to the first quote, unescaped, followed by ` ` and the status
  const rs = te + 3;
  const re = find(34, rs, end);
  if (re >= end || at(re - 1) === 92 || at(re + 1) !== 32) return false;
  fRs = rs;
  fRe = re;
  const ss = re + 2;
  if (ss + 4 > end) return false;
  const a0 = at(ss) - 48;
  const a1 = at(ss + 1) - 48;
  const a2 = at(ss + 2) - 48;
  if (a0 < 1 || a0 > 5 || <u32>a1 > 9 || <u32>a2 > 9 || at(ss + 3) !== 32) return false;
  fStatus = a0 * 100 + a1 * 10 + a2;

  // bytes: `-` or 1..15 digits
  const bs = ss + 4;
  let be = bs;
  fBytes = NaN;
  if (bs < end && at(bs) === 45) be = bs + 1;
  else {
    let v: i64 = 0;
    while (be < end) {
      const dg = at(be) - 48;
      if (<u32>dg > 9) break;
      v = v * 10 + <i64>dg;
      be++;
      if (be - bs > 15) return false;
    }
    if (be === bs) return false;
    fBytes = <f64>v;
  }

  if (withAgent) {
    // referer: the first quote, unescaped, followed by ` "`; user agent: the first quote, unescaped, at the line end
    // (or followed by ` "` and a quoted X-Forwarded-For ending the line)
    if (be + 2 > end || at(be) !== 32 || at(be + 1) !== 34) return false;
    const rfs = be + 2;
    const rfe = find(34, rfs, end);
    if (rfe >= end || at(rfe - 1) === 92 || rfe + 3 > end || at(rfe + 1) !== 32 || at(rfe + 2) !== 34) return false;
    const uas = rfe + 3;
    const uae = find(34, uas, end);
    if (!withXff) {
      if (uae !== end - 1 || at(uae - 1) === 92) return false;
    } else {
      if (uae >= end || at(uae - 1) === 92 || uae + 3 > end || at(uae + 1) !== 32 || at(uae + 2) !== 34) return false;
      const xs = uae + 3;
      const xe = find(34, xs, end);
      if (xe !== end - 1 || at(xe - 1) === 92) return false;
      fXs = xs;
      fXe = xe;
    }
    fRfs = rfs;
    fRfe = rfe;
    fUas = uas;
    fUae = uae;
  } else if (be !== end) return false;
  return true;
}

// Client canonicalisation, as src/ip-address.ts canonicalIp does it (a test compares the two on
// many inputs): dotted quads without leading zeros, IPv6 in RFC 5952 text (brackets and a zone
// dropped, IPv4-mapped → the IPv4), host names lowercased without a trailing dot.
const IP_KIND_V6: i32 = 6;
const IP_KIND_HOSTNAME: i32 = 0;
/** Set by canonClient: the canonical text's length, and the 32-bit value of an IPv4 one. */
let canonLen: i32 = 0;
let canonV4: u32 = 0;

/** Dotted quad without leading zeros in [s, e) → its value, or -1 (src/ip-address.ts parseV4). */
function parseV4(s: i32, e: i32): i64 {
  let parts = 0;
  let acc = 0;
  let digits = 0;
  let value: i64 = 0;
  let leadingZero = false;
  for (let i = s; i <= e; i++) {
    const c = i < e ? at(i) : 46;
    if (c >= 48 && c <= 57) {
      if (digits === 0) leadingZero = c === 48;
      else if (leadingZero) return -1;
      acc = acc * 10 + (c - 48);
      if (++digits > 3 || acc > 255) return -1;
    } else if (c === 46) {
      if (digits === 0) return -1;
      value = value * 256 + <i64>acc;
      parts++;
      acc = 0;
      digits = 0;
    } else return -1;
  }
  return parts === 4 ? value : -1;
}

@inline function putByte(n: i32, b: i32): void {
  store<u8>(canonBuf + <usize>n, <u8>b);
}

/** Writes the decimal digits of v (0..255) at n; the new length. */
function putDec(n: i32, v: u32): i32 {
  if (v >= 100) putByte(n++, 48 + <i32>(v / 100));
  if (v >= 10) putByte(n++, 48 + <i32>((v / 10) % 10));
  putByte(n++, 48 + <i32>(v % 10));
  return n;
}

function putV4(v: u32): void {
  let n = putDec(0, v >> 24);
  putByte(n++, 46);
  n = putDec(n, (v >> 16) & 255);
  putByte(n++, 46);
  n = putDec(n, (v >> 8) & 255);
  putByte(n++, 46);
  canonLen = putDec(n, v & 255);
  canonV4 = v;
}

/** Writes a group in lowercase hex without leading zeros at n; the new length. */
function putHex(n: i32, g: i32): i32 {
  let started = false;
  for (let sh = 12; sh >= 0; sh -= 4) {
    const d = (g >> sh) & 15;
    if (d !== 0 || started || sh === 0) {
      putByte(n++, d < 10 ? 48 + d : 87 + d);
      started = true;
    }
  }
  return n;
}

const groups = memory.data(16);

@inline function group(k: i32): i32 {
  return <i32>load<u16>(groups + (<usize>k << 1));
}

/** IPv6 text [s, e) → eight groups at `groups`, or false (src/ip-address.ts parseV6). */
function parseV6(s: i32, e: i32): bool {
  // head groups fill from 0, tail groups are collected after them and moved to the end
  let head = 0;
  let tail = 0;
  let inTail = false;
  let i = s;
  const n = e - s;
  if (n < 2) return false;
  if (at(s) === 58) {
    if (at(s + 1) !== 58) return false;
    inTail = true;
    i = s + 2;
    if (i === e) {
      memory.fill(groups, 0, 16);
      return true;
    }
  }
  const tmp = memory.data(32);
  while (i < e) {
    let j = i;
    let v = 0;
    while (j < e) {
      const c = at(j);
      let d: i32 = 0;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      v = (v * 16 + d) & 0xfffff;
      j++;
    }
    if (j < e && at(j) === 46) {
      const v4 = parseV4(i, e);
      if (v4 < 0 || head + tail + 2 > 8) return false;
      store<u16>(tmp + (<usize>(head + tail) << 1), <u16>(v4 >> 16));
      store<u16>(tmp + (<usize>(head + tail + 1) << 1), <u16>(v4 & 0xffff));
      if (inTail) tail += 2;
      else head += 2;
      i = e;
      break;
    }
    const len = j - i;
    if (len === 0 || len > 4 || head + tail >= 8) return false;
    store<u16>(tmp + (<usize>(head + tail) << 1), <u16>v);
    if (inTail) tail++;
    else head++;
    if (j === e) {
      i = e;
      break;
    }
    if (at(j) !== 58) return false;
    if (j + 1 < e && at(j + 1) === 58) {
      if (inTail) return false;
      inTail = true;
      i = j + 2;
      if (i === e) break;
    } else {
      i = j + 1;
      if (i === e) return false; // trailing single ':'
    }
  }
  const total = head + tail;
  if (inTail ? total > 7 : total !== 8) return false;
  for (let k = 0; k < head; k++) store<u16>(groups + (<usize>k << 1), load<u16>(tmp + (<usize>k << 1)));
  for (let k = head; k < 8 - tail; k++) store<u16>(groups + (<usize>k << 1), 0);
  for (let k = 0; k < tail; k++) store<u16>(groups + (<usize>(8 - tail + k) << 1), load<u16>(tmp + (<usize>(head + k) << 1)));
  return true;
}

/** RFC 5952 text of the eight groups (src/ip-address.ts v6String). */
function putV6(): void {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (group(i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && group(j) === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let n = 0;
  if (bestStart < 0) {
    for (let k = 0; k < 8; k++) {
      if (k > 0) putByte(n++, 58);
      n = putHex(n, group(k));
    }
  } else {
    for (let k = 0; k < bestStart; k++) {
      if (k > 0) putByte(n++, 58);
      n = putHex(n, group(k));
    }
    putByte(n++, 58);
    putByte(n++, 58);
    for (let k = bestStart + bestLen; k < 8; k++) {
      if (k > bestStart + bestLen) putByte(n++, 58);
      n = putHex(n, group(k));
    }
  }
  canonLen = n;
}

/** [s, e) is a host name (src/ip-address.ts isHostname). */
function isHostname(s: i32, e: i32): bool {
  const n = e - s;
  if (n === 0 || n > 253) return false;
  let labelLen = 0;
  let labelHasAlpha = false;
  let prev = 46;
  for (let i = s; i < e; i++) {
    const c = at(i);
    if (c === 46) {
      if (labelLen === 0 || prev === 45) return false;
      labelLen = 0;
      labelHasAlpha = false;
    } else {
      const alpha = (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
      const ok = alpha || (c >= 48 && c <= 57) || c === 95 || (c === 45 && labelLen > 0);
      if (!ok) return false;
      if (alpha || c === 45 || c === 95) labelHasAlpha = true;
      if (++labelLen > 63) return false;
    }
    prev = c;
  }
  if (labelLen === 0) return n - 1 > 0 && at(e - 2) !== 46 && isHostname(s, e - 1);
  return labelHasAlpha && prev !== 45;
}

/** The client [s, e) → its ip kind + 1 with the canonical text at canonBuf (canonLen), or 0 when it is neither an IP nor a host name. */
function canonClient(s: i32, e: i32): i32 {
  const n = e - s;
  if (n === 0) return 0;
  const v4 = parseV4(s, e);
  if (v4 >= 0) {
    putV4(<u32>v4);
    return IP_KIND_V4 + 1;
  }
  if (find(58, s, e) < e) {
    let a = s;
    let b = e;
    if (at(a) === 91) {
      if (at(b - 1) !== 93) return 0;
      a++;
      b--;
    }
    const pct = find(37, a, b);
    if (pct < b) {
      if (pct === b - 1) return 0;
      b = pct;
    }
    if (!parseV6(a, b)) return 0;
    if (group(0) === 0 && group(1) === 0 && group(2) === 0 && group(3) === 0 && group(4) === 0 && group(5) === 0xffff) {
      putV4((<u32>group(6) << 16) | <u32>group(7));
      return IP_KIND_V4 + 1;
    }
    putV6();
    return IP_KIND_V6 + 1;
  }
  if (isHostname(s, e)) {
    let m = n;
    if (at(e - 1) === 46) m--;
    for (let k = 0; k < m; k++) {
      const c = at(s + k);
      putByte(k, c >= 65 && c <= 90 ? c + 32 : c);
    }
    canonLen = m;
    return IP_KIND_HOSTNAME + 1;
  }
  return 0;
}

/** Test hook: canonClient of the n bytes at the input region's start (the text at canonBuf, canonLength() bytes). */
export function canonTest(n: i32): i32 {
  len = n;
  return canonClient(0, n);
}
export function canonAt(): usize { return canonBuf; }
export function canonLength(): i32 { return canonLen; }

/** The parsed line's client: its ip column slot, rawKind its kind (0: neither an IP nor a host name, else kind + 1). */
let rawKind: i32 = 0;
function clientSlot(): usize {
  if (fQuad) {
    rawKind = IP_KIND_V4 + 1;
    return lookupV4(fV4, input + <usize>fS0, fIpEnd - fS0);
  }
  const sp = lookup(T_RAW, input + <usize>fS0, fIpEnd - fS0);
  if (added) {
    // a raw text not seen yet: canonicalised once, remembered with its canonical value's slot
    const k = canonClient(fS0, fIpEnd);
    store<i32>(sp, k, S_KIND);
    store<u32>(sp, k === 0 ? 0 : <u32>(k === IP_KIND_V4 + 1 ? lookupV4(canonV4, canonBuf, canonLen) : lookup(T_CANON, canonBuf, canonLen)), S_CANON);
  }
  rawKind = load<i32>(sp, S_KIND);
  return <usize>load<u32>(sp, S_CANON);
}

/** Writes row r from the f* fields (client slot ip, of kind `kind`). */
function row(r: i32, ip: usize, kind: i32, ms: f64, lineStart: i32): void {
  const mask = full(ms) ? maskIn : maskOut;
  rowF64(R_TS, r, ms);
  rowF64(R_BYTES, r, fBytes);
  rowF64(R_LINE, r, lineNo);
  rowF64(R_OFFSET, r, baseOffset + <f64>lineStart);
  store<u16>(rowsStatus + (<usize>r << 1), <u16>fStatus);
  store<u8>(rowsKind + <usize>r, <u8>kind);
  rowI32(C_IP, r, idOf(ip, C_IP));
  rowI32(C_USER, r, (mask & (1 << C_USER)) !== 0 || (fUe - fUs === 1 && at(fUs) === 45) ? -1
    : idOf(lookup(C_USER, input + <usize>fUs, fUe - fUs), C_USER));
  const reqMask = (1 << C_METHOD) | (1 << C_PATH) | (1 << C_QUERY) | (1 << C_PROTO);
  if ((mask & reqMask) === reqMask) {
    rowI32(C_METHOD, r, -1);
    rowI32(C_PATH, r, -1);
    rowI32(C_QUERY, r, -1);
    rowI32(C_PROTO, r, -1);
  } else {
    const a = input + <usize>fRs;
    const n = fRe - fRs;
    const h = hashBytes(a, n);
    const sh = seen + (<usize>(h & <u32>(SEEN - 1)) << 2);
    if (load<u32>(sh) !== h) {
      // first sight (as far as the seen hashes tell): split it, store nothing but its hash
      store<u32>(sh, h);
      request(0, fRs, fRe);
      for (let k = 0; k < 4; k++) {
        const part = <usize>load<u32>(partsScratch + (<usize>k << 2));
        rowI32(C_METHOD + k, r, (mask & (1 << (C_METHOD + k))) !== 0 || part === 0 ? -1 : idOf(part, C_METHOD + k));
      }
    } else {
      const sp = lookupHashed(T_REQ, a, n, h, true);
      if (added) request(sp, fRs, fRe);
      tupleIds(sp, C_METHOD, 4);
      for (let k = 0; k < 4; k++) rowI32(C_METHOD + k, r, (mask & (1 << (C_METHOD + k))) !== 0 ? -1 : load<i32>(sp + S_ID + (<usize>k << 2)));
    }
  }
  const pairMask = (1 << C_REF) | (1 << C_UA);
  if (!withAgent || (mask & pairMask) === pairMask) {
    rowI32(C_REF, r, -1);
    rowI32(C_UA, r, -1);
  } else {
    const sp = lookup(T_PAIR, input + <usize>fRfs, fUae - fRfs);
    if (added) {
      setPart(sp, 0, dashOr(C_REF, fRfs, fRfe));
      setPart(sp, 1, dashOr(C_UA, fUas, fUae));
    }
    tupleIds(sp, C_REF, 2);
    rowI32(C_REF, r, (mask & (1 << C_REF)) !== 0 ? -1 : load<i32>(sp, S_ID));
    rowI32(C_UA, r, (mask & (1 << C_UA)) !== 0 ? -1 : load<i32>(sp, S_ID + 4));
  }
  if (!withXff || (mask & (1 << C_XFF)) !== 0 || (fXe - fXs === 1 && at(fXs) === 45)) rowI32(C_XFF, r, -1);
  else rowI32(C_XFF, r, idOf(lookup(C_XFF, input + <usize>fXs, fXe - fXs), C_XFF));
}

function stop(kind: i32, rows: i32, lines: i32, start: i32, nl: i32): i32 {
  setWord(W_LINES, lines);
  setWord(W_STOP, kind);
  setWord(W_STOP_START, start);
  setWord(W_STOP_NL, nl);
  return rows;
}

/**
 * Lines from the current position → rows, at most `room` (the batch's room) and OUT_CAP. Stops
 * before a line JavaScript must parse (STOP_LINE, STOP_HIGH: it then parses it and calls `skipLine`),
 * when a table is too full to take a line (STOP_CLEAR: a new batch and `clearTables`), and at the
 * block end.
 * Returns the rows written; the status words say the rest, and list the values new to the batch.
 */
export function scan(room: i32): i32 {
  for (let c = 0; c < NCOL; c++) setWord(W_NEW + c, 0);
  let rows = 0;
  let lines = 0;
  const cap = room < OUT_CAP ? room : OUT_CAP;
  while (pos < len) {
    if (rows >= cap) return stop(rows >= room ? STOP_ROOM : STOP_CAP, rows, lines, pos, pos);
    const s = pos;
    const nl = lineEnd(s);
    let end = nl;
    while (end > s) {
      const ch = at(end - 1);
      if (ch !== 13 && ch !== 32 && ch !== 9) break;
      end--;
    }
    // blank and overlong lines are rejects; a byte >= 0x80 (none between end and nl: blanks) is for the generic parser
    if (end === s || nl - s > maxLine) return stop(STOP_LINE, rows, lines, s, nl);
    if (lineHigh) return stop(STOP_HIGH, rows, lines, s, nl);
    if (end - s > LONG_LINE) return stop(STOP_LINE, rows, lines, s, nl);
    // a line adds at most one value to a table, of at most its length
    // (clearTables then empties every table 7/8 full: a line is at most 1/16 of an arena, so it fits after)
    if (maxCount >= MAXE - 1 || maxUsed + (end - s) > ARENA) return stop(STOP_CLEAR, rows, lines, s, nl);
    if (!fields(s, end)) return stop(STOP_LINE, rows, lines, s, nl);
    const ms = <f64>fMs;
    if (wanted(ms)) {
      const ip = clientSlot();
      if (rawKind === 0) return stop(STOP_LINE, rows, lines, s, nl); // not an IP nor a host name
      row(rows, ip, rawKind - 1, ms, s);
      rows++;
    }
    lines++;
    lineNo += 1;
    pos = nl + 1;
  }
  return stop(STOP_END, rows, lines, pos, pos);
}

/** JavaScript parsed the line the scan stopped at: go past it. */
export function skipLine(): void {
  const nl = word(W_STOP_NL);
  pos = nl + 1;
  lineNo += 1;
}

/**
 * A value JavaScript added to column c's dictionary as id `id` (written at scratchAt(), n bytes;
 * for the client column a dotted quad comes with its 32-bit value, v4quad 1): later rows use that id.
 * 0 when the table has no room for it (the caller starts a new batch and clears the tables).
 */
export function bind(c: i32, n: i32, id: i32, v4quad: i32, v4: u32): i32 {
  const t = c === C_IP && v4quad === 0 ? T_CANON : c;
  if (!room(t, n)) return 0;
  const sp = c === C_IP ? (v4quad !== 0 ? lookupV4(v4, scratch, n) : lookup(T_CANON, scratch, n)) : lookup(c, scratch, n);
  store<i32>(sp, serial, S_SERIAL);
  store<i32>(sp, id, S_ID);
  return 1;
}

/**
 * The id in the current batch's column c dictionary of the value at scratchAt() (n bytes; a dotted
 * quad of the client column with its 32-bit value, v4quad 1), or -1 when the batch does not hold it.
 */
export function findValue(c: i32, n: i32, v4quad: i32, v4: u32): i32 {
  const t = c === C_IP && v4quad === 0 ? T_CANON : c;
  const sp = c === C_IP && v4quad !== 0 ? lookupV4(v4, scratch, n, false) : lookupHashed(t, scratch, n, hashBytes(scratch, n), false);
  return sp !== 0 && load<i32>(sp, S_SERIAL) === serial ? load<i32>(sp, S_ID) : -1;
}

/** The line number of the current position (of the line a scan stopped at). */
export function currentLine(): f64 {
  return lineNo;
}

