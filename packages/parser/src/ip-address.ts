/**
 * Client-address canonicalisation. Strict on purpose: forms that some resolvers
 * decode (`010.8.8.8` octal, `0x7f.1` hex, `127.1` short) are refused, never
 * silently turned into another address. Host names (RFC 1123 labels, last label
 * not all digits) are kept, lowercased.
 */
import { IP_KIND_HOSTNAME, IP_KIND_V4, IP_KIND_V6 } from './types.ts';

export interface CanonicalIp {
  readonly value: string;
  readonly kind: number;
}

/** Dotted quad without leading zeros, or -1. Returns the 32-bit value as a number. */
function parseV4(s: string, start: number, end: number): number {
  let parts = 0;
  let acc = 0;
  let digits = 0;
  let value = 0;
  let leadingZero = false;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 46;
    if (c >= 48 && c <= 57) {
      if (digits === 0) leadingZero = c === 48;
      else if (leadingZero) return -1;
      acc = acc * 10 + (c - 48);
      if (++digits > 3 || acc > 255) return -1;
    } else if (c === 46) {
      if (digits === 0) return -1;
      value = value * 256 + acc;
      parts++;
      acc = 0;
      digits = 0;
    } else return -1;
  }
  return parts === 4 ? value : -1;
}

function v4String(v: number): string {
  return `${Math.floor(v / 16777216)}.${Math.floor(v / 65536) % 256}.${Math.floor(v / 256) % 256}.${v % 256}`;
}

/** Eight 16-bit groups, or null. Accepts '::', an embedded IPv4 tail, 1-4 hex digits per group. */
function parseV6(s: string): number[] | null {
  const head: number[] = [];
  const tail: number[] = [];
  let cur = head;
  let seenDouble = false;
  let i = 0;
  const n = s.length;
  if (n < 2) return null;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return null;
    seenDouble = true;
    cur = tail;
    i = 2;
    if (i === n) return [0, 0, 0, 0, 0, 0, 0, 0];
  }
  while (i < n) {
    // one group (or an IPv4 tail)
    let j = i;
    let v = 0;
    while (j < n) {
      const c = s.charCodeAt(j);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      v = v * 16 + d;
      j++;
    }
    if (j < n && s.charCodeAt(j) === 46) {
      // embedded IPv4: must be the last thing
      const v4 = parseV4(s, i, n);
      if (v4 < 0) return null;
      cur.push(Math.floor(v4 / 65536), v4 % 65536);
      i = n;
      break;
    }
    const len = j - i;
    if (len === 0 || len > 4) return null;
    cur.push(v);
    if (j === n) {
      i = n;
      break;
    }
    if (s.charCodeAt(j) !== 58) return null;
    if (j + 1 < n && s.charCodeAt(j + 1) === 58) {
      if (seenDouble) return null;
      seenDouble = true;
      cur = tail;
      i = j + 2;
      if (i === n) break;
    } else {
      i = j + 1;
      if (i === n) return null; // trailing single ':'
    }
  }
  const total = head.length + tail.length;
  if (seenDouble ? total > 7 : total !== 8) return null;
  const out = head.slice();
  for (let k = total; k < 8; k++) out.push(0);
  for (const t of tail) out.push(t);
  return out;
}

/** RFC 5952 text of eight groups. */
function v6String(g: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (k: number): string => (g[k] as number).toString(16);
  if (bestStart < 0) return g.map((_, k) => hex(k)).join(':');
  const left: string[] = [];
  for (let k = 0; k < bestStart; k++) left.push(hex(k));
  const right: string[] = [];
  for (let k = bestStart + bestLen; k < 8; k++) right.push(hex(k));
  return `${left.join(':')}::${right.join(':')}`;
}

function isHostname(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 253) return false;
  let labelLen = 0;
  let labelHasAlpha = false;
  let prev = 46;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
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
  // a trailing dot (FQDN) is fine; the last real label must not be all digits
  if (labelLen === 0) {
    // ended with '.': check the label before it
    const t = s.slice(0, n - 1);
    return t.length > 0 && t.charCodeAt(t.length - 1) !== 46 && isHostname(t);
  }
  return labelHasAlpha && prev !== 45;
}

/**
 * Canonical form of a client field, or null when it is neither an IP nor a host
 * name (`010.8.8.8`, `127.1`, `0x7f.1`, `1.2.3.4:8080`, `unix:`).
 */
export function canonicalIp(raw: string): CanonicalIp | null {
  const n = raw.length;
  if (n === 0) return null;
  const v4 = parseV4(raw, 0, n);
  if (v4 >= 0) return { value: v4String(v4), kind: IP_KIND_V4 };
  if (raw.indexOf(':') >= 0) {
    let s = raw;
    if (s.charCodeAt(0) === 91) {
      if (s.charCodeAt(n - 1) !== 93) return null; // [v6]:port
      s = s.slice(1, n - 1);
    }
    const pct = s.indexOf('%');
    if (pct >= 0) {
      if (pct === s.length - 1) return null;
      s = s.slice(0, pct);
    }
    const g = parseV6(s);
    if (g === null) return null;
    // IPv4-mapped ::ffff:a.b.c.d
    if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
      return { value: v4String((g[6] as number) * 65536 + (g[7] as number)), kind: IP_KIND_V4 };
    }
    return { value: v6String(g), kind: IP_KIND_V6 };
  }
  if (isHostname(raw)) {
    let h = raw.toLowerCase();
    if (h.charCodeAt(h.length - 1) === 46) h = h.slice(0, -1);
    return { value: h, kind: IP_KIND_HOSTNAME };
  }
  return null;
}
