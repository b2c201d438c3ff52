/**
 * Timestamps, digit by digit, to UTC epoch ms. No Date.parse per line: the CLF
 * parser keeps the last `dd/Mon/yyyy:HH` + zone it saw and only decodes minutes
 * and seconds when they match (logs are mostly in order).
 */
import { Buffer } from 'node:buffer';
import type { TimeZone } from './time-zone.ts';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_KEYS = new Map<number, number>(MONTHS.map((m, i) => [
  (m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2), i + 1]));

/** Month 1..12 from three letters at `pos` (any case), 0 when not a month. */
export function monthAt(s: string, pos: number): number {
  const key = ((s.charCodeAt(pos) | 32) << 16) | ((s.charCodeAt(pos + 1) | 32) << 8) | (s.charCodeAt(pos + 2) | 32);
  return MONTH_KEYS.get(key) ?? 0;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Value of `n` decimal digits at `pos`, or -1. */
export function digitsAt(s: string, pos: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(pos + i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Wall-clock ms (as if UTC) of a validated date-time, or NaN when impossible. */
export function civilMs(y: number, mo: number, d: number, h: number, mi: number, sec: number): number {
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) {
    return NaN;
  }
  return ((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60_000 + sec * 1000;
}

/** Offset ±HHMM or ±HH:MM at pos → ms (local - UTC); NaN when malformed or beyond ±18:00. `len` receives its length. */
function offsetAt(s: string, pos: number, end: number, out: { len: number }): number {
  const sign = s.charCodeAt(pos);
  if (sign !== 43 && sign !== 45) return NaN;
  const hh = digitsAt(s, pos + 1, 2);
  let p = pos + 3;
  if (s.charCodeAt(p) === 58) p++;
  const mm = digitsAt(s, p, 2);
  if (hh < 0 || mm < 0 || p + 2 > end || hh > 18 || mm > 59) return NaN;
  out.len = p + 2 - pos;
  const v = (hh * 60 + mm) * 60_000;
  return sign === 45 ? -v : v;
}

/** s[pos, pos+k.length) equals k (short keys: a loop beats a builtin call). */
function sameChars(s: string, pos: number, k: string): boolean {
  for (let i = 0; i < k.length; i++) if (s.charCodeAt(pos + i) !== k.charCodeAt(i)) return false;
  return true;
}

/**
 * Apache/nginx `%t` / `$time_local`: `dd/Mon/yyyy:HH:MM:SS ±hhmm` (no brackets).
 * A missing or empty zone falls back to the time zone option. After a call,
 * `end` is the index just past the timestamp (and past trailing spaces when the zone is empty).
 */
/** Month names other locales write into %b (strftime in a non-English locale): lowercase, without dots. */
const LOCAL_MONTHS = new Map<string, number>([
  ['janv', 1], ['janvier', 1], ['févr', 2], ['fevr', 2], ['février', 2], ['mars', 3], ['avr', 4], ['avril', 4], ['mai', 5],
  ['juin', 6], ['juil', 7], ['juillet', 7], ['août', 8], ['aout', 8], ['sept', 9], ['septembre', 9], ['oct', 10], ['octobre', 10],
  ['nov', 11], ['novembre', 11], ['déc', 12], ['dec', 12], ['décembre', 12], // fr
  ['jän', 1], ['januar', 1], ['februar', 2], ['mär', 3], ['märz', 3], ['okt', 10], ['dez', 12], // de
  ['ene', 1], ['abr', 4], ['ago', 8], ['dic', 12], // es
  ['gen', 1], ['mag', 5], ['giu', 6], ['lug', 7], ['set', 9], ['ott', 10], // it
  ['mrt', 3], ['mei', 5], // nl
  ...MONTHS.map((m, i): [string, number] => [m, i + 1]),
  ['january', 1], ['february', 2], ['march', 3], ['april', 4], ['june', 6], ['july', 7], ['august', 8], ['september', 9],
  ['october', 10], ['november', 11], ['december', 12],
]);
const EN_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class ClfTimeParser {
  end = 0;
  private hourKey = '';
  private zoneKey = '';
  private hourBase = 0;
  private readonly tz: TimeZone;
  private readonly scratch = { len: 0 };

  constructor(tz: TimeZone) {
    this.tz = tz;
  }

  parse(s: string, pos: number, lineEnd: number): number {
    // fast path: same day+hour and zone as the previous line
    if (s.charCodeAt(pos + 20) === 32 && this.hourKey !== '' && sameChars(s, pos, this.hourKey) && sameChars(s, pos + 20, this.zoneKey)) {
      const mi = digitsAt(s, pos + 15, 2);
      const sec = digitsAt(s, pos + 18, 2);
      if (s.charCodeAt(pos + 14) === 58 && s.charCodeAt(pos + 17) === 58 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 59) {
        this.end = pos + 20 + this.zoneKey.length;
        return this.hourBase + mi * 60_000 + sec * 1000;
      }
    }
    return this.parseSlow(s, pos, lineEnd);
  }

  /** `02/sept./2015:…`: a localised or full month name; rewritten to English and parsed again. */
  private parseLocalMonth(s: string, pos: number, lineEnd: number): number {
    let slash = pos + 3;
    while (slash < lineEnd && slash < pos + 16 && s.charCodeAt(slash) !== 47) slash++;
    if (s.charCodeAt(slash) !== 47) return NaN;
    const raw = Buffer.from(s.slice(pos + 3, slash), 'latin1').toString('utf8').toLowerCase().replace(/\.$/, '');
    const mo = LOCAL_MONTHS.get(raw);
    if (mo === undefined) return NaN;
    const tail = s.slice(slash, Math.min(lineEnd, slash + 40));
    const norm = `${s.slice(pos, pos + 3)}${EN_MONTHS[mo - 1] as string}${tail}`;
    const ms = this.parseSlow(norm, 0, norm.length);
    this.end += pos + (slash - (pos + 6));
    return ms;
  }

  private parseSlow(s: string, pos: number, lineEnd: number): number {
    if (pos + 20 > lineEnd) return NaN;
    const d = digitsAt(s, pos, 2);
    const mo = monthAt(s, pos + 3);
    const y = digitsAt(s, pos + 7, 4);
    const h = digitsAt(s, pos + 12, 2);
    const mi = digitsAt(s, pos + 15, 2);
    const sec = digitsAt(s, pos + 18, 2);
    if (s.charCodeAt(pos + 2) === 47 && (mo === 0 || s.charCodeAt(pos + 6) !== 47)) return this.parseLocalMonth(s, pos, lineEnd);
    if (s.charCodeAt(pos + 2) !== 47 || s.charCodeAt(pos + 6) !== 47 || s.charCodeAt(pos + 11) !== 58 ||
      s.charCodeAt(pos + 14) !== 58 || s.charCodeAt(pos + 17) !== 58 || mo === 0) return NaN;
    const local = civilMs(y, mo, d, h, mi, sec);
    if (Number.isNaN(local)) return NaN;
    let p = pos + 20;
    if (s.charCodeAt(p) === 32 && p + 1 < lineEnd) {
      const c = s.charCodeAt(p + 1);
      if (c === 43 || c === 45) {
        const off = offsetAt(s, p + 1, lineEnd, this.scratch);
        if (Number.isNaN(off)) return NaN;
        const zoneLen = 1 + this.scratch.len;
        this.end = p + zoneLen;
        if (zoneLen === 6) {
          this.hourKey = s.slice(pos, pos + 14);
          this.zoneKey = s.slice(p, p + 6);
          this.hourBase = local - mi * 60_000 - sec * 1000 - off;
        }
        return local - off;
      }
      // empty zone: `[31/Jan/2015:14:29:44 ]`
      while (p < lineEnd && s.charCodeAt(p) === 32) p++;
    }
    this.end = p;
    return this.tz.localToUtc(local);
  }
}

/**
 * ISO 8601 as nginx `$time_iso8601` writes it (`2015-10-30T15:59:39+01:00`),
 * also with fractional seconds, `Z`, a space instead of `T`, or no offset (→ tz).
 * Returns NaN when malformed or impossible.
 */
export function parseIso8601(s: string, pos: number, end: number, tz: TimeZone): number {
  const y = digitsAt(s, pos, 4);
  const mo = digitsAt(s, pos + 5, 2);
  const d = digitsAt(s, pos + 8, 2);
  const t = s.charCodeAt(pos + 10);
  if (y < 0 || s.charCodeAt(pos + 4) !== 45 || s.charCodeAt(pos + 7) !== 45 || (t !== 84 && t !== 32 && t !== 116)) return NaN;
  const h = digitsAt(s, pos + 11, 2);
  const mi = digitsAt(s, pos + 14, 2);
  const sec = digitsAt(s, pos + 17, 2);
  if (s.charCodeAt(pos + 13) !== 58 || s.charCodeAt(pos + 16) !== 58) return NaN;
  const local = civilMs(y, mo, d, h, mi, sec);
  if (Number.isNaN(local)) return NaN;
  let p = pos + 19;
  let frac = 0;
  if (p < end && (s.charCodeAt(p) === 46 || s.charCodeAt(p) === 44)) {
    p++;
    let scale = 100;
    const start = p;
    while (p < end) {
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 9) break;
      frac += c * scale;
      scale /= 10;
      p++;
    }
    if (p === start) return NaN;
    frac = Math.floor(frac + 1e-9);
  }
  if (p === end) return tz.localToUtc(local) + frac;
  const c = s.charCodeAt(p);
  if ((c === 90 || c === 122) && p + 1 === end) return local + frac;
  const out = { len: 0 };
  const off = offsetAt(s, p, end, out);
  if (Number.isNaN(off) || p + out.len !== end) return NaN;
  return local - off + frac;
}

/** `$msec` / `%{sec}t`-style epoch seconds with optional fraction → ms; NaN when malformed. */
export function parseEpochSeconds(s: string, pos: number, end: number): number {
  let v = 0;
  let p = pos;
  while (p < end) {
    const c = s.charCodeAt(p) - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
    p++;
  }
  if (p === pos || p - pos > 12) return NaN;
  let ms = v * 1000;
  if (p < end && s.charCodeAt(p) === 46) {
    p++;
    let scale = 100;
    const start = p;
    while (p < end) {
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 9) return NaN;
      ms += c * scale;
      scale /= 10;
      p++;
    }
    if (p === start) return NaN;
    ms = Math.floor(ms + 1e-6);
  }
  return p === end ? ms : NaN;
}

/** Integer epoch value in given unit (`%{msec}t` → 1, `%{usec}t` → 0.001) → ms. */
export function parseEpochInteger(s: string, pos: number, end: number, msPerUnit: number): number {
  if (end <= pos || end - pos > 19) return NaN;
  let v = 0;
  for (let p = pos; p < end; p++) {
    const c = s.charCodeAt(p) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return Math.floor(v * msPerUnit);
}

type TimePart = (s: string, p: number, end: number, st: TmState) => number; // returns new p or -1
interface TmState {
  y: number; mo: number; d: number; h: number; mi: number; sec: number; off: number; epoch: number; pm: number; frac: number;
}

function num(min: number, max: number, field: keyof TmState, spacePad = false): TimePart {
  return (s, p, end, st) => {
    let q = p;
    if (spacePad && s.charCodeAt(q) === 32) q++;
    let v = 0;
    const start = q;
    while (q < end && q - start < max) {
      const c = s.charCodeAt(q) - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      q++;
    }
    if (q - start < min) return -1;
    st[field] = v;
    return q;
  };
}

function literal(text: string): TimePart {
  return (s, p) => (s.startsWith(text, p) ? p + text.length : -1);
}

const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

function named(full: readonly string[], field: keyof TmState | null): TimePart {
  return (s, p, _end, st) => {
    const m = monthAt(s, p);
    if (field === 'mo') {
      if (m === 0) return -1;
      st.mo = m;
      const name = full[m - 1] as string;
      return s.slice(p, p + name.length).toLowerCase() === name ? p + name.length : p + 3;
    }
    // day names: accept full or abbreviated
    const lower = s.slice(p, p + 9).toLowerCase();
    for (const n of full) {
      if (lower.startsWith(n)) return p + n.length;
      if (lower.startsWith(n.slice(0, 3))) return p + 3;
    }
    return -1;
  };
}

function zonePart(): TimePart {
  return (s, p, end, st) => {
    if (s.charCodeAt(p) === 90) {
      st.off = 0;
      return p + 1;
    }
    const out = { len: 0 };
    const off = offsetAt(s, p, end, out);
    if (Number.isNaN(off)) return -1;
    st.off = off;
    return p + out.len;
  };
}

/** strftime directives used by Apache `%{format}t` → parser steps. */
function strftimeParts(fmt: string): TimePart[] | null {
  const parts: TimePart[] = [];
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i] as string;
    if (c !== '%') {
      parts.push(literal(c));
      continue;
    }
    const k = fmt[++i];
    switch (k) {
      case 'Y': parts.push(num(4, 4, 'y')); break;
      case 'y': parts.push((s, p, end, st) => {
        const q = num(2, 2, 'y')(s, p, end, st);
        if (q >= 0) st.y += st.y < 69 ? 2000 : 1900;
        return q;
      }); break;
      case 'm': parts.push(num(1, 2, 'mo')); break;
      case 'd': parts.push(num(1, 2, 'd')); break;
      case 'e': parts.push(num(1, 2, 'd', true)); break;
      case 'H': parts.push(num(1, 2, 'h')); break;
      case 'k': parts.push(num(1, 2, 'h', true)); break;
      case 'I': parts.push(num(1, 2, 'h')); break;
      case 'M': parts.push(num(1, 2, 'mi')); break;
      case 'S': parts.push(num(1, 2, 'sec')); break;
      case 'b': case 'h': case 'B': parts.push(named(MONTH_NAMES, 'mo')); break;
      case 'a': case 'A': parts.push(named(DAY_NAMES, null)); break;
      case 'p': parts.push((s, p, _e, st) => {
        const t = s.slice(p, p + 2).toUpperCase();
        if (t !== 'AM' && t !== 'PM') return -1;
        st.pm = t === 'PM' ? 1 : 2;
        return p + 2;
      }); break;
      case 'z': parts.push(zonePart()); break;
      case 'Z': parts.push((s, p, end) => { // zone name: skip letters, ignore (use offset or tz)
        let q = p;
        while (q < end && /[A-Za-z]/.test(s[q] as string)) q++;
        return q > p ? q : -1;
      }); break;
      case 's': parts.push((s, p, end, st) => {
        let q = p;
        while (q < end && q - p < 12 && s.charCodeAt(q) >= 48 && s.charCodeAt(q) <= 57) q++;
        if (q === p) return -1;
        st.epoch = Number(s.slice(p, q)) * 1000;
        return q;
      }); break;
      case 'j': return null;
      case 'T': parts.push(...(strftimeParts('%H:%M:%S') as TimePart[])); break;
      case 'R': parts.push(...(strftimeParts('%H:%M') as TimePart[])); break;
      case 'D': parts.push(...(strftimeParts('%m/%d/%y') as TimePart[])); break;
      case 'F': parts.push(...(strftimeParts('%Y-%m-%d') as TimePart[])); break;
      case 'n': case 't': parts.push((s, p, end) => {
        let q = p;
        while (q < end && (s.charCodeAt(q) === 32 || s.charCodeAt(q) === 9)) q++;
        return q;
      }); break;
      case '%': parts.push(literal('%')); break;
      default: return null;
    }
  }
  return parts;
}

/** Compile a strftime pattern into a parser of [pos,end) → UTC ms (NaN when it does not fit). Null: unsupported pattern. */
export function compileStrftime(fmt: string, tz: TimeZone): ((s: string, pos: number, end: number) => number) | null {
  const parts = strftimeParts(fmt);
  if (parts === null) return null;
  const st: TmState = { y: 1970, mo: 1, d: 1, h: 0, mi: 0, sec: 0, off: NaN, epoch: NaN, pm: 0, frac: 0 };
  return (s, pos, end) => {
    st.y = 1970; st.mo = 1; st.d = 1; st.h = 0; st.mi = 0; st.sec = 0; st.off = NaN; st.epoch = NaN; st.pm = 0;
    let p = pos;
    for (const part of parts) {
      p = part(s, p, end, st);
      if (p < 0) return NaN;
    }
    if (p !== end) return NaN;
    if (!Number.isNaN(st.epoch)) return st.epoch;
    if (st.pm !== 0) {
      if (st.h < 1 || st.h > 12) return NaN;
      st.h = (st.h % 12) + (st.pm === 1 ? 12 : 0);
    }
    const local = civilMs(st.y, st.mo, st.d, st.h, st.mi, st.sec);
    if (Number.isNaN(local)) return NaN;
    return Number.isNaN(st.off) ? tz.localToUtc(local) : local - st.off;
  };
}

/** True when a strftime pattern carries its own offset or epoch (`%z`, `%s`). */
export function strftimeHasOffset(fmt: string): boolean {
  return /%[zs]/.test(fmt);
}
