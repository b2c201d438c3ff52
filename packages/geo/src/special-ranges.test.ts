import { expect, test } from 'vitest';
import { parseIp } from './ip-address.ts';
import { ipv4Label, ipv6Label } from './special-ranges.ts';
import type { AddressLabel } from './types.ts';

function label(ip: string): AddressLabel | null {
  const p = parseIp(ip);
  if (!p) throw new Error(`not an IP: ${ip}`);
  return p.version === 4 ? ipv4Label(p.value) : ipv6Label(p.hextets);
}

test.for([
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'reserved'],
  ['10.0.0.1', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['127.0.0.1', 'loopback'],
  ['169.254.169.254', 'link_local'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.1', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.200', 'documentation'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['224.0.0.251', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'reserved'],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['::ffff:10.1.1.1', 'private'],
  ['2001:db8::1', 'documentation'],
  ['3fff:0fff::1', 'documentation'],
  ['2001:2::1', 'benchmarking'],
  ['2001:10::1', 'reserved'],
  ['fc00::1', 'unique_local'],
  ['fd12:3456::1', 'unique_local'],
  ['fe80::1', 'link_local'],
  ['fec0::1', 'reserved'],
  ['ff02::1', 'multicast'],
  ['100::1', 'reserved'],
  ['64:ff9b:1::1', 'reserved'],
] as const)('%s is labelled %s', ([ip, expected]) => {
  expect(label(ip)).toBe(expected);
});

test.for([
  '8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '169.253.1.1', '192.0.1.1',
  '192.0.3.1', '198.17.255.255', '198.20.0.0', '203.0.112.1', '223.255.255.255', '2001:4860:4860::8888',
  '2606:4700:4700::1111', '2001:41d0:8:f69::1', '2002:c000:201::1', '64:ff9b::8.8.8.8', '3fff:1000::1',
])('%s is an ordinary address', (ip) => {
  expect(label(ip)).toBeNull();
});
