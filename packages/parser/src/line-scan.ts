/**
 * The scanning half of a compiled line parser: the line context, a memoising
 * indexOf, literal matching and the scanners that find where a field ends
 * (quoted, token, remote_user). Every scan moves forward; the only look-ahead
 * past a closing quote is bounded.
 */
import type { WasmCombined } from './wasm-combined.ts';
import type { BatchBuilder, LineSource } from './batch-builder.ts';
import type { FieldDef } from './format-fields.ts';
import type { RejectReason } from './types.ts';

export interface LineCtx extends LineSource {
  b: BatchBuilder;
  start: number;
  /** End of the line without '\n', '\r' and trailing blanks. */
  end: number;
  pos: number;
  stop: boolean;
  reason: RejectReason;
  detail: string;
  /** Fields read on the last successful line (detection score). */
  fieldsSeen: number;
  tsFrac: number;
  /** Changes with every block (Finder caches are per block). */
  blockId: number;
  /** Set by a list-aware token scan that crossed ", " (an address list). */
  listSeen: boolean;
  /** Set with a true return when the line was skipped, not parsed (a row outside `ParseOptions.rowsWithin`). */
  skipped: boolean;
}

export interface LineParser {
  readonly extraNames: readonly string[];
  /** String columns the format can fill. */
  readonly used: readonly number[];
  readonly fieldCount: number;
  /** Stage one row into ctx.b (after b.beginRow()); false with ctx.reason/detail when rejected. */
  parse(c: LineCtx): boolean;
  /** A specialised parser for well-formed lines that commits the row itself; lines it refuses go to `parse`. */
  readonly fast?: FastRowParser | undefined;
}

/** Parses and commits one row; false (nothing written) when the line needs the generic parser. */
export interface FastRowParser {
  row(c: LineCtx, line: number, byteOffset: number): boolean;
  /** The same fast path over whole blocks in WebAssembly, when this parser has one and the module is built (made on first call). */
  wasm?(): WasmCombined | null;
}

export type Step = (c: LineCtx) => boolean;

export const NONE = 0x7fffffff;

/**
 * indexOf that never rescans: remembers the last hit, so a search that runs
 * past the current line (no quote on it, no '?') is not repeated for every
 * later line of the block. Keeps scanning linear in the block size.
 */
export class Finder {
  private block = -1;
  private from = 0;
  private found = NONE;
  private readonly needle: string;

  constructor(needle: string) {
    this.needle = needle;
  }

  /** Index of the needle at or after p in the block (NONE when absent); callers bound it by the line end. */
  find(c: LineCtx, p: number): number {
    if (c.blockId !== this.block || p < this.from || p > this.found) {
      this.block = c.blockId;
      this.from = p;
      const f = c.text.indexOf(this.needle, p);
      this.found = f < 0 ? NONE : f;
    }
    return this.found;
  }
}

export function fail(c: LineCtx, reason: RejectReason, detail: string): false {
  c.reason = reason;
  c.detail = detail;
  return false;
}

export function show(c: LineCtx, s: number, e: number): string {
  const t = c.text.slice(s, Math.min(e, s + 40));
  return JSON.stringify(e - s > 40 ? `${t}…` : t);
}

export function isDash(c: LineCtx, s: number, e: number): boolean {
  return e - s === 1 && c.text.charCodeAt(s) === 45;
}

/** Decimal number (digits, optional fraction) in [s,e) or NaN. */
export function decimal(t: string, s: number, e: number): number {
  if (s >= e) return NaN;
  let v = 0;
  let p = s;
  while (p < e) {
    const d = t.charCodeAt(p) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    p++;
  }
  if (p === s) return NaN;
  if (p < e && t.charCodeAt(p) === 46) {
    p++;
    let scale = 0.1;
    const fs = p;
    while (p < e) {
      const d = t.charCodeAt(p) - 48;
      if (d < 0 || d > 9) return NaN;
      v += d * scale;
      scale /= 10;
      p++;
    }
    if (p === fs) return NaN;
  }
  return p === e ? v : NaN;
}

/** Sum of a list "0.001, 0.002 : 0.003" ('-' entries skipped) × 1000; NaN when all '-'; -1 when malformed. */
export function upstreamSum(t: string, s: number, e: number): number {
  let sum = 0;
  let any = false;
  let p = s;
  while (p < e) {
    let q = p;
    while (q < e) {
      const ch = t.charCodeAt(q);
      if (ch === 44 || ch === 32 || ch === 58) break;
      q++;
    }
    if (q > p) {
      if (!(q - p === 1 && t.charCodeAt(p) === 45)) {
        const v = decimal(t, p, q);
        if (Number.isNaN(v)) return -1;
        sum += v;
        any = true;
      }
    }
    p = q + 1;
  }
  return any ? Math.round(sum * 1e6) / 1e3 : NaN;
}


export function literalStep(lit: string, optional: boolean, after: string): Step {
  const simple = lit.indexOf(' ') < 0;
  const endsSpace = lit.charCodeAt(lit.length - 1) === 32;
  const n = lit.length;
  const c0 = lit.charCodeAt(0);
  const c1 = n > 1 ? lit.charCodeAt(1) : -1;
  const c2 = n > 2 ? lit.charCodeAt(2) : -1;
  const matches = (t: string, p: number): boolean => t.charCodeAt(p) === c0 && (n < 2 || (t.charCodeAt(p + 1) === c1 &&
    (n < 3 || (t.charCodeAt(p + 2) === c2 && (n < 4 || t.startsWith(lit, p))))));
  return (c) => {
    const t = c.text;
    if (optional && c.pos >= c.end) {
      c.stop = true;
      return true;
    }
    if (matches(t, c.pos)) {
      c.pos += lit.length;
      if (endsSpace) while (t.charCodeAt(c.pos) === 32 && c.pos < c.end) c.pos++;
      return true;
    }
    if (!simple) {
      let p = c.pos;
      let ok = true;
      for (let i = 0; i < lit.length; i++) {
        const ch = lit.charCodeAt(i);
        if (ch === 32) {
          if (t.charCodeAt(p) !== 32) { ok = false; break; }
          while (t.charCodeAt(p) === 32 && p < c.end) p++;
        } else if (t.charCodeAt(p) === ch) p++;
        else { ok = false; break; }
      }
      if (ok && p <= c.end) {
        c.pos = p;
        return true;
      }
    }
    if (optional && c.end - c.pos < lit.length && lit.startsWith(t.slice(c.pos, c.end))) {
      // the line ends inside this literal (e.g. after a closing quote): the rest is absent
      c.pos = c.end;
      c.stop = true;
      return true;
    }
    return fail(c, 'field_count', c.pos >= c.end ? `line ends ${after === 'at the end' ? 'early' : after}`
      : `expected ${JSON.stringify(lit)} ${after} at byte ${c.pos - c.start + 1}`);
  };
}

export interface Neighbours {
  prevLit: string;
  nextLit: string | null;
  next: FieldDef | null;
  first: boolean;
  optionalSelf: boolean;
  hasVhostField: boolean;
}

export function numericKind(f: FieldDef | null): boolean {
  return f !== null && (f.kind === 'status' || f.kind === 'bytes' || f.kind === 'duration' || f.kind === 'upstream_time' ||
    f.kind === 'time_msec' || f.kind === 'time_int');
}

/** Finds the end of a field: returns [start, end) via ctx (pos = end), or -1. */
export type Scanner = (c: LineCtx) => number;

export function quotedScanner(nb: Neighbours): Scanner {
  const rest = nb.nextLit === null ? '' : nb.nextLit.slice(1); // after the closing quote
  const last = nb.next === null && rest.trim() === '';
  const needDigit = rest === ' ' && numericKind(nb.next);
  const r0 = rest.charCodeAt(0);
  const r1 = rest.charCodeAt(1);
  const quote = new Finder('"');
  return (c) => {
    const t = c.text;
    const from = c.pos;
    let p = from;
    let loose = -1; // first quote followed by the literal, before the next field's first character is checked
    for (;;) {
      const q = quote.find(c, p);
      if (q >= c.end) return loose;
      let k = q - 1;
      while (k >= from && t.charCodeAt(k) === 92) k--;
      if (((q - 1 - k) & 1) === 0) {
        const a = q + 1;
        if (a >= c.end) return q;
        if (last) {
          const ch = t.charCodeAt(a);
          if (ch === 32 || ch === 9) return q;
        } else if (rest.length === 0 || (t.charCodeAt(a) === r0 && (rest.length < 2 || (t.charCodeAt(a + 1) === r1 && (rest.length < 3 || t.startsWith(rest, a)))))) {
          if (!needDigit) return q;
          if (loose < 0) loose = q;
          const ch = t.charCodeAt(a + 1);
          if ((ch >= 48 && ch <= 57) || ch === 45) return q;
        } else if (rest.charCodeAt(0) === 32 && t.charCodeAt(a) === 32) {
          // extra spaces between fields
          let b = a;
          while (t.charCodeAt(b) === 32) b++;
          if (t.startsWith(rest.trimStart(), b)) return q;
        }
      }
      p = q + 1;
    }
  };
}

export function tokenScanner(nb: Neighbours, list: boolean, innerSpaces = 0): Scanner {
  const stopCh = nb.nextLit === null ? 32 : nb.nextLit.charCodeAt(0);
  const spaceStop = stopCh === 32;
  const stop = new Finder(String.fromCharCode(stopCh));
  return (c) => {
    const t = c.text;
    let p = c.pos;
    let skip = innerSpaces;
    for (;;) {
      let e = stop.find(c, p);
      if (e > c.end) e = c.end;
      if (skip > 0 && e < c.end) { // a time pattern with its own spaces
        skip--;
        p = e + 1;
        continue;
      }
      if (list && spaceStop && e < c.end) {
        if (t.charCodeAt(e - 1) === 44) { // "a, b"
          c.listSeen = true;
          p = e + 1;
          continue;
        }
        if (t.charCodeAt(e + 1) === 58 && t.charCodeAt(e + 2) === 32) { // "a : b"
          p = e + 3;
          continue;
        }
      }
      return e;
    }
  };
}

/** remote_user: everything up to ` [dd/` (it may hold spaces, brackets, quotes). */
export function userScanner(nb: Neighbours): Scanner | null {
  if (nb.nextLit === null || !nb.nextLit.startsWith(' [')) return null;
  const open = new Finder(' [');
  return (c) => {
    const t = c.text;
    let p = c.pos;
    for (;;) {
      const e = open.find(c, p);
      if (e >= c.end) return -1;
      const d = t.charCodeAt(e + 2);
      if (d >= 48 && d <= 57 && (t.charCodeAt(e + 4) === 47 || t.charCodeAt(e + 3) === 47)) return e;
      p = e + 1;
    }
  };
}

