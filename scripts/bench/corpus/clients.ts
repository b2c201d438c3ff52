/**
 * Client addresses of the synthetic corpus. A client id maps to one address by
 * a bijection (distinct ids → distinct addresses), scattered over public-looking
 * space; the flood's /24s use first octets the background never does, so the
 * flood labels are exact.
 */
import { hash32, permute24 } from './prng.ts';

/** First octets of background IPv4 clients: public unicast, minus the flood's. */
const V4_FIRST_OCTETS: readonly number[] = (() => {
  const excluded = new Set([0, 10, 45, 100, 127, 169, 172, 192, 193, 198, 203]);
  const out: number[] = [];
  for (let o = 1; o <= 223; o++) if (!excluded.has(o)) out.push(o);
  return out;
})();

/** Real-looking /32 allocations of IPv6 access and hosting networks. */
const V6_PREFIXES: readonly string[] = [
  '2a02:8108', '2a01:4f8', '2a01:cb00', '2a02:a03f', '2a00:23c5', '2a02:c7c', '2003:e6',
  '2001:4c4c', '2600:1700', '2601:645', '2603:8000', '2607:fb90', '2804:14c', '2405:201',
  '2409:4071', '240e:3b3', '2a03:2880', '2001:4860', '2c0f:f4c0', '2a0d:5600',
];

export function ipv4ForId(id: number, key: number): string {
  const n = V4_FIRST_OCTETS.length;
  const slot = id % n;
  // For a fixed slot (first octet), rest is a bijection of the block: distinct ids, distinct addresses.
  const first = V4_FIRST_OCTETS[slot] as number;
  const rest = permute24(Math.floor(id / n) ^ (hash32(slot ^ key) & 0xffffff), key);
  return `${first}.${rest >>> 16}.${(rest >>> 8) & 0xff}.${rest & 0xff}`;
}

function hex16(x: number): string {
  return ((x & 0xffff) || 1).toString(16);
}

/** Canonical (RFC 5952) text: lower case, no leading zeros, no zero groups to compress. */
export function ipv6ForId(id: number, key: number): string {
  const n = V6_PREFIXES.length;
  const slot = id % n;
  const prefix = V6_PREFIXES[slot] as string;
  const site = permute24(Math.floor(id / n) ^ (hash32(slot ^ key) & 0xffffff), key);
  const h = hash32(id ^ key);
  const net = `${prefix}:${hex16(site >>> 8)}:${hex16(((site & 0xff) << 8) | (h >>> 24))}`;
  // About a third look like servers (::1-style), the rest like SLAAC/privacy addresses.
  if (h % 3 === 0) return `${net}::${hex16((h >>> 8) & 0xff)}`;
  const g = hash32(h);
  return `${net}:${hex16(h)}:${hex16(h >>> 16)}:${hex16(g)}:${hex16(g >>> 16)}`;
}

/** The flood: `hostsPerPrefix` hosts from each of these /24s. */
export const FLOOD_PREFIXES: readonly string[] = ['45.155.205', '193.142.146'];

export function floodIps(hostsPerPrefix: number, key: number): string[] {
  const out: string[] = [];
  for (const prefix of FLOOD_PREFIXES) {
    // Distinct hosts 1..254 in a keyed order.
    const hosts = Array.from({ length: 254 }, (_, i) => i + 1);
    hosts.sort((x, y) => hash32(x ^ key) - hash32(y ^ key) || x - y);
    for (const host of hosts.slice(0, Math.min(hostsPerPrefix, 254))) out.push(`${prefix}.${host}`);
  }
  return out;
}
