/**
 * A specialised row parser for the combined family (`combined`,
 * `nginx_combined`, `common`, and combined + a quoted X-Forwarded-For:
 * `nginx_main`), chosen once at compile time. It scans a
 * well-formed line in one function with charCodeAt/indexOf, hashes fields while
 * scanning, interns through hash tables (no substring per field) and writes the
 * row straight into the batch. On any surprise it returns false before touching
 * the batch, and the caller parses that line with the generic parser, so
 * results are identical: the fast path only accepts lines on which the generic
 * steps take their plain branch (see the checks, each named after the branch it
 * stands for).
 */
import {
  COL_FORWARDED_FOR, COL_METHOD, COL_PATH, COL_PROTOCOL, COL_QUERY, COL_REFERER, COL_USER, COL_USER_AGENT,
} from './batch-builder.ts';
import type { FormatItem } from './format-fields.ts';
import { IP_KIND_V4 } from './types.ts';
import type { Dict } from './value-cache.ts';
import { ClientTable, InternTable, TupleTable, V4Table, wordHash } from './intern-table.ts';
import { decimal, Finder, upstreamSum } from './line-scan.ts';
import type { FastRowParser, LineCtx } from './line-scan.ts';
import { ClfTimeParser } from './timestamp.ts';
import type { TimeZone } from './time-zone.ts';
import type { TimeRanges } from './time-ranges.ts';
import { WasmCombined } from './wasm-combined.ts';


const HEAD_APACHE = ['<client>', ' ', '<skip>', ' ', '<user>', ' [', '<time_clf>', '] "', '<request>', '" ', '<status>', ' ', '<bytes>'];
const HEAD_NGINX = ['<client>', ' - ', '<user>', ' [', '<time_clf>', '] "', '<request>', '" ', '<status>', ' ', '<bytes>'];
const TAIL_COMBINED = [' "', '<string4>', '" "', '<string5>', '"'];
/** combined + a duration (Apache `%D`/`%T`), or a duration and upstream times (nginx `$request_time $upstream_response_time`). */
const TAIL_DURATION = [' "', '<string4>', '" "', '<string5>', '" ', '<duration>'];
const TAIL_TIMING = [...TAIL_DURATION, ' ', '<upstream_time>'];
/** combined + `"$http_x_forwarded_for"` (nginx `main`, or `"%{X-Forwarded-For}i"` in an Apache LogFormat). */
const TAIL_MAIN = [' "', '<string4>', '" "', '<string5>', '" "', '<string8>', '"'];

function shape(items: readonly FormatItem[]): string[] {
  return items.map((it) => ('lit' in it ? it.lit : `<${it.field.kind}${it.field.column ?? ''}>`));
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The fast row parser for a combined/common format, or null for any other format. */
export function compileCombinedFast(items: readonly FormatItem[], tz: TimeZone, used: readonly number[]): FastRowParser | null {
  const s = shape(items);
  const scale = items.find((it) => 'field' in it && it.field.kind === 'duration');
  const durationScale = scale !== undefined && 'field' in scale ? (scale.field.scale as number) : 0;
  for (const head of [HEAD_APACHE, HEAD_NGINX]) {
    if (same(s, [...head, ...TAIL_COMBINED])) return new CombinedRowParser(tz, used, true, TAIL_NONE, 0);
    if (same(s, [...head, ...TAIL_MAIN])) return new CombinedRowParser(tz, used, true, TAIL_XFF, 0);
    if (same(s, [...head, ...TAIL_DURATION])) return new CombinedRowParser(tz, used, true, TAIL_DURATION_ONLY, durationScale);
    if (same(s, [...head, ...TAIL_TIMING])) return new CombinedRowParser(tz, used, true, TAIL_DURATION_UPSTREAM, durationScale);
    if (same(s, head)) return new CombinedRowParser(tz, used, false, TAIL_NONE, 0);
  }
  return null;
}

const NO_ID = -1;
/** What follows the user agent's closing quote. */
const TAIL_NONE = 0;
const TAIL_XFF = 1;
const TAIL_DURATION_ONLY = 2;
const TAIL_DURATION_UPSTREAM = 3;

function isDigit(ch: number): boolean {
  return ch >= 48 && ch <= 57;
}

class CombinedRowParser implements FastRowParser {
  private readonly clf: ClfTimeParser;
  private readonly quote = new Finder('"');
  private readonly query = new Finder('?');
  private readonly clients = new ClientTable();
  private readonly v4 = new V4Table();
  /** Request lines, each stored the second time it is seen. */
  private readonly requests = new TupleTable(4, 1 << 16, 1 << 16);
  /** Ids of a request line seen for the first time (not stored), at [3..6]. */
  private readonly scratch = new Int32Array(8);
  private readonly pairs = new TupleTable(2);
  private readonly methods = new InternTable(1 << 12);
  private readonly paths = new InternTable();
  private readonly queries = new InternTable();
  private readonly protocols = new InternTable(1 << 12);
  private readonly referers = new InternTable();
  private readonly agents = new InternTable();
  private readonly users = new InternTable();
  private readonly forwarded = new InternTable();
  /** Used string columns the fast path never fills (vhost, X-Forwarded-For): -1 on every fast row. */
  private readonly unfilled: Int32Array;
  private readonly withAgent: boolean;
  /** A quoted X-Forwarded-For after the user agent, ending the line. */
  private readonly withXff: boolean;
  /** TAIL_* */
  private readonly tail: number;
  /** ms per unit of the duration field (TAIL_DURATION_*). */
  private readonly durationScale: number;
  /** Bytes of the last `dd/Mon/yyyy:HH` (4+4+4+2) and ` ±hhmm` (4+2) with a ±hhmm zone, and that hour's UTC ms. */
  private hour0 = 0;
  private hour1 = 0;
  private hour2 = 0;
  private hour3 = -1;
  private zone0 = 0;
  private zone1 = -1;
  private hourBase = 0;
  /** The last method and protocol ranges' ids (per batch serial). */
  private lastMethod = '';
  private lastMethodId = -1;
  private lastMethodSerial = -1;
  private lastProto = '';
  private lastProtoId = -1;
  private lastProtoSerial = -1;

  constructor(tz: TimeZone, used: readonly number[], withAgent: boolean, tail: number, durationScale: number) {
    this.clf = new ClfTimeParser(tz);
    this.withAgent = withAgent;
    const withXff = tail === TAIL_XFF;
    this.withXff = withXff;
    this.tail = tail;
    this.durationScale = durationScale;
    const filled = new Set([COL_METHOD, COL_PATH, COL_QUERY, COL_PROTOCOL, COL_USER, ...(withAgent ? [COL_REFERER, COL_USER_AGENT] : []),
      ...(withXff ? [COL_FORWARDED_FOR] : [])]);
    this.unfilled = Int32Array.from(used.filter((col) => !filled.has(col)));
  }

  private wasmPath: WasmCombined | null | undefined;

  wasm(): WasmCombined | null {
    if (this.wasmPath === undefined) {
      // durations and upstream times stay in JavaScript (decimal and sum rules): only these tails have a module path
      const tail = this.tail;
      this.wasmPath = tail === TAIL_NONE || tail === TAIL_XFF ? WasmCombined.create(this.withAgent, this.withXff, this.unfilled) : null;
    }
    return this.wasmPath;
  }

  row(c: LineCtx, line: number, byteOffset: number): boolean {
    const t = c.text;
    const end = c.end;
    const s0 = c.start;

    // client: one token, then `- ` (ident); a leading quote (X-Forwarded-For) or a list needs the generic parser.
    // A canonical dotted quad (no leading zeros, as canonicalIp accepts it) is read as its 32-bit value on the way.
    let p = s0;
    let v4 = 0;
    let octet = 0;
    let digits = 0;
    let dots = 0;
    let quad = true;
    for (; p < end; p++) {
      const ch = t.charCodeAt(p);
      if (ch === 32) break;
      if (ch >= 48 && ch <= 57) {
        if (digits === 1 && octet === 0) quad = false; // leading zero
        octet = octet * 10 + ch - 48;
        digits++;
      } else if (ch === 46) {
        if (digits === 0 || digits > 3 || octet > 255) quad = false;
        v4 = v4 * 256 + octet;
        octet = 0;
        digits = 0;
        dots++;
      } else quad = false;
    }
    const ipEnd = p;
    quad = quad && dots === 3 && digits > 0 && digits <= 3 && octet <= 255;
    if (ipEnd === s0 || ipEnd + 6 > end || t.charCodeAt(s0) === 34 || t.charCodeAt(ipEnd - 1) === 44 ||
      t.charCodeAt(ipEnd + 1) !== 45 || t.charCodeAt(ipEnd + 2) !== 32) return false;

    // remote_user: `-` right before ` [dd/`, or text up to the first ` [dd/` (never starting with a space or `[`)
    const us = ipEnd + 3;
    let ue: number;
    const u0 = t.charCodeAt(us);
    if (u0 === 32 || u0 === 91) return false;
    if (u0 === 45 && t.charCodeAt(us + 1) === 32) ue = us + 1;
    else {
      ue = t.indexOf(' [', us);
      if (ue < 0 || ue >= end) return false;
    }
    if (t.charCodeAt(ue + 1) !== 91) return false;
    const d0 = t.charCodeAt(ue + 2);
    if (d0 < 48 || d0 > 57 || (t.charCodeAt(ue + 4) !== 47 && t.charCodeAt(ue + 3) !== 47)) return false;

    // time: while `dd/Mon/yyyy:HH` and ` ±hhmm` are the previous line's bytes (compared 4 bytes a step), only
    // minutes and seconds are decoded, as in ClfTimeParser's own fast path; otherwise ClfTimeParser parses it
    const ts = ue + 2;
    const dv = c.dv;
    let ms: number;
    let te: number;
    const mi = (t.charCodeAt(ts + 15) - 48) * 10 + t.charCodeAt(ts + 16) - 48;
    const sec = (t.charCodeAt(ts + 18) - 48) * 10 + t.charCodeAt(ts + 19) - 48;
    if (ts + 26 < end && dv.getInt32(ts, true) === this.hour0 && dv.getInt32(ts + 4, true) === this.hour1 &&
      dv.getInt32(ts + 8, true) === this.hour2 && dv.getUint16(ts + 12, true) === this.hour3 &&
      dv.getInt32(ts + 20, true) === this.zone0 && dv.getUint16(ts + 24, true) === this.zone1 &&
      t.charCodeAt(ts + 14) === 58 && t.charCodeAt(ts + 17) === 58 && isDigit(t.charCodeAt(ts + 15)) && isDigit(t.charCodeAt(ts + 16)) &&
      isDigit(t.charCodeAt(ts + 18)) && isDigit(t.charCodeAt(ts + 19)) && mi <= 59 && sec <= 59) {
      ms = this.hourBase + mi * 60_000 + sec * 1000;
      te = ts + 26;
    } else {
      ms = this.clf.parse(t, ts, end);
      if (Number.isNaN(ms)) return false;
      te = this.clf.end;
      const z = t.charCodeAt(ts + 21);
      if (te === ts + 26 && t.charCodeAt(ts + 20) === 32 && (z === 43 || z === 45) && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 59 &&
        isDigit(t.charCodeAt(ts + 15)) && isDigit(t.charCodeAt(ts + 18))) {
        this.hour0 = dv.getInt32(ts, true);
        this.hour1 = dv.getInt32(ts + 4, true);
        this.hour2 = dv.getInt32(ts + 8, true);
        this.hour3 = dv.getUint16(ts + 12, true);
        this.zone0 = dv.getInt32(ts + 20, true);
        this.zone1 = dv.getUint16(ts + 24, true);
        this.hourBase = ms - mi * 60_000 - sec * 1000;
      }
    }
    const b = c.b;
    if (b.wanted !== null && !b.wanted.has(ms)) {
      c.skipped = true; // ParseOptions.rowsWithin: not wanted, whatever the rest of the line holds
      return true;
    }
    if (t.charCodeAt(te) !== 93 || t.charCodeAt(te + 1) !== 32 || t.charCodeAt(te + 2) !== 34) return false;

    // request: the first quote, unescaped, followed by ` ` and a digit (the status)
    const rs = te + 3;
    const re = this.quote.find(c, rs);
    if (re >= end || t.charCodeAt(re - 1) === 92 || t.charCodeAt(re + 1) !== 32) return false;

    // status: three digits 100..599, then one space
    const ss = re + 2;
    const a0 = t.charCodeAt(ss) - 48;
    const a1 = t.charCodeAt(ss + 1) - 48;
    const a2 = t.charCodeAt(ss + 2) - 48;
    if (a0 < 1 || a0 > 5 || a1 < 0 || a1 > 9 || a2 < 0 || a2 > 9 || t.charCodeAt(ss + 3) !== 32) return false;
    const status = a0 * 100 + a1 * 10 + a2;

    // bytes: `-` or 1..15 digits, then a space (combined) or the line end (common)
    const bs = ss + 4;
    let be = bs;
    let bytes = 0;
    if (t.charCodeAt(bs) === 45) {
      bytes = NaN;
      be = bs + 1;
    } else {
      for (; be < end; be++) {
        const d = t.charCodeAt(be) - 48;
        if (d < 0 || d > 9) break;
        bytes = bytes * 10 + d;
      }
      if (be === bs || be - bs > 15) return false;
    }

    let rfs = 0;
    let rfe = 0;
    let uas = 0;
    let uae = 0;
    let xs = 0;
    let xe = 0;
    let duration = NaN;
    let upstream = NaN;
    if (this.withAgent) {
      // referer: the first quote, unescaped, followed by ` "`; user agent: the first quote, unescaped, at the line end
      if (t.charCodeAt(be) !== 32 || t.charCodeAt(be + 1) !== 34) return false;
      rfs = be + 2;
      rfe = this.quote.find(c, rfs);
      if (rfe >= end || t.charCodeAt(rfe - 1) === 92 || t.charCodeAt(rfe + 1) !== 32 || t.charCodeAt(rfe + 2) !== 34) return false;
      uas = rfe + 3;
      uae = this.quote.find(c, uas);
      const tail = this.tail;
      if (tail === TAIL_NONE) {
        if (uae !== end - 1 || t.charCodeAt(uae - 1) === 92) return false;
      } else if (tail === TAIL_XFF) {
        // user agent: the first quote, unescaped, followed by ` "`; X-Forwarded-For: the first quote, unescaped, at the line end
        if (uae >= end || t.charCodeAt(uae - 1) === 92 || t.charCodeAt(uae + 1) !== 32 || t.charCodeAt(uae + 2) !== 34) return false;
        xs = uae + 3;
        xe = this.quote.find(c, xs);
        if (xe !== end - 1 || t.charCodeAt(xe - 1) === 92) return false;
      } else {
        // user agent: the first quote, unescaped, followed by one space and a digit or '-' (the duration);
        // the duration runs to the next space (upstream times: one token to the line end) or to the line end
        if (uae >= end || t.charCodeAt(uae - 1) === 92 || t.charCodeAt(uae + 1) !== 32) return false;
        const ds = uae + 2;
        const d0 = t.charCodeAt(ds);
        if (!(isDigit(d0) || d0 === 45)) return false;
        let de = ds;
        while (de < end && t.charCodeAt(de) !== 32) de++;
        if (de - ds === 1 && d0 === 45) duration = NaN;
        else {
          duration = decimal(t, ds, de);
          if (Number.isNaN(duration)) return false;
          duration = Math.round(duration * this.durationScale * 1000) / 1000;
        }
        if (tail === TAIL_DURATION_ONLY) {
          if (de !== end) return false;
        } else {
          const us2 = de + 1;
          if (de >= end || t.charCodeAt(us2) === 32) return false;
          let ue2 = us2;
          while (ue2 < end && t.charCodeAt(ue2) !== 32) ue2++;
          if (ue2 !== end) return false;
          upstream = upstreamSum(t, us2, end);
          if (upstream === -1) return false;
        }
      }
    } else if (be !== end) return false;

    // the client must be an IP or a host name (found before anything is interned: a rejected line leaves no trace)
    const buf = c.buf;
    const serial = b.serial;
    let ipId: number;
    let ipKind: number;
    if (quad) {
      ipId = this.v4.idOf(v4 * 256 + octet, t, buf, s0, ipEnd, b.ipDict, serial);
      ipKind = IP_KIND_V4;
    } else {
      const ipEntry = this.clients.find(t, buf, s0, ipEnd, wordHash(dv, s0, ipEnd));
      if (ipEntry < 0) return false;
      const ip = this.clients.idOf(ipEntry, b.ipDict, serial);
      ipId = ip >> 3;
      ipKind = ip & 7;
    }

    const r = b.reserveRow();
    const dicts = b.dicts;
    const strIds = b.strIds;
    // every string column, or (a row outside ParseOptions.allColumnsWithin) only those of `columns`
    const full = b.within === null || b.within.has(ms);
    const skip = full ? b.skip : b.skipOutside;
    b.ipIds[r] = ipId;
    b.ipKind[r] = ipKind;
    b.ts[r] = ms;
    b.status[r] = status;
    b.bytesSent[r] = bytes;
    b.durationMs[r] = duration;
    b.upstreamMs[r] = upstream;
    if (skip[COL_USER] === 0) {
      (strIds[COL_USER] as Int32Array)[r] = ue - us === 1 && u0 === 45 ? NO_ID
        : this.users.intern(t, buf, us, ue, wordHash(dv, us, ue), dicts[COL_USER] as Dict, serial);
    } else (strIds[COL_USER] as Int32Array)[r] = NO_ID;

    if (!(full ? b.skipRequest : b.skipRequestOutside)) {
      // request line → method, path, query, protocol ids, once per distinct request line per batch
      // (a line seen for the first time is split without being stored: most lines seen once are never seen again)
      const reqs = this.requests;
      let rr = reqs.record(dv, buf, rs, re, wordHash(dv, rs, re));
      let rec = reqs.rec;
      if (rr < 0) {
        rec = this.scratch;
        this.request(c, rs, re, rec, 3, serial);
        rr = 0;
      } else if (rec[rr + 2] !== serial) {
        this.request(c, rs, re, rec, rr + 3, serial);
        rec[rr + 2] = serial;
      }
      (strIds[COL_METHOD] as Int32Array)[r] = rec[rr + 3] as number;
      (strIds[COL_PATH] as Int32Array)[r] = rec[rr + 4] as number;
      (strIds[COL_QUERY] as Int32Array)[r] = rec[rr + 5] as number;
      (strIds[COL_PROTOCOL] as Int32Array)[r] = rec[rr + 6] as number;
    } else {
      (strIds[COL_METHOD] as Int32Array)[r] = NO_ID;
      (strIds[COL_PATH] as Int32Array)[r] = NO_ID;
      (strIds[COL_QUERY] as Int32Array)[r] = NO_ID;
      (strIds[COL_PROTOCOL] as Int32Array)[r] = NO_ID;
    }
    if (this.withAgent && !(full ? b.skipAgentPair : b.skipAgentPairOutside)) {
      // `referer" "user-agent` → both ids, once per distinct pair per batch
      const pairs = this.pairs;
      const pr = pairs.record(dv, buf, rfs, uae, wordHash(dv, rfs, uae));
      const rec = pairs.rec;
      if (rec[pr + 2] !== serial) {
        rec[pr + 3] = rfe - rfs === 1 && t.charCodeAt(rfs) === 45 ? NO_ID
          : this.referers.intern(t, buf, rfs, rfe, wordHash(dv, rfs, rfe), dicts[COL_REFERER] as Dict, serial);
        rec[pr + 4] = uae - uas === 1 && t.charCodeAt(uas) === 45 ? NO_ID
          : this.agents.intern(t, buf, uas, uae, wordHash(dv, uas, uae), dicts[COL_USER_AGENT] as Dict, serial);
        rec[pr + 2] = serial;
      }
      (strIds[COL_REFERER] as Int32Array)[r] = rec[pr + 3] as number;
      (strIds[COL_USER_AGENT] as Int32Array)[r] = rec[pr + 4] as number;
    } else if (this.withAgent) {
      (strIds[COL_REFERER] as Int32Array)[r] = NO_ID;
      (strIds[COL_USER_AGENT] as Int32Array)[r] = NO_ID;
    }
    if (this.withXff) {
      (strIds[COL_FORWARDED_FOR] as Int32Array)[r] = skip[COL_FORWARDED_FOR] === 1 || (xe - xs === 1 && t.charCodeAt(xs) === 45) ? NO_ID
        : this.forwarded.intern(t, buf, xs, xe, wordHash(dv, xs, xe), dicts[COL_FORWARDED_FOR] as Dict, serial);
    }
    const unfilled = this.unfilled;
    for (let k = 0; k < unfilled.length; k++) (strIds[unfilled[k] as number] as Int32Array)[r] = NO_ID;
    if (!full) {
      const partial = b.partialOutside;
      for (let k = 0; k < partial.length; k++) (strIds[partial[k] as number] as Int32Array)[r] = NO_ID;
    }
    b.input[r] = b.inputIndex;
    b.line[r] = line;
    b.byteOffset[r] = byteOffset;
    b.length = r + 1;
    return true;
  }

  /** The request line [s,e) → method, path, query, protocol ids at out[o..o+3], split as stageRequest splits it. */
  private request(c: LineCtx, s: number, e: number, out: Int32Array, o: number, serial: number): void {
    const t = c.text;
    const b = c.b;
    out[o] = NO_ID;
    out[o + 1] = NO_ID;
    out[o + 2] = NO_ID;
    out[o + 3] = NO_ID;
    if (s === e || (e - s === 1 && t.charCodeAt(s) === 45)) return;
    // the first word must be an HTTP token to be a method; otherwise the request is kept whole as the path
    let sp = s;
    for (; sp < e; sp++) {
      const ch = t.charCodeAt(sp);
      if (!(ch > 32 && ch < 127 && ch !== 34 && ch !== 40 && ch !== 41 && ch !== 44 && ch !== 47 && ch !== 58 && ch !== 59 &&
        ch !== 60 && ch !== 61 && ch !== 62 && ch !== 63 && ch !== 64 && ch !== 91 && ch !== 92 && ch !== 93 && ch !== 123 && ch !== 125)) break;
    }
    if (sp >= e || t.charCodeAt(sp) !== 32) {
      out[o + 1] = this.paths.intern(t, c.buf, s, e, wordHash(c.dv, s, e), b.dicts[COL_PATH] as Dict, serial);
      return;
    }
    out[o] = this.method(c, s, sp, serial);
    let us = sp;
    while (us < e && t.charCodeAt(us) === 32) us++;
    let ue = e;
    let last = e - 1;
    while (last >= us && t.charCodeAt(last) !== 32) last--;
    if (last >= us && t.charCodeAt(last + 1) === 72 && t.charCodeAt(last + 2) === 84 && t.charCodeAt(last + 3) === 84 &&
      t.charCodeAt(last + 4) === 80 && t.charCodeAt(last + 5) === 47) { // 'HTTP/'
      out[o + 3] = this.protocol(c, last + 1, e, serial);
      ue = last;
      while (ue > us && t.charCodeAt(ue - 1) === 32) ue--;
    }
    if (us >= ue) return;
    // path up to '?', the query after it
    const q = this.query.find(c, us);
    const pe = q < ue ? q : ue;
    out[o + 1] = this.paths.intern(t, c.buf, us, pe, wordHash(c.dv, us, pe), b.dicts[COL_PATH] as Dict, serial);
    if (q < ue) out[o + 2] = this.queries.intern(t, c.buf, q + 1, ue, wordHash(c.dv, q + 1, ue), b.dicts[COL_QUERY] as Dict, serial);
  }

  private method(c: LineCtx, s: number, e: number, serial: number): number {
    const t = c.text;
    const l = this.lastMethod;
    if (this.lastMethodSerial === serial && l.length === e - s) {
      let i = 0;
      while (i < l.length && t.charCodeAt(s + i) === l.charCodeAt(i)) i++;
      if (i === l.length) return this.lastMethodId;
    }
    const b = c.b;
    const id = this.methods.intern(t, c.buf, s, e, wordHash(c.dv, s, e), b.dicts[COL_METHOD] as Dict, serial);
    this.lastMethod = (b.dicts[COL_METHOD] as Dict).values[id] as string;
    this.lastMethodId = id;
    this.lastMethodSerial = serial;
    return id;
  }

  private protocol(c: LineCtx, s: number, e: number, serial: number): number {
    const t = c.text;
    const l = this.lastProto;
    if (this.lastProtoSerial === serial && l.length === e - s) {
      let i = 0;
      while (i < l.length && t.charCodeAt(s + i) === l.charCodeAt(i)) i++;
      if (i === l.length) return this.lastProtoId;
    }
    const b = c.b;
    const id = this.protocols.intern(t, c.buf, s, e, wordHash(c.dv, s, e), b.dicts[COL_PROTOCOL] as Dict, serial);
    this.lastProto = (b.dicts[COL_PROTOCOL] as Dict).values[id] as string;
    this.lastProtoId = id;
    this.lastProtoSerial = serial;
    return id;
  }
}
