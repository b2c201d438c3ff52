import { describe, expect, test } from 'vitest';
import { canonicalIp } from './ip-address.ts';
import { IP_KIND_HOSTNAME, IP_KIND_V4, IP_KIND_V6 } from './types.ts';

describe('canonicalIp', () => {
  test.for([
    ['192.0.2.1', '192.0.2.1', IP_KIND_V4],
    ['0.0.0.0', '0.0.0.0', IP_KIND_V4],
    ['255.255.255.255', '255.255.255.255', IP_KIND_V4],
    ['::ffff:192.0.2.5', '192.0.2.5', IP_KIND_V4],
    ['::FFFF:c000:0205', '192.0.2.5', IP_KIND_V4],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1', IP_KIND_V6],
    ['2a03:0000:10ff:f00f:0000:0000:0:8000', '2a03:0:10ff:f00f::8000', IP_KIND_V6],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', IP_KIND_V6],
    ['2001:41d0:8:f69::1', '2001:41d0:8:f69::1', IP_KIND_V6],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', IP_KIND_V6],
    ['fe80::1%eth0', 'fe80::1', IP_KIND_V6],
    ['[2001:db8::7]', '2001:db8::7', IP_KIND_V6],
    ['::1', '::1', IP_KIND_V6],
    ['::', '::', IP_KIND_V6],
    ['piweba4y.prodigy.com', 'piweba4y.prodigy.com', IP_KIND_HOSTNAME],
    ['WWW-Relay.PA-X.dec.com', 'www-relay.pa-x.dec.com', IP_KIND_HOSTNAME],
    ['monitoring-server', 'monitoring-server', IP_KIND_HOSTNAME],
    ['localhost.', 'localhost', IP_KIND_HOSTNAME],
  ] as const)('%s → %s', ([raw, value, kind]) => {
    expect(canonicalIp(raw)).toEqual({ value, kind });
  });

  test.for([
    '010.8.8.8', '127.1', '0x7f.1', '0x7f.0.0.1', '1.2.3.4:8080', '256.1.1.1', '1.2.3', '1.2.3.4.5', '1..2.3',
    '[::1]:80', 'unix:', '2001:db8::1::2', '1:2:3:4:5:6:7:8:9', '12345::', '-', '', 'a b', 'host-.example',
    '-host.example', 'fe80::1%', '::ffff:1.2.3', '1.2.3.04',
  ])('%j is refused', (raw) => {
    expect(canonicalIp(raw)).toBeNull();
  });
});
