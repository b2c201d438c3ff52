/**
 * Compile format items into a specialised line parser: one closure per literal
 * and per field, chosen once from the field kind and its neighbours, run in
 * order over the line with indexOf/charCodeAt. No regex, no backtracking: every
 * scan moves forward, and the only look-ahead past a closing quote is bounded.
 */
import { canonicalIp } from './ip-address.ts';
import {
  COL_EXTRA, COL_FORWARDED_FOR, COL_METHOD, COL_PATH, COL_PROTOCOL, COL_QUERY, COL_USER, COL_VHOST,
  type BatchBuilder, type LineSource,
} from './batch-builder.ts';
import type { FieldDef, FormatItem } from './format-fields.ts';
import { usedColumns } from './format-fields.ts';
import {
  ClfTimeParser, compileStrftime, parseEpochInteger, parseEpochSeconds, parseIso8601,
} from './timestamp.ts';
import type { TimeZone } from './time-zone.ts';
import type { RejectReason } from './types.ts';

/** The line being parsed; the block parser sets text/bytes/start/end, steps move `pos`. */
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
}

export interface LineParser {
  readonly extraNames: readonly string[];
  /** String columns the format can fill. */
  readonly used: readonly number[];
  readonly fieldCount: number;
  /** Stage one row into ctx.b (after b.beginRow()); false with ctx.reason/detail when rejected. */
  parse(c: LineCtx): boolean;
}

type Step = (c: LineCtx) => boolean;

const NONE = 0x7fffffff;

/**
 * indexOf that never rescans: remembers the last hit, so a search that runs
 * past the current line (no quote on it, no '?') is not repeated for every
 * later line of the block. Keeps scanning linear in the block size.
 */
class Finder {
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

function fail(c: LineCtx, reason: RejectReason, detail: string): false {
  c.reason = reason;
  c.detail = detail;
  return false;
}

function show(c: LineCtx, s: number, e: number): string {
  const t = c.text.slice(s, Math.min(e, s + 40));
  return JSON.stringify(e - s > 40 ? `${t}…` : t);
}

function isDash(c: LineCtx, s: number, e: number): boolean {
  return e - s === 1 && c.text.charCodeAt(s) === 45;
}

/** Decimal number (digits, optional fraction) in [s,e) or NaN. */
function decimal(t: string, s: number, e: number): number {
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
function upstreamSum(t: string, s: number, e: number): number {
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

/** Split a request line [s,e) into method / path / query / protocol slots. */
const requestSpace = new Finder(' ');
const uriQuery = new Finder('?');

function stageRequest(c: LineCtx, s: number, e: number): void {
  const t = c.text;
  const b = c.b;
  if (s === e || isDash(c, s, e)) return;
  let sp = requestSpace.find(c, s);
  // the first word must be an HTTP token to be a method; TLS bytes (`\x16\x03…`) are kept whole
  let tok = sp < e;
  for (let i = s; tok && i < sp; i++) {
    const ch = t.charCodeAt(i);
    tok = ch > 32 && ch < 127 && ch !== 34 && ch !== 40 && ch !== 41 && ch !== 44 && ch !== 47 && ch !== 58 && ch !== 59 &&
      ch !== 60 && ch !== 61 && ch !== 62 && ch !== 63 && ch !== 64 && ch !== 91 && ch !== 92 && ch !== 93 && ch !== 123 && ch !== 125;
  }
  if (!tok) {
    // a single token ("HELP", TLS bytes): kept whole as the path
    b.slotStart[COL_PATH] = s;
    b.slotEnd[COL_PATH] = e;
    return;
  }
  b.slotStart[COL_METHOD] = s;
  b.slotEnd[COL_METHOD] = sp;
  while (sp < e && t.charCodeAt(sp) === 32) sp++;
  let uriEnd = e;
  let last = e - 1;
  while (last >= sp && t.charCodeAt(last) !== 32) last--;
  if (last >= sp && t.charCodeAt(last + 1) === 72 && t.charCodeAt(last + 2) === 84 && t.charCodeAt(last + 3) === 84 &&
    t.charCodeAt(last + 4) === 80 && t.charCodeAt(last + 5) === 47) { // 'HTTP/'
    b.slotStart[COL_PROTOCOL] = last + 1;
    b.slotEnd[COL_PROTOCOL] = e;
    uriEnd = last;
    while (uriEnd > sp && t.charCodeAt(uriEnd - 1) === 32) uriEnd--;
  }
  stageUri(c, sp, uriEnd);
}

function stageUri(c: LineCtx, s: number, e: number): void {
  if (s >= e) return;
  const b = c.b;
  const q = uriQuery.find(c, s);
  if (q < e) {
    b.slotStart[COL_PATH] = s;
    b.slotEnd[COL_PATH] = q;
    b.slotStart[COL_QUERY] = q + 1;
    b.slotEnd[COL_QUERY] = e;
  } else {
    b.slotStart[COL_PATH] = s;
    b.slotEnd[COL_PATH] = e;
  }
}

function stageStr(c: LineCtx, col: number, s: number, e: number): void {
  if (isDash(c, s, e)) return;
  c.b.slotStart[col] = s;
  c.b.slotEnd[col] = e;
}

/** Resolve raw client text → ip column; false when not an IP nor a host name. */
function stageClient(c: LineCtx, s: number, e: number): boolean {
  const b = c.b;
  const t = c.text;
  let cs = s;
  // an X-Forwarded-For style list as the client: keep the list, use its last entry
  let comma = s - 1;
  if (c.listSeen) {
    c.listSeen = false;
    comma = e - 1;
    while (comma >= s && t.charCodeAt(comma) !== 44) comma--;
  }
  if (comma >= s) {
    if (b.slotStart[COL_FORWARDED_FOR] as number < 0) {
      b.slotStart[COL_FORWARDED_FOR] = s;
      b.slotEnd[COL_FORWARDED_FOR] = e;
    }
    cs = comma + 1;
    while (cs < e && t.charCodeAt(cs) === 32) cs++;
  }
  const v = b.client(c, cs, e);
  if (v < 0) return fail(c, 'bad_ip', `client ${show(c, cs, e)} is not an IP address nor a host name`);
  const r = b.length;
  b.ipIds[r] = v >> 3;
  b.ipKind[r] = v & 7;
  return true;
}

/** Matches a literal; a space in the literal matches one or more spaces. */
function literalStep(lit: string, optional: boolean, after: string): Step {
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

interface Neighbours {
  prevLit: string;
  nextLit: string | null;
  next: FieldDef | null;
  first: boolean;
  optionalSelf: boolean;
  hasVhostField: boolean;
}

function numericKind(f: FieldDef | null): boolean {
  return f !== null && (f.kind === 'status' || f.kind === 'bytes' || f.kind === 'duration' || f.kind === 'upstream_time' ||
    f.kind === 'time_msec' || f.kind === 'time_int');
}

/** Finds the end of a field: returns [start, end) via ctx (pos = end), or -1. */
type Scanner = (c: LineCtx) => number;

function quotedScanner(nb: Neighbours): Scanner {
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

function tokenScanner(nb: Neighbours, list: boolean, innerSpaces = 0): Scanner {
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
function userScanner(nb: Neighbours): Scanner | null {
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

function fieldStep(f: FieldDef, nb: Neighbours, tz: TimeZone, extraIndex: (n: string) => number): Step {
  const quoted = nb.prevLit.endsWith('"') && (nb.nextLit === null || nb.nextLit.startsWith('"'));
  let scan: Scanner;
  if (quoted) scan = quotedScanner(nb);
  else if (f.kind === 'user') scan = userScanner(nb) ?? tokenScanner(nb, false);
  else {
    // a strftime pattern may itself contain the terminator (`%d/%b/%Y %T` before a space)
    const stop = nb.nextLit === null ? ' ' : nb.nextLit.charAt(0);
    const inner = f.kind === 'time_strftime' ? (f.pattern as string).split(stop).length - 1 : 0;
    scan = tokenScanner(nb, f.list === true, inner);
  }
  const what = f.source;
  const noEnd = (c: LineCtx): false => {
    c.pos = c.end;
    return f.kind === 'request'
      ? fail(c, 'bad_request', `request has no closing quote`)
      : fail(c, 'field_count', `${what}: no end found`);
  };

  switch (f.kind) {
    case 'time_clf': {
      const clf = new ClfTimeParser(tz);
      return (c) => {
        const ms = clf.parse(c.text, c.pos, c.end);
        if (Number.isNaN(ms)) {
          const e = scan(c);
          return fail(c, 'bad_time', `${what} ${show(c, c.pos, e < 0 ? c.end : e)} is not a valid dd/Mon/yyyy:HH:MM:SS ±hhmm time`);
        }
        c.b.ts[c.b.length] = ms;
        c.pos = clf.end;
        c.fieldsSeen++;
        return true;
      };
    }
    case 'client': {
      const prefixCheck = nb.first && !nb.hasVhostField && nb.nextLit === ' ';
      /** `"a, b, c" client`: a quoted X-Forwarded-For list logged before the client. */
      const xffQuote = new Finder('"');
      const quotedXff = (c: LineCtx, q: number): number => {
        const t = c.text;
        const close = xffQuote.find(c, q + 1);
        if (close >= c.end || t.charCodeAt(close + 1) !== 32) return -1;
        stageStr(c, COL_FORWARDED_FOR, q + 1, close);
        let p = close + 1;
        while (t.charCodeAt(p) === 32) p++;
        return p;
      };
      return (c) => {
        const t = c.text;
        let s = c.pos;
        if (prefixCheck && t.charCodeAt(s) === 34) {
          const p = quotedXff(c, s);
          if (p < 0) return fail(c, 'bad_ip', `${what} ${show(c, s, c.end)} is not an IP address nor a host name`);
          s = c.pos = p;
        }
        let e = scan(c);
        if (e <= s) return fail(c, 'bad_ip', `${what} is empty`);
        let cs = s;
        if (prefixCheck) {
          // `vhost[:port] client - - [`: a second token that is an IP literal means the first is a vhost
          let b2 = e + 1;
          while (t.charCodeAt(b2) === 32) b2++;
          const ch = t.charCodeAt(b2);
          if (ch === 34 && b2 < c.end) {
            const p = quotedXff(c, b2);
            if (p >= 0) {
              stageStr(c, COL_VHOST, s, e);
              c.pos = p;
              cs = p;
              e = scan(c);
            }
          } else if (ch !== 45 && b2 < c.end && ((ch >= 48 && ch <= 58) || (ch >= 97 && ch <= 102) || (ch >= 65 && ch <= 70))) {
            c.pos = b2;
            const e2 = scan(c);
            let last = e2 - 1;
            while (last >= b2 && t.charCodeAt(last) !== 32) last--;
            const cand = t.slice(last >= b2 ? last + 1 : b2, e2);
            const ip = canonicalIp(cand);
            if (ip !== null && ip.kind !== 0) {
              // `a, b c - -`: an unquoted X-Forwarded-For list, then the client; `host c - -`: a vhost, then the client
              let list = false;
              for (let i = s; i < e && !list; i++) list = t.charCodeAt(i) === 44;
              stageStr(c, list ? COL_FORWARDED_FOR : COL_VHOST, s, e);
              cs = b2;
              e = e2;
            }
          }
        }
        c.pos = e;
        if (!stageClient(c, cs, e)) return false;
        c.fieldsSeen++;
        return true;
      };
    }
    default:
      break;
  }

  const convert = converter(f, tz, extraIndex);
  // ident / user missing before the time (`1.2.3.4 [20/Jul/…`, `1.2.3.4 - [20/Jul/…`): absent, not misread
  const absentAtBracket = (f.kind === 'skip' || f.kind === 'user') && nb.prevLit.endsWith(' ') && nb.nextLit !== null && nb.nextLit.startsWith(' ');
  const optional = nb.optionalSelf;
  return (c) => {
    const s = c.pos;
    if (absentAtBracket && c.text.charCodeAt(s) === 91) {
      const d = c.text.charCodeAt(s + 1);
      if (d >= 48 && d <= 57) {
        c.pos = s - 1;
        return true;
      }
    }
    let e = scan(c);
    if (e < 0) {
      if (!(quoted && optional)) return noEnd(c);
      e = c.end; // a truncated last quoted field: keep what is there
      c.stop = true;
    }
    c.pos = e;
    if (!convert(c, s, e)) return false;
    c.fieldsSeen++;
    return true;
  };
}

type Convert = (c: LineCtx, s: number, e: number) => boolean;

function converter(f: FieldDef, tz: TimeZone, extraIndex: (n: string) => number): Convert {
  const what = f.source;
  switch (f.kind) {
    case 'skip': return () => true;
    case 'user': return (c, s, e) => {
      stageStr(c, COL_USER, s, e);
      return true;
    };
    case 'request': return (c, s, e) => {
      stageRequest(c, s, e);
      return true;
    };
    case 'method': return (c, s, e) => {
      stageStr(c, COL_METHOD, s, e);
      return true;
    };
    case 'protocol': return (c, s, e) => {
      stageStr(c, COL_PROTOCOL, s, e);
      return true;
    };
    case 'path': return (c, s, e) => {
      stageStr(c, COL_PATH, s, e);
      return true;
    };
    case 'uri': return (c, s, e) => {
      if (!isDash(c, s, e)) stageUri(c, s, e);
      return true;
    };
    case 'query': return (c, s, e) => { // Apache %q: '' or '?…'
      if (e > s && c.text.charCodeAt(s) === 63) stageStr(c, COL_QUERY, s + 1, e);
      return true;
    };
    case 'args': return (c, s, e) => {
      if (e > s) stageStr(c, COL_QUERY, s, e);
      return true;
    };
    case 'string': {
      const col = f.column as number;
      return (c, s, e) => {
        stageStr(c, col, s, e);
        return true;
      };
    }
    case 'extra': {
      const col = extraIndex(f.extraName as string);
      return (c, s, e) => {
        stageStr(c, col, s, e);
        return true;
      };
    }
    case 'status': return (c, s, e) => {
      const t = c.text;
      if (e - s === 3) {
        const v = (t.charCodeAt(s) - 48) * 100 + (t.charCodeAt(s + 1) - 48) * 10 + (t.charCodeAt(s + 2) - 48);
        const d1 = t.charCodeAt(s + 1) - 48;
        const d2 = t.charCodeAt(s + 2) - 48;
        if (v >= 100 && v <= 599 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) {
          c.b.status[c.b.length] = v;
          return true;
        }
      }
      if (isDash(c, s, e)) return true; // no response (Traefik): status 0
      return fail(c, 'bad_status', `status ${show(c, s, e)} is not a code 100..599`);
    };
    case 'bytes': return (c, s, e) => {
      if (isDash(c, s, e)) return true;
      const t = c.text;
      let v = 0;
      if (e === s || e - s > 16) return fail(c, 'bad_bytes', `bytes ${show(c, s, e)} is not a count`);
      for (let p = s; p < e; p++) {
        const d = t.charCodeAt(p) - 48;
        if (d < 0 || d > 9) return fail(c, 'bad_bytes', `bytes ${show(c, s, e)} is not a count`);
        v = v * 10 + d;
      }
      if (v > Number.MAX_SAFE_INTEGER) return fail(c, 'bad_bytes', `bytes ${show(c, s, e)} is above 2^53`);
      c.b.bytesSent[c.b.length] = v;
      return true;
    };
    case 'duration': {
      const scale = f.scale as number;
      return (c, s, e) => {
        if (isDash(c, s, e)) return true;
        const v = decimal(c.text, s, e);
        if (Number.isNaN(v)) return fail(c, 'field_count', `${what} ${show(c, s, e)} is not a number`);
        c.b.durationMs[c.b.length] = Math.round(v * scale * 1000) / 1000;
        return true;
      };
    }
    case 'upstream_time': return (c, s, e) => {
      const v = upstreamSum(c.text, s, e);
      if (v === -1) return fail(c, 'field_count', `${what} ${show(c, s, e)} is not a list of times`);
      c.b.upstreamMs[c.b.length] = v;
      return true;
    };
    case 'time_iso': return (c, s, e) => {
      const ms = parseIso8601(c.text, s, e, tz);
      if (Number.isNaN(ms)) return fail(c, 'bad_time', `${what} ${show(c, s, e)} is not a valid ISO 8601 time`);
      c.b.ts[c.b.length] = ms;
      return true;
    };
    case 'time_msec': return (c, s, e) => {
      const ms = parseEpochSeconds(c.text, s, e);
      if (Number.isNaN(ms)) return fail(c, 'bad_time', `${what} ${show(c, s, e)} is not epoch seconds`);
      c.b.ts[c.b.length] = ms;
      return true;
    };
    case 'time_int': {
      const scale = f.scale as number;
      return (c, s, e) => {
        const ms = parseEpochInteger(c.text, s, e, scale);
        if (Number.isNaN(ms)) return fail(c, 'bad_time', `${what} ${show(c, s, e)} is not an epoch count`);
        c.b.ts[c.b.length] = ms;
        return true;
      };
    }
    case 'time_frac': {
      const scale = f.scale as number;
      return (c, s, e) => {
        const v = parseEpochInteger(c.text, s, e, 1);
        if (Number.isNaN(v)) return fail(c, 'bad_time', `${what} ${show(c, s, e)} is not a fraction`);
        c.tsFrac = v * scale;
        return true;
      };
    }
    case 'time_strftime': {
      const fn = compileStrftime(f.pattern as string, tz);
      if (fn === null) return () => true;
      return (c, s, e) => {
        const ms = fn(c.text, s, e);
        if (Number.isNaN(ms)) return fail(c, 'bad_time', `${what} ${show(c, s, e)} does not match \`${f.pattern as string}\``);
        c.b.ts[c.b.length] = ms;
        return true;
      };
    }
    default:
      throw new Error(`unhandled field kind ${f.kind}`);
  }
}

const CORE: ReadonlySet<string> = new Set(['client', 'request', 'status', 'bytes', 'time_clf', 'time_iso', 'time_msec', 'time_int', 'time_strftime']);

/** Compile format items (literals and fields) into a line parser. */
export function compileLineParser(items: readonly FormatItem[], tz: TimeZone): LineParser {
  const fields = items.flatMap((it) => ('field' in it ? [it.field] : []));
  const extraNames: string[] = [];
  for (const f of fields) if (f.kind === 'extra') extraNames.push(f.extraName as string);
  const extraIndex = (n: string): number => COL_EXTRA + extraNames.indexOf(n);
  const used = usedColumns(fields, extraIndex);
  // fields after the last core field may be missing at the end of a line (common lines under combined)
  let lastCore = -1;
  items.forEach((it, i) => { if ('field' in it && CORE.has(it.field.kind)) lastCore = i; });
  const hasVhostField = fields.some((f) => f.kind === 'string' && f.column === COL_VHOST);
  const hasFrac = fields.some((f) => f.kind === 'time_frac');

  const steps: Step[] = [];
  items.forEach((it, i) => {
    if ('lit' in it) {
      const nextItem = items[i + 1];
      const after = nextItem !== undefined && 'field' in nextItem ? `before ${nextItem.field.source}` : 'at the end';
      steps.push(literalStep(it.lit, i > lastCore, after));
      return;
    }
    const prev = items[i - 1];
    const next = items[i + 1];
    const nextField = items[i + 2];
    steps.push(fieldStep(it.field, {
      prevLit: prev !== undefined && 'lit' in prev ? prev.lit : '',
      nextLit: next !== undefined && 'lit' in next ? next.lit : null,
      next: nextField !== undefined && 'field' in nextField ? nextField.field : null,
      first: i === 0,
      optionalSelf: i > lastCore,
      hasVhostField,
    }, tz, extraIndex));
  });
  const n = steps.length;
  const parse = (c: LineCtx): boolean => {
    c.pos = c.start;
    c.stop = false;
    c.listSeen = false;
    c.fieldsSeen = 0;
    c.tsFrac = 0;
    for (let i = 0; i < n; i++) {
      if (!(steps[i] as Step)(c)) return false;
      if (c.stop) break;
    }
    if (hasFrac) c.b.ts[c.b.length] = (c.b.ts[c.b.length] as number) + c.tsFrac;
    return true;
  };
  return { extraNames, used, fieldCount: fields.length, parse };
}
