import { describe, expect, test } from 'vitest';
import {
  aggregationPrefix, classifyIp, formatIpv6, ipv4Cidr, ipv6Cidr, parseIp, parseIpv4Number,
} from './ip-address.ts';

describe('parseIpv4Number', () => {
  test.for([
    ['0.0.0.0', 0],
    ['1.2.3.4', 0x01020304],
    ['255.255.255.255', 0xffffffff],
    ['203.0.113.7', 0xcb007107],
  ] as const)('parses %s', ([text, value]) => {
    expect(parseIpv4Number(text)).toBe(value);
  });

  test.for(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.04', '1..2.3', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.a', '1.2.3.', '.1.2.3', '999999999999999'])(
    'rejects %j',
    (text) => {
      expect(parseIpv4Number(text)).toBe(-1);
    },
  );
});

describe('parseIp', () => {
  test('IPv6 forms, brackets, zones and the dotted tail', () => {
    const v6 = (t: string): string | null => {
      const p = parseIp(t);
      return p?.version === 6 ? formatIpv6(p.hextets) : p ? `v4:${p.value}` : null;
    };
    expect(v6('2001:db8::1')).toBe('2001:db8::1');
    expect(v6('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(v6('::')).toBe('::');
    expect(v6('::1')).toBe('::1');
    expect(v6('1::')).toBe('1::');
    expect(v6('[2001:db8::2]')).toBe('2001:db8::2');
    expect(v6('fe80::1%eth0')).toBe('fe80::1');
    expect(v6('64:ff9b::192.0.2.33')).toBe('64:ff9b::c000:221');
    expect(v6('1:2:3:4:5:6:7::')).toBe('1:2:3:4:5:6:7:0');
    // IPv4-mapped comes back as IPv4
    expect(v6('::ffff:8.8.4.4')).toBe(`v4:${0x08080404}`);
    expect(v6('::FFFF:0808:0404')).toBe(`v4:${0x08080404}`);
  });

  test.for([
    'piweba4y.prodigy.com', '-', 'unix:', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '2001:db8::1%',
    '::ffff:1.2.3', '1:2:3:4:5:6:7', '2001:db8:::1', '[::1', 'localhost, localhost', '1.2.3.4:80', 'x'.repeat(100),
  ])('%j is not an address', (text) => {
    expect(parseIp(text)).toBeNull();
    expect(classifyIp(text, new Uint16Array(8))).toBe(-1);
  });
});

describe('RFC 5952 text', () => {
  test.for([
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'],
    [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'],
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1'],
    [[0, 1, 2, 0, 0, 0, 0, 0], '0:1:2::'],
    [[0xfe80, 0, 0, 0, 0, 0, 0, 0xabcd], 'fe80::abcd'],
  ] as const)('%j → %s', ([h, text]) => {
    expect(formatIpv6(h)).toBe(text);
  });
});

describe('aggregationPrefix', () => {
  test.for([
    ['203.0.113.7', '203.0.113.0/24'],
    ['8.8.8.8', '8.8.8.0/24'],
    ['2001:db8:1:2::5', '2001:db8:1::/48'],
    ['2001:db8::5', '2001:db8::/48'],
    ['2001:41d0:8:f69::1', '2001:41d0:8::/48'],
    ['::ffff:198.51.100.9', '198.51.100.0/24'],
    ['[2a03:0000:10ff:f00f:0000:0000:0:8000]', '2a03:0:10ff::/48'],
    ['monitoring-server', null],
    ['', null],
  ] as const)('%j → %j', ([ip, prefix]) => {
    expect(aggregationPrefix(ip)).toBe(prefix);
  });

  test('CIDR helpers mask host bits', () => {
    expect(ipv4Cidr(0x01020304, 16)).toBe('1.2.0.0/16');
    expect(ipv4Cidr(0x01020304, 0)).toBe('0.0.0.0/0');
    expect(ipv4Cidr(0xffffffff, 32)).toBe('255.255.255.255/32');
    expect(ipv6Cidr([0x2001, 0xdb8, 0xffff, 0xffff, 0, 0, 0, 1], 35)).toBe('2001:db8:e000::/35');
  });
});
