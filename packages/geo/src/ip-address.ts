/**
 * Cheap, strict IP text parsing for the lookup hot path, RFC 5952 IPv6 text, and the
 * fixed aggregation prefixes (/24 for IPv4, /48 for IPv6) that core reuses.
 *
 * Log fields are attacker-written, so parsing is strict: dotted quads without leading
 * zeros, IPv6 with at most one `::`, hex groups of 1–4 digits, an optional trailing
 * dotted quad, an optional `%zone` and optional `[...]` brackets. Anything else is a
 * host name (not an IP) and is never looked up.
 */

/** A parsed address. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is returned as IPv4. */
export type ParsedIp =
  | { readonly version: 4; readonly value: number }
  | { readonly version: 6; readonly hextets: Uint16Array };

/** Longest text we try to parse as an address (full IPv6 with dotted tail, zone and brackets). */
const MAX_IP_TEXT = 64;

/**
 * Parses dotted-quad IPv4 text to an unsigned 32-bit number, or -1 when `text` (from
 * `start` to `end`) is not exactly four decimal octets 0–255 without leading zeros.
 */
export function parseIpv4Number(text: string, start: number = 0, end: number = text.length): number {
  if (end - start < 7 || end - start > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // leading zero
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses IPv6 text (without brackets or zone) into `out` (8 hextets). Returns false when
 * the text is not a valid IPv6 address.
 */
function parseIpv6Into(text: string, start: number, end: number, out: Uint16Array): boolean {
  if (end - start < 2) return false;
  out.fill(0);
  let group = 0; // hextets written before `::`
  let gapAt = -1; // index in `out` where `::` sits
  let i = start;
  if (text.charCodeAt(i) === 58) {
    if (text.charCodeAt(i + 1) !== 58) return false;
    gapAt = 0;
    i += 2;
    if (i === end) return true; // "::"
  }
  const tail: number[] = [];
  const dest = (): number[] | null => (gapAt >= 0 ? tail : null);
  while (i < end) {
    // one group: hex digits, or a dotted quad as the last 32 bits
    let j = i;
    let v = 0;
    let n = 0;
    while (j < end) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      v = v * 16 + h;
      n++;
      j++;
    }
    if (j < end && text.charCodeAt(j) === 46) {
      // dotted quad tail: must run to the end
      const v4 = parseIpv4Number(text, i, end);
      if (v4 < 0) return false;
      const hi = Math.floor(v4 / 65536);
      const lo = v4 % 65536;
      const d = dest();
      if (d) d.push(hi, lo);
      else {
        if (group > 6) return false;
        out[group++] = hi;
        out[group++] = lo;
      }
      i = end;
      break;
    }
    if (n === 0 || n > 4) return false;
    const d = dest();
    if (d) d.push(v);
    else {
      if (group > 7) return false;
      out[group++] = v;
    }
    if (j === end) {
      i = end;
      break;
    }
    if (text.charCodeAt(j) !== 58) return false;
    j++;
    if (j < end && text.charCodeAt(j) === 58) {
      if (gapAt >= 0) return false; // second "::"
      gapAt = group;
      j++;
      if (j === end) {
        i = end;
        break;
      }
    } else if (j === end) {
      return false; // trailing single ':'
    }
    i = j;
  }
  if (gapAt < 0) return group === 8;
  const total = gapAt + tail.length;
  if (total > 7) return false; // "::" must stand for at least one group
  for (let k = 0; k < tail.length; k++) out[8 - tail.length + k] = tail[k]!;
  return true;
}

const scratch = new Uint16Array(8);

/**
 * Parses `text` as an IP address. Returns null for anything else (host names, `-`,
 * garbage). `::ffff:a.b.c.d` comes back as IPv4. The returned hextets are a fresh copy.
 */
export function parseIp(text: string): ParsedIp | null {
  const kind = classifyIp(text, scratch);
  if (kind === -1) return null;
  if (kind === -2) return { version: 6, hextets: scratch.slice() };
  return { version: 4, value: kind };
}

/**
 * Hot-path classifier: returns the IPv4 value (≥ 0), -2 when `text` is IPv6 (hextets
 * written into `hextets`), or -1 when it is not an IP address.
 */
export function classifyIp(text: string, hextets: Uint16Array): number {
  let end = text.length;
  if (end === 0 || end > MAX_IP_TEXT) return -1;
  const first = text.charCodeAt(0);
  // IPv4 fast path: starts with a digit and has no ':'
  if (first >= 48 && first <= 57 && end <= 15) {
    const v4 = parseIpv4Number(text, 0, end);
    if (v4 >= 0) return v4;
    if (text.indexOf(':') < 0) return -1;
  }
  let start = 0;
  if (first === 91) {
    // [v6]
    if (text.charCodeAt(end - 1) !== 93) return -1;
    start = 1;
    end -= 1;
  }
  const pct = text.indexOf('%', start);
  if (pct >= 0 && pct < end) {
    if (pct === end - 1) return -1;
    end = pct;
  }
  if (!parseIpv6Into(text, start, end, hextets)) return -1;
  // IPv4-mapped ::ffff:a.b.c.d → IPv4
  if (
    hextets[0] === 0 && hextets[1] === 0 && hextets[2] === 0 && hextets[3] === 0 &&
    hextets[4] === 0 && hextets[5] === 0xffff
  ) {
    return hextets[6]! * 65536 + hextets[7]!;
  }
  return -2;
}

/** Dotted-quad text of an unsigned 32-bit value. */
export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** RFC 5952 text of 8 hextets: lower case, no leading zeros, longest zero run (≥ 2) as `::`. */
export function formatIpv6(hextets: ArrayLike<number>): string {
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    out += hextets[i]!.toString(16);
    if (i < 7) out += ':';
  }
  return out;
}

/** The network of `value` at `prefixLength` bits, as CIDR text (`1.2.0.0/16`). */
export function ipv4Cidr(value: number, prefixLength: number): string {
  const size = 2 ** (32 - prefixLength);
  return `${formatIpv4(Math.floor(value / size) * size)}/${prefixLength}`;
}

/** Copies `hextets` with every bit after `prefixLength` cleared. */
export function maskIpv6(hextets: ArrayLike<number>, prefixLength: number): Uint16Array {
  const out = new Uint16Array(8);
  for (let i = 0; i < 8; i++) {
    const bits = prefixLength - i * 16;
    if (bits >= 16) out[i] = hextets[i]!;
    else if (bits > 0) out[i] = hextets[i]! & (0xffff << (16 - bits));
  }
  return out;
}

/** The network of `hextets` at `prefixLength` bits, as RFC 5952 CIDR text. */
export function ipv6Cidr(hextets: ArrayLike<number>, prefixLength: number): string {
  return `${formatIpv6(maskIpv6(hextets, prefixLength))}/${prefixLength}`;
}

/** /24 of an IPv4 value: `203.0.113.0/24`. */
export function ipv4AggregationPrefix(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.0/24`;
}

/** /48 of IPv6 hextets: `2001:db8:1::/48`. */
export function ipv6AggregationPrefix(hextets: ArrayLike<number>): string {
  return ipv6Cidr(hextets, 48);
}

/**
 * The fixed aggregation prefix of an address: /24 for IPv4 (`203.0.113.0/24`), /48 for
 * IPv6 (`2001:db8:1::/48`, RFC 5952 text); null when `ip` is not an IP address.
 * IPv4-mapped IPv6 counts as IPv4.
 */
export function aggregationPrefix(ip: string): string | null {
  const kind = classifyIp(ip, scratch);
  if (kind === -1) return null;
  if (kind === -2) return ipv6AggregationPrefix(scratch);
  return ipv4AggregationPrefix(kind);
}
