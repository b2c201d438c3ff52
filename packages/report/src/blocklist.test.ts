import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ClientSet } from '@alf/core';
import type { Attacker, Burst, ClientSetSnapshot } from '@alf/core';
import {
  aggregateAddresses, blocklistFiles, blocklistIpset, blocklistNft, blocklistNginx, blocklistTxt, buildBlocklist, type Blocklist,
} from './blocklist.ts';

const T0 = Date.UTC(2021, 2, 29, 10, 0, 0);
const BURST: Burst = {
  burstId: 7, startMs: T0, endMs: T0 + 599_000, durationS: 600, requests: 1000, excessRequests: 900, peakRps: 10, baselineRps: 1,
  distinctIps: 10, attackers: 0, score: 50, scaleS: 60, verdict: 'attack', reasons: [], windowIndex: 0, attributedShare: 1,
};

function attacker(ip: string, burstId = BURST.burstId): Attacker {
  return {
    burstId, ip, requests: 10, excessRequests: 9, expectedRequests: 1, firstSeenMs: T0, lastSeenMs: T0 + 1000, isNew: true,
    prefix: null, asn: 64500, asOrg: 'Example', country: null, topPath: null, topUserAgent: null,
  };
}

const ipv4Text = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

function clientsOf(ips: readonly string[], opts?: { maxIpv4?: number }): ClientSetSnapshot {
  const s = new ClientSet(opts);
  for (const ip of ips) s.addText(ip);
  return s.snapshot();
}

/** Brute-force prefix arithmetic on IPv4 numbers. */
function parseCidr4(cidr: string): { lo: number; hi: number; bits: number } {
  const [addr, b] = cidr.split('/') as [string, string];
  const lo = addr.split('.').reduce((v, o) => v * 256 + Number(o), 0);
  const bits = Number(b);
  return { lo, hi: lo + 2 ** (32 - bits) - 1, bits };
}

function commonPrefix4(a: number, b: number): { lo: number; hi: number; bits: number } {
  let bits = 32;
  while (bits > 0 && Math.floor(a / 2 ** (32 - bits)) !== Math.floor(b / 2 ** (32 - bits))) bits--;
  const size = 2 ** (32 - bits);
  const lo = Math.floor(a / size) * size;
  return { lo, hi: lo + size - 1, bits };
}

/** Addresses in a few /24s and /16s, so aggregation has something to merge and normal clients interleave. */
const BASES = [0x0a000000, 0x0a000100, 0x0a010000, 0xc0a80500, 0xcb007100];
const address = fc.tuple(fc.constantFrom(...BASES), fc.integer({ min: 0, max: 255 })).map(([b, o]) => b + o);

describe('blocklist aggregation (property)', () => {
  test('covers every attacker, no normal client, each prefix >= floor, and no two prefixes could merge cleanly', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(address, { maxLength: 120 }),
        fc.uniqueArray(address, { maxLength: 120 }),
        fc.integer({ min: 8, max: 32 }),
        fc.boolean(),
        (attackerValues, normalValues, floor, attackersInClientSet) => {
          const attackerSet = new Set(attackerValues);
          const normal = normalValues.filter((v) => !attackerSet.has(v));
          const clientIps = [...normal, ...(attackersInClientSet ? attackerValues : [])].map(ipv4Text);
          // Attackers of another burst are normal clients for this one.
          const others = normal.slice(0, 3).map((v) => attacker(ipv4Text(v), 99));
          const bl = buildBlocklist(BURST, [...attackerValues.map((v) => attacker(ipv4Text(v))), ...others], clientsOf(clientIps), { ipv4FloorBits: floor });
          const prefixes = bl.prefixes.map((p) => parseCidr4(p.cidr));
          expect(bl.normalCovered).toBe(0);
          expect(bl.ipv4Attackers).toBe(attackerValues.length);
          for (const a of attackerValues) expect(prefixes.filter((p) => p.lo <= a && a <= p.hi)).toHaveLength(1);
          for (const n of normal) expect(prefixes.some((p) => p.lo <= n && n <= p.hi)).toBe(false);
          for (const p of prefixes) {
            expect(p.bits === 32 || p.bits >= floor).toBe(true);
            // Narrowest: the prefix is the common prefix of the attackers inside it.
            const inside = attackerValues.filter((a) => p.lo <= a && a <= p.hi);
            expect(commonPrefix4(Math.min(...inside), Math.max(...inside))).toEqual(p);
          }
          // Minimal: the smallest prefix holding any two outputs is below the floor or holds a normal client.
          for (let i = 0; i < prefixes.length; i++) {
            for (let j = i + 1; j < prefixes.length; j++) {
              const c = commonPrefix4(prefixes[i]!.lo, prefixes[j]!.lo);
              const clean = c.bits >= floor && !normal.some((n) => c.lo <= n && n <= c.hi);
              expect(clean, `${bl.prefixes[i]!.cidr} + ${bl.prefixes[j]!.cidr} fit in a clean /${c.bits}`).toBe(false);
            }
          }
          // Sorted ascending, disjoint.
          for (let i = 1; i < prefixes.length; i++) expect(prefixes[i]!.lo).toBeGreaterThan(prefixes[i - 1]!.hi);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('the normal-covered count is computed, not assumed: a non-clean prefix counts its normal clients', () => {
    const sorted = [10n, 11n];
    const normals = [12n];
    const normalIn = (lo: bigint, hi: bigint): number => normals.filter((n) => lo <= n && n <= hi).length;
    expect(aggregateAddresses(sorted, 32, 16, normalIn)).toEqual([{ base: 10n, bits: 31, count: 2 }]);
    expect(aggregateAddresses([8n, 15n], 32, 16, normalIn)).toEqual([{ base: 8n, bits: 32, count: 1 }, { base: 15n, bits: 32, count: 1 }]);
  });
});

describe('buildBlocklist', () => {
  test('merges a clean run into one prefix and splits around a normal client', () => {
    const attackers = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.200', '198.51.100.9'].map((ip) => attacker(ip));
    const clean = buildBlocklist(BURST, attackers, clientsOf(['192.0.3.1']));
    expect(clean.prefixes.map((p) => p.cidr)).toEqual(['192.0.2.0/24', '198.51.100.9/32']);
    const split = buildBlocklist(BURST, attackers, clientsOf(['192.0.2.100']));
    expect(split.prefixes.map((p) => p.cidr)).toEqual(['192.0.2.0/30', '192.0.2.200/32', '198.51.100.9/32']);
    expect(split.normalCovered).toBe(0);
    expect(split.normalClients).toBe(1);
  });

  test('never goes shorter than the floor, even with no normal client anywhere', () => {
    const attackers = ['10.0.0.1', '10.255.0.1'].map((ip) => attacker(ip));
    expect(buildBlocklist(BURST, attackers, clientsOf([])).prefixes.map((p) => p.cidr)).toEqual(['10.0.0.1/32', '10.255.0.1/32']);
    expect(buildBlocklist(BURST, attackers, clientsOf([]), { ipv4FloorBits: 8 }).prefixes.map((p) => p.cidr)).toEqual(['10.0.0.0/8']);
    // One lone attacker stays a /32 (narrowest), not its empty /16.
    expect(buildBlocklist(BURST, [attacker('10.0.0.1')], clientsOf([])).prefixes.map((p) => p.cidr)).toEqual(['10.0.0.1/32']);
  });

  test('IPv6: aggregates, respects normal clients and the /32 floor, prints RFC 5952', () => {
    const attackers = ['2001:db8:1::1', '2001:db8:1::2', '2001:db8:1::3', '2001:DB8:1:0:0:0:0:ff00', '2a00:1450::5', '192.0.2.1'].map((ip) => attacker(ip));
    const bl = buildBlocklist(BURST, attackers, clientsOf(['2001:db8:1::100', '192.0.2.9']));
    expect(bl.prefixes.map((p) => p.cidr)).toEqual(['192.0.2.1/32', '2001:db8:1::/126', '2001:db8:1::ff00/128', '2a00:1450::5/128']);
    expect(bl.ipv6Attackers).toBe(5);
    expect(bl.normalCovered).toBe(0);
    const noNormals = buildBlocklist(BURST, attackers, clientsOf([]));
    expect(noNormals.prefixes.filter((p) => p.version === 6).map((p) => p.cidr)).toEqual(['2001:db8:1::/112', '2a00:1450::5/128']);
    const wide = buildBlocklist(BURST, [attacker('2001:db8::1'), attacker('2001:db9::1')], clientsOf([]));
    expect(wide.prefixes.map((p) => p.cidr)).toEqual(['2001:db8::1/128', '2001:db9::1/128']); // their /31 is past the /32 floor
    expect(bl.prefixOfIp.get('2001:DB8:1:0:0:0:0:ff00')).toBe('2001:db8:1::ff00/128');
  });

  test('IPv6 property: every attacker covered, no normal client covered', () => {
    const v6 = fc.tuple(fc.constantFrom('2001:db8:0:0', '2001:db8:0:1', '2001:db8:5:0'), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 3 }))
      .map(([p, x, y]) => `${p}:0:0:${y.toString(16)}:${x.toString(16)}`);
    const value = (ip: string): bigint => {
      const parts = ip.split(':');
      return parts.reduce((v, h) => (v << 16n) | BigInt(parseInt(h, 16)), 0n);
    };
    fc.assert(
      fc.property(fc.uniqueArray(v6, { maxLength: 60 }), fc.uniqueArray(v6, { maxLength: 60 }), (att, nor) => {
        const normal = nor.filter((n) => !att.includes(n));
        const bl = buildBlocklist(BURST, att.map((ip) => attacker(ip)), clientsOf([...normal, ...att]));
        const ranges = bl.prefixes.map((p) => ({ lo: p.base, hi: p.base + (1n << BigInt(128 - p.bits)) - 1n, bits: p.bits }));
        for (const a of att) expect(ranges.filter((r) => r.lo <= value(a) && value(a) <= r.hi)).toHaveLength(1);
        for (const n of normal) expect(ranges.some((r) => r.lo <= value(n) && value(n) <= r.hi)).toBe(false);
        for (const r of ranges) expect(r.bits).toBeGreaterThanOrEqual(32);
        expect(bl.normalCovered).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  test('an empty burst gives headers and empty sets that still load', () => {
    const bl = buildBlocklist(BURST, [attacker('192.0.2.1', 1)], clientsOf(['192.0.2.1']));
    expect(bl.prefixes).toEqual([]);
    expect(bl.normalClients).toBe(1); // another burst's attacker is a normal client here
    expect(blocklistTxt(bl)).toMatch(/^# alf blocklist \(plain CIDR list\): burst 7\n/);
    expect(blocklistTxt(bl).split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([]);
    expect(blocklistNft(bl)).not.toContain('elements');
    expect(blocklistNginx(bl)).not.toContain('deny');
    expect(blocklistIpset(bl)).not.toMatch(/^add /m);
  });

  test('host-name attackers are counted in the header, not listed', () => {
    const bl = buildBlocklist(BURST, [attacker('evil.example'), attacker('192.0.2.1')], clientsOf([]));
    expect(bl.hostNameAttackers).toBe(1);
    expect(blocklistTxt(bl)).toContain('# not listed: 1 attacker logged as a host name, not an address');
  });

  test('an incomplete client set is said in every file header', () => {
    const clients = clientsOf(['10.0.0.1', '10.0.0.2', '10.0.0.3'], { maxIpv4: 2 });
    const bl = buildBlocklist(BURST, [attacker('192.0.2.1')], clients);
    expect(bl.normalCheckComplete).toBe(false);
    for (const [, content] of blocklistFiles(bl)) expect(content).toMatch(/^# normal-client check incomplete: client cap reached/m);
  });
});

describe('blocklist files', () => {
  const bl: Blocklist = buildBlocklist(
    BURST, ['192.0.2.2', '192.0.2.3', '2001:db8::1'].map((ip) => attacker(ip)), clientsOf(['192.0.2.1', '203.0.113.1']),
  );

  test('plain text: header then one CIDR per line', () => {
    expect(blocklistTxt(bl)).toBe([
      '# alf blocklist (plain CIDR list): burst 7',
      '# window: 2021-03-29T10:00:00Z to 2021-03-29T10:09:59Z (UTC)',
      '# attacker addresses: 3 (IPv4 2, IPv6 1)',
      '# prefixes: 2 (IPv4 1, IPv6 1); never shorter than /16 (IPv4), /32 (IPv6)',
      '# normal clients covered: 0 (of 2 normal clients seen in the inputs)',
      '# normal-client check: complete (every distinct client address of the inputs)',
      '192.0.2.2/31',
      '2001:db8::1/128',
      '',
    ].join('\n'));
  });

  test('nginx, nftables and ipset snippets', () => {
    expect(blocklistNginx(bl).split('\n').filter((l) => !l.startsWith('#'))).toEqual(['deny 192.0.2.2/31;', 'deny 2001:db8::1/128;', '']);
    const nft = blocklistNft(bl).split('\n').filter((l) => !l.startsWith('#')).join('\n');
    expect(nft).toBe([
      'table inet alf {',
      '  set burst_7_v4 {', '    type ipv4_addr;', '    flags interval;', '    elements = {', '      192.0.2.2/31', '    }', '  }',
      '  set burst_7_v6 {', '    type ipv6_addr;', '    flags interval;', '    elements = {', '      2001:db8::1/128', '    }', '  }',
      '}', '',
    ].join('\n'));
    expect(blocklistIpset(bl).split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      'create alf-burst-7-v4 hash:net family inet -exist',
      'add alf-burst-7-v4 192.0.2.2/31 -exist',
      'create alf-burst-7-v6 hash:net family inet6 -exist',
      'add alf-burst-7-v6 2001:db8::1/128 -exist',
      '',
    ]);
    expect(blocklistFiles(bl).map(([n]) => n)).toEqual([
      'blocklists/burst-7.txt', 'blocklists/burst-7.nginx.conf', 'blocklists/burst-7.nft', 'blocklists/burst-7.ipset',
    ]);
  });
});
