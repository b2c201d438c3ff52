/**
 * The converting half of a compiled line parser: a field's text → staged
 * row values (numbers into the batch's typed arrays, strings as slots), or a
 * reject reason. Request lines are split here, clients canonicalised.
 */
import {
  COL_FORWARDED_FOR, COL_METHOD, COL_PATH, COL_PROTOCOL, COL_QUERY, COL_USER,
} from './batch-builder.ts';
import type { FieldDef } from './format-fields.ts';
import { decimal, fail, Finder, isDash, show, upstreamSum } from './line-scan.ts';
import type { LineCtx } from './line-scan.ts';
import {
  compileStrftime, parseEpochInteger, parseEpochSeconds, parseIso8601,
} from './timestamp.ts';
import type { TimeZone } from './time-zone.ts';

const requestSpace = new Finder(' ');
const uriQuery = new Finder('?');

export function stageRequest(c: LineCtx, s: number, e: number): void {
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

export function stageUri(c: LineCtx, s: number, e: number): void {
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

export function stageStr(c: LineCtx, col: number, s: number, e: number): void {
  if (isDash(c, s, e)) return;
  c.b.slotStart[col] = s;
  c.b.slotEnd[col] = e;
}

/** Resolve raw client text → ip column; false when not an IP nor a host name. */
export function stageClient(c: LineCtx, s: number, e: number): boolean {
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


export type Convert = (c: LineCtx, s: number, e: number) => boolean;

export function converter(f: FieldDef, tz: TimeZone, extraIndex: (n: string) => number): Convert {
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

