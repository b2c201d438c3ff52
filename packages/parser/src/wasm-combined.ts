/**
 * The combined-family fast path in WebAssembly (assembly/combined.ts, built to wasm/combined.wasm
 * by `pnpm build`). A block's bytes go in once; the module writes the rows of its plain combined
 * lines into column arrays, with batch dictionary ids, and lists the values new to the batch,
 * which `take` appends to the batch's dictionaries before copying the rows in (typed-array copies,
 * no per-row JavaScript). The lines it stops at are parsed by the JavaScript parsers, in order
 * (ParseSession.wasmBlock drives this), and the values they add are bound back into the module.
 * Without the .wasm file (a source run before a build) or with ALF_WASM=0, the JavaScript fast
 * path does everything, with the same rows.
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import type { BatchBuilder } from './batch-builder.ts';
import {
  COL_FORWARDED_FOR, COL_METHOD, COL_PATH, COL_PROTOCOL, COL_QUERY, COL_REFERER, COL_USER, COL_USER_AGENT,
} from './batch-builder.ts';
import type { Dict } from './value-cache.ts';

/** The WebAssembly API this file uses (Node has it; the project's TypeScript libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: object) => { readonly exports: unknown };
}
interface WasmModule {
  readonly __brand?: 'WebAssembly.Module';
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  readonly memory: { readonly buffer: ArrayBuffer };
  init(): number;
  wordsAt(): number;
  rowsF64At(): number;
  rowsI32At(): number;
  rowsStatusAt(): number;
  rowsKindAt(): number;
  newListsAt(): number;
  boundsAt(): number;
  scratchAt(): number;
  outCap(): number;
  newCap(): number;
  maxBounds(): number;
  longLine(): number;
  configure(withAgent: number, xff: number, maxLine: number): void;
  filter(maskIn: number, maskOut: number, nWanted: number, nWithin: number): void;
  batch(): void;
  sync(): void;
  reserveInput(n: number): number;
  begin(n: number, firstLine: number, offset: number): void;
  clearTables(): number;
  scan(room: number): number;
  skipLine(): void;
  canonTest(n: number): number;
  canonAt(): number;
  canonLength(): number;
  bind(c: number, n: number, id: number, v4quad: number, v4: number): number;
  findValue(c: number, n: number, v4quad: number, v4: number): number;
  currentLine(): number;
}

/** Why a scan stopped (assembly/combined.ts STOP_*): block end, batch full, a line for JavaScript (with a byte >= 0x80), tables full, rows full. */
export const STOP_END = 0;
export const STOP_ROOM = 1;
export const STOP_LINE = 2;
export const STOP_HIGH = 3;
export const STOP_CLEAR = 5;
export const STOP_CAP = 6;

/** Status words (assembly/combined.ts W_*). */
const W_LINES = 1;
const W_STOP = 2;
const W_STOP_START = 3;
const W_STOP_NL = 4;
const W_NEW = 8;
const W_SIZES = 24;
/** Row columns: f64 (assembly/combined.ts R_*). */
const R_TS = 0;
const R_BYTES = 1;
const R_LINE = 2;
const R_OFFSET = 3;
/** The module's dictionary columns 1..8 → batch string columns (0 is the client, b.ipDict). */
const STRING_COLS = [-1, COL_USER, COL_METHOD, COL_PATH, COL_QUERY, COL_PROTOCOL, COL_REFERER, COL_USER_AGENT, COL_FORWARDED_FOR];
const NCOL = 9;
const IP_KIND_V4 = 4;
const DOTTED_QUAD = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ASCII = /^[\x00-\x7f]*$/;

let compiled: WasmModule | null | undefined;

/** The compiled module, or null when the .wasm file is absent or ALF_WASM=0. */
function wasmModule(): WasmModule | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  if (process.env['ALF_WASM'] === '0') return null;
  let bytes: Buffer;
  try {
    bytes = readFileSync(new URL('../wasm/combined.wasm', import.meta.url));
  } catch {
    return null; // not built (a source run before `pnpm build`): the JavaScript fast path does it all
  }
  const mod = new WebAssemblyApi.Module(bytes);
  compiled = mod;
  return mod;
}

function dictOf(b: BatchBuilder, c: number): Dict {
  return c === 0 ? b.ipDict : (b.dicts[STRING_COLS[c] as number] as Dict);
}

/** The 32-bit value of a canonical dotted quad. */
function quadValue(v: string): number {
  const p = v.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

/** One parser's instance of the module: its own tables, row columns and input region. */
export class WasmCombined {
  private readonly x: Exports;
  private readonly withAgent: boolean;
  private readonly withXff: boolean;
  /** Used string columns the module never fills (vhost, ...): -1 on every row. */
  private readonly unfilled: Int32Array;
  private readonly cap: number;
  private readonly newCap: number;
  private readonly maxBounds: number;
  private readonly longLine: number;
  private buffer: ArrayBuffer | null = null;
  private mem: Buffer = Buffer.alloc(0);
  private words: Int32Array = new Int32Array(0);
  private f64: Float64Array = new Float64Array(0);
  private i32: Int32Array = new Int32Array(0);
  private status: Uint16Array = new Uint16Array(0);
  private kinds: Uint8Array = new Uint8Array(0);
  private newLists: Int32Array = new Int32Array(0);
  private bounds: Float64Array = new Float64Array(0);
  /** The batch (serial) the module's ids are for, and the newest it has seen. */
  private serial = -1;
  private newest = -1;
  private readonly sizes = new Int32Array(NCOL);
  /** Values of the current batch the module cannot hold (not ASCII, or longer than a line it takes), per column: their ids. */
  private readonly unheld: Map<string, number>[] = [];
  /** Per column: the id of a value in the current batch, or -1 (Dict.lookupHook while JavaScript parses a line). */
  private readonly finders: ((v: string) => number)[] = [];
  /** The text of each table's entries, made once and kept until the tables are cleared (a value costs one string, not one a batch). */
  private texts: (string | undefined)[][] = [];

  private constructor(mod: WasmModule, withAgent: boolean, xff: boolean, unfilled: Int32Array) {
    this.x = new WebAssemblyApi.Instance(mod, {}).exports as unknown as Exports;
    this.x.init();
    this.withAgent = withAgent;
    this.withXff = xff;
    this.unfilled = unfilled;
    this.cap = this.x.outCap();
    this.newCap = this.x.newCap();
    this.maxBounds = this.x.maxBounds();
    this.longLine = this.x.longLine();
    for (let c = 0; c < NCOL; c++) {
      this.unheld.push(new Map());
      this.finders.push((v) => this.find(c, v));
    }
  }

  /** A value the module's tables can hold: ASCII, from a line it takes (at most longLine bytes). */
  private held(v: string): boolean {
    return v.length < this.longLine && ASCII.test(v);
  }

  private find(c: number, v: string): number {
    if (!this.held(v)) return this.unheld[c]?.get(v) ?? -1;
    const n = this.mem.write(v, this.x.scratchAt(), 'latin1');
    const quad = c === 0 && DOTTED_QUAD.test(v);
    return this.x.findValue(c, n, quad ? 1 : 0, quad ? quadValue(v) : 0);
  }

  /**
   * While JavaScript parses a line of batch b (after `prepare`): b's dictionaries look values up
   * in the module's tables (and `unheld`), which know all their values, instead of indexing them.
   */
  hook(b: BatchBuilder): void {
    for (let c = 0; c < NCOL; c++) dictOf(b, c).lookupHook = this.finders[c] as (v: string) => number;
  }

  unhook(b: BatchBuilder): void {
    for (let c = 0; c < NCOL; c++) dictOf(b, c).lookupHook = null;
  }

  /** An instance for combined (withAgent) or common lines, with a quoted X-Forwarded-For at the end (xff); null without the module. */
  static create(withAgent: boolean, xff: boolean, unfilled: Int32Array): WasmCombined | null {
    const mod = wasmModule();
    return mod === null ? null : new WasmCombined(mod, withAgent, xff, unfilled);
  }

  /** Whether rows of this batch can go through the module (its time ranges fit). */
  accepts(b: BatchBuilder): boolean {
    return (b.wanted?.boundaries.length ?? 0) <= this.maxBounds && (b.within?.boundaries.length ?? 0) <= this.maxBounds;
  }

  private views(): void {
    const buf = this.x.memory.buffer;
    if (buf === this.buffer) return;
    const x = this.x;
    this.buffer = buf;
    this.mem = Buffer.from(buf);
    this.words = new Int32Array(buf, x.wordsAt(), 64);
    this.f64 = new Float64Array(buf, x.rowsF64At(), 4 * this.cap);
    this.i32 = new Int32Array(buf, x.rowsI32At(), NCOL * this.cap);
    this.status = new Uint16Array(buf, x.rowsStatusAt(), this.cap);
    this.kinds = new Uint8Array(buf, x.rowsKindAt(), this.cap);
    this.newLists = new Int32Array(buf, x.newListsAt(), NCOL * this.newCap * 4);
    this.bounds = new Float64Array(buf, x.boundsAt(), 2 * this.maxBounds);
  }

  /**
   * Copies a block in; scans then walk its lines from the first (line number firstLine, at byte
   * offset `offset`), leaving lines over maxLine bytes to JavaScript.
   */
  load(bytes: Uint8Array, firstLine: number, offset: number, maxLine: number): void {
    const p = this.x.reserveInput(bytes.length);
    this.views();
    this.mem.set(bytes, p);
    this.x.configure(this.withAgent ? 1 : 0, this.withXff ? 1 : 0, maxLine);
    this.x.begin(bytes.length, firstLine, offset);
  }

  /**
   * The module's ids are for batch b from now on (a new batch: its filters, its dictionaries'
   * sizes). False when b is an older batch (parses sharing this parser, interleaved) whose values
   * do not fit the tables: the caller starts a new batch, clears the tables and asks again.
   */
  prepare(b: BatchBuilder): boolean {
    if (b.serial === this.serial) return true;
    this.serial = b.serial;
    for (const m of this.unheld) m.clear();
    this.views();
    let maskIn = 0;
    let maskOut = 0;
    for (let c = 1; c < NCOL; c++) {
      const col = STRING_COLS[c] as number;
      if (b.skip[col] === 1) maskIn |= 1 << c;
      if (b.skipOutside[col] === 1) maskOut |= 1 << c;
    }
    const wanted = b.wanted?.boundaries;
    const within = b.within?.boundaries;
    if (wanted !== undefined) this.bounds.set(wanted, 0);
    if (within !== undefined) this.bounds.set(within, this.maxBounds);
    this.x.filter(maskIn, maskOut, wanted === undefined ? -1 : wanted.length, within === undefined ? -1 : within.length);
    this.writeSizes(b);
    this.x.batch();
    if (b.serial > this.newest) {
      this.newest = b.serial;
      return true;
    }
    // an older batch again: its values may be in its dictionaries already
    return this.bindNew(b, new Int32Array(NCOL));
  }

  private writeSizes(b: BatchBuilder): void {
    for (let c = 0; c < NCOL; c++) this.words[W_SIZES + c] = dictOf(b, c).values.length;
  }

  /** Rows from the current line on, at most `room`: the row count (`stopKind` and `lines` say the rest). */
  scan(room: number): number {
    const n = this.x.scan(room);
    this.views();
    return n;
  }

  get stopKind(): number {
    return this.words[W_STOP] as number;
  }

  /** Lines the last scan went past (its rows, and lines outside ParseOptions.rowsWithin). */
  get lines(): number {
    return this.words[W_LINES] as number;
  }

  get stopStart(): number {
    return this.words[W_STOP_START] as number;
  }

  get stopNl(): number {
    return this.words[W_STOP_NL] as number;
  }

  /** The line number of the line the scan stopped at. */
  get stopLine(): number {
    return this.x.currentLine();
  }

  /** Appends the last scan's new values to b's dictionaries, then copies its n rows into b. */
  take(b: BatchBuilder, n: number): void {
    const words = this.words;
    const lists = this.newLists;
    const mem = this.mem as unknown as { latin1Slice(s: number, e: number): string };
    const texts = this.texts;
    for (let c = 0; c < NCOL; c++) {
      const count = words[W_NEW + c] as number;
      if (count === 0) continue;
      const dict = dictOf(b, c);
      for (let k = 0, at = c * this.newCap * 4; k < count; k++, at += 4) {
        const te = lists[at + 2] as number;
        const known = texts[te >>> 16] ?? (texts[te >>> 16] = []);
        let v = known[te & 0xffff];
        if (v === undefined) {
          const off = lists[at] as number;
          v = mem.latin1Slice(off, off + (lists[at + 1] as number));
          known[te & 0xffff] = v;
        }
        dict.append(v);
      }
    }
    if (n === 0) return;
    const r0 = b.length;
    b.ensureRows(r0 + n);
    const cap = this.cap;
    const f64 = this.f64;
    const i32 = this.i32;
    b.ts.set(f64.subarray(R_TS * cap, R_TS * cap + n), r0);
    b.bytesSent.set(f64.subarray(R_BYTES * cap, R_BYTES * cap + n), r0);
    b.line.set(f64.subarray(R_LINE * cap, R_LINE * cap + n), r0);
    b.byteOffset.set(f64.subarray(R_OFFSET * cap, R_OFFSET * cap + n), r0);
    b.status.set(this.status.subarray(0, n), r0);
    b.ipKind.set(this.kinds.subarray(0, n), r0);
    b.ipIds.set(i32.subarray(0, n), r0);
    const last = this.withXff ? NCOL : this.withAgent ? NCOL - 1 : NCOL - 3;
    for (let c = 1; c < last; c++) (b.strIds[STRING_COLS[c] as number] as Int32Array).set(i32.subarray(c * cap, c * cap + n), r0);
    b.durationMs.fill(NaN, r0, r0 + n);
    b.upstreamMs.fill(NaN, r0, r0 + n);
    b.input.fill(b.inputIndex, r0, r0 + n);
    const unfilled = this.unfilled;
    for (let k = 0; k < unfilled.length; k++) (b.strIds[unfilled[k] as number] as Int32Array).fill(-1, r0, r0 + n);
    b.length = r0 + n;
  }

  /** Dictionary sizes of b, before JavaScript parses a line (for `bindNew`). */
  sizesOf(b: BatchBuilder): Int32Array {
    for (let c = 0; c < NCOL; c++) this.sizes[c] = dictOf(b, c).values.length;
    return this.sizes;
  }

  /**
   * Binds the values JavaScript added to b's dictionaries since `before` (sizesOf) into the module,
   * so it never adds them again; false when its tables have no room (the caller starts a new batch).
   */
  bindNew(b: BatchBuilder, before: Int32Array): boolean {
    let grew = false;
    for (let c = 0; c < NCOL; c++) {
      const values = dictOf(b, c).values;
      for (let id = before[c] as number; id < values.length; id++) {
        grew = true;
        if (!this.bindValue(c, values[id] as string, id)) return false;
      }
    }
    if (grew) {
      this.writeSizes(b);
      this.x.sync();
    }
    return true;
  }

  private bindValue(c: number, v: string, id: number): boolean {
    if (!this.held(v)) {
      this.unheld[c]?.set(v, id);
      return true;
    }
    const n = this.mem.write(v, this.x.scratchAt(), 'latin1');
    const quad = c === 0 && DOTTED_QUAD.test(v);
    return this.x.bind(c, n, id, quad ? 1 : 0, quad ? quadValue(v) : 0) === 1;
  }

  /**
   * The module's canonical form of a client text (test hook: it must be canonicalIp's): its ip
   * kind and text, or null when it is neither an IP nor a host name.
   */
  canonical(raw: string): { kind: number; value: string } | null {
    const p = this.x.reserveInput(raw.length);
    this.views();
    const n = this.mem.write(raw, p, 'latin1');
    const k = this.x.canonTest(n);
    if (k === 0) return null;
    const at = this.x.canonAt();
    return { kind: k - 1, value: this.mem.toString('latin1', at, at + this.x.canonLength()) };
  }

  /** JavaScript parsed the line the scan stopped at: scans go on after it. */
  skipLine(): void {
    this.x.skipLine();
  }

  /** Empties the nearly full tables (the caller starts a new batch: the module no longer knows which values the current one holds). */
  clear(): void {
    const bits = this.x.clearTables();
    for (let t = 0; t < this.texts.length; t++) if ((bits & (1 << t)) !== 0) this.texts[t] = [];
    this.serial = -1;
  }
}
