/**
 * Special-purpose address ranges (IANA IPv4/IPv6 special-purpose registries, RFC 6890 and
 * successors). Addresses in them are labelled, never looked up: a database answer for
 * 10.0.0.1 or 2001:db8::1 would be noise at best.
 */
import type { AddressLabel } from './types.ts';

/** Label of an IPv4 address (unsigned 32-bit), or null for an ordinary public address. */
export function ipv4Label(value: number): AddressLabel | null {
  const a = value >>> 24;
  const b = (value >>> 16) & 255;
  const c = (value >>> 8) & 255;
  switch (a) {
    case 0:
      return value === 0 ? 'unspecified' : 'reserved'; // 0.0.0.0/8 "this network"
    case 10:
      return 'private';
    case 100:
      return (b & 0xc0) === 64 ? 'cgnat' : null; // 100.64.0.0/10
    case 127:
      return 'loopback';
    case 169:
      return b === 254 ? 'link_local' : null;
    case 172:
      return (b & 0xf0) === 16 ? 'private' : null; // 172.16.0.0/12
    case 192:
      if (b === 168) return 'private';
      if (b === 0 && c === 0) return 'reserved'; // 192.0.0.0/24 IETF protocol assignments
      if (b === 0 && c === 2) return 'documentation'; // TEST-NET-1
      if (b === 88 && c === 99) return 'reserved'; // deprecated 6to4 relay anycast
      return null;
    case 198:
      if ((b & 0xfe) === 18) return 'benchmarking'; // 198.18.0.0/15
      if (b === 51 && c === 100) return 'documentation'; // TEST-NET-2
      return null;
    case 203:
      return b === 0 && c === 113 ? 'documentation' : null; // TEST-NET-3
    default:
      if (a >= 224 && a <= 239) return 'multicast';
      if (a >= 240) return 'reserved'; // 240.0.0.0/4 and the limited broadcast address
      return null;
  }
}

/** Label of an IPv6 address (8 hextets), or null for an ordinary address. */
export function ipv6Label(h: ArrayLike<number>): AddressLabel | null {
  const h0 = h[0]!;
  if (h0 === 0) {
    if (h[1] === 0 && h[2] === 0 && h[3] === 0 && h[4] === 0 && h[5] === 0 && h[6] === 0) {
      if (h[7] === 0) return 'unspecified';
      if (h[7] === 1) return 'loopback';
    }
    return 'reserved'; // ::/8 (IPv4-compatible and friends); ::ffff:0:0/96 never gets here
  }
  if (h0 === 0x64 && h[1] === 0xff9b) {
    if (h[2] === 1) return 'reserved'; // 64:ff9b:1::/48 local-use NAT64
    if (h[2] === 0 && h[3] === 0 && h[4] === 0 && h[5] === 0) return null; // 64:ff9b::/96 well-known NAT64
    return 'reserved';
  }
  if (h0 === 0x2001) {
    const h1 = h[1]!;
    if (h1 === 0x0db8) return 'documentation'; // 2001:db8::/32
    if (h1 === 0x0002 && h[2] === 0) return 'benchmarking'; // 2001:2::/48
    if ((h1 & 0xfff0) === 0x0010 || (h1 & 0xfff0) === 0x0020) return 'reserved'; // ORCHID, ORCHIDv2
    return null;
  }
  if (h0 === 0x3fff && h[1]! < 0x1000) return 'documentation'; // 3fff::/20 (RFC 9637)
  if ((h0 & 0xfe00) === 0xfc00) return 'unique_local'; // fc00::/7
  if ((h0 & 0xffc0) === 0xfe80) return 'link_local'; // fe80::/10
  if ((h0 & 0xff00) === 0xff00) return 'multicast'; // ff00::/8
  if ((h0 & 0xe000) !== 0x2000) return 'reserved'; // outside 2000::/3 global unicast (incl. 100::/64, fec0::/10)
  return null;
}
