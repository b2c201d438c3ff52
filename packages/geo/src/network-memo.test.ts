import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatIpv4, formatIpv6, parseIp } from './ip-address.ts';
import { MemoisedSource, type NetworkSource, type RawHit } from './network-memo.ts';
import { openGeo } from './open-geo.ts';
import { EMPTY_FIELDS } from './record-fields.ts';

const TEST_DBS = join(import.meta.dirname, '../../../testdata/real/maxmind-db/test-data');
const closed = { env: {}, searchDirs: [], embedded: false } as const;

/** A fake database of fixed networks (CIDR → asn) that counts its searches. */
function fakeSource(networks: Record<string, number>, fallbackLength: number): NetworkSource & { searches: number } {
  const parsed = Object.entries(networks).map(([cidr, asn]) => {
    const [ip, len] = cidr.split('/') as [string, string];
    return { p: parseIp(ip)!, len: Number(len), asn };
  });
  const inside = (addr: Uint16Array | number, p: (typeof parsed)[number]): boolean => {
    if (typeof addr === 'number') {
      if (p.p.version !== 4) return false;
      const size = 2 ** (32 - p.len);
      return Math.floor(addr / size) === Math.floor(p.p.value / size);
    }
    if (p.p.version !== 6) return false;
    for (let bit = 0; bit < p.len; bit++) {
      const i = bit >> 4;
      const mask = 0x8000 >> (bit & 15);
      if ((addr[i]! & mask) !== (p.p.hextets[i]! & mask)) return false;
    }
    return true;
  };
  const src = {
    searches: 0,
    find(addr: Uint16Array | number): RawHit {
      src.searches++;
      const n = parsed.find((p) => inside(addr, p));
      return n ? { fields: { ...EMPTY_FIELDS, asn: n.asn }, prefixLength: n.len } : { fields: null, prefixLength: fallbackLength };
    },
    findV4: (v: number) => src.find(v),
    findV6: (h: Uint16Array) => src.find(h),
  };
  return src;
}

function v4(ip: string): number {
  const p = parseIp(ip);
  if (p?.version !== 4) throw new Error(ip);
  return p.value;
}
function v6(ip: string): Uint16Array {
  const p = parseIp(ip);
  if (p?.version !== 6) throw new Error(ip);
  return p.hextets;
}

describe('MemoisedSource', () => {
  const NETS = {
    '10.0.0.0/8': 1, '11.128.0.0/17': 2, '12.1.2.0/24': 3, '12.1.3.16/28': 4, '12.1.3.200/32': 5,
    '2001:db8::/32': 6, '2001:db9:1::/48': 7, '2001:dba:0:1::/64': 8, '2001:dbb::1/128': 9,
    '2400::/12': 10, '2a00::/20': 11, '2c0f:f000::/20': 12,
  };

  test('answers every address of a known network without another search, whatever the length', () => {
    const src = fakeSource(NETS, 4);
    const memo = new MemoisedSource(src, 1000);
    const cases: [string, number, string][] = [
      ['10.1.2.3', 1, '10.0.0.0/8'], ['10.255.0.1', 1, '10.0.0.0/8'],
      ['11.128.127.255', 2, '11.128.0.0/17'], ['11.128.0.1', 2, '11.128.0.0/17'],
      ['12.1.2.99', 3, '12.1.2.0/24'], ['12.1.2.0', 3, '12.1.2.0/24'],
      ['12.1.3.31', 4, '12.1.3.16/28'], ['12.1.3.17', 4, '12.1.3.16/28'],
      ['12.1.3.200', 5, '12.1.3.200/32'],
    ];
    for (const [ip, asn, network] of cases) {
      const hit = memo.lookupV4(v4(ip), ip);
      expect([hit?.fields?.asn, hit?.network]).toEqual([asn, network]);
    }
    expect(memo.walks).toBe(5);
    expect(memo.networkHits).toBe(4);
    // addresses next to the networks are not mistaken for them
    expect(memo.lookupV4(v4('12.1.3.32'), '12.1.3.32')?.fields).toBeNull();
    expect(memo.lookupV4(v4('12.1.3.201'), '12.1.3.201')?.fields).toBeNull();
    expect(memo.lookupV4(v4('11.128.128.0'), '11.128.128.0')?.fields).toBeNull();
  });

  test('IPv6 networks of /32, /48, /64 and /128 are memoised too', () => {
    const src = fakeSource(NETS, 16);
    const memo = new MemoisedSource(src, 1000);
    for (const [ip, asn] of [
      ['2001:db8::1', 6], ['2001:db8:ffff::1', 6], ['2001:db9:1:2::3', 7], ['2001:db9:1:ffff::', 7],
      ['2001:dba:0:1::5', 8], ['2001:dba:0:1:ffff::', 8], ['2001:dbb::1', 9], ['2001:dbb::1', 9],
      ['2400::1', 10], ['240f:ffff::1', 10], ['2a00:fff::1', 11], ['2a00:1::', 11], ['2c0f:ffff::1', 12], ['2c0f:f000::', 12],
    ] as const) {
      expect(memo.lookupV6(v6(ip))?.fields?.asn).toBe(asn);
    }
    expect(memo.walks).toBe(7);
    expect(memo.lookupV6(v6('2410::1'))?.fields).toBeNull();
    expect(memo.lookupV6(v6('2a00:1000::1'))?.fields).toBeNull();
    // next to the /128 and the /64: not mistaken for them
    expect(memo.lookupV6(v6('2001:dba:0:2::'))?.fields).toBeNull();
    expect(memo.lookupV6(v6('2001:dbb::2'))?.fields).toBeNull();
  });

  test('a full memo drops its networks and keeps answering correctly', () => {
    const src = fakeSource({}, 32);
    const memo = new MemoisedSource(src, 10);
    for (let i = 0; i < 100; i++) memo.lookupV4(0x0b000000 + i * 7, formatIpv4(0x0b000000 + i * 7));
    expect(memo.evictions).toBeGreaterThan(0);
    const again = memo.lookupV4(0x0b000000, '11.0.0.0');
    expect(again?.network).toBe('11.0.0.0/32');
  });

  test('a database whose first 1000 searches all throw is not searched again; answers stay errors', () => {
    let calls = 0;
    const boom: NetworkSource = {
      findV4: () => {
        calls++;
        throw new Error('broken record');
      },
      findV6: () => {
        calls++;
        throw new Error('broken record');
      },
    };
    const memo = new MemoisedSource(boom, 100);
    for (let i = 0; i < 1500; i++) expect(memo.lookupV4(0x01000000 + i, formatIpv4(0x01000000 + i))).toBeNull();
    expect(calls).toBe(1000);
    expect(memo.errors).toBe(1500);
    expect(memo.lookupV6(v6('2001:db8::1'))).toBeNull();
  });
});

describe('openGeo memoisation', () => {
  test('65,536 distinct addresses from one /16 cost one search per database', async () => {
    const geo = await openGeo({
      ...closed,
      asnDb: join(TEST_DBS, 'GeoLite2-ASN-Test.mmdb'),
      geoDb: join(TEST_DBS, 'GeoLite2-Country-Test.mmdb'),
    });
    for (let i = 0; i < 65_536; i++) {
      const a = geo.lookup(`1.130.${i >>> 8}.${i & 255}`);
      if (a.asn !== 1221) throw new Error(`1.130.${i >>> 8}.${i & 255}: ${a.asn}`);
    }
    const s = geo.stats;
    expect(s.lookups).toBe(65_536);
    expect(s.treeWalks).toBe(2); // 1.128.0.0/11 in the ASN DB, one empty network in the country DB
    expect(s.networkHits).toBe(2 * 65_536 - 2);
    expect(s.cacheHits).toBe(0);
  });

  test('a repeated address is answered from the per-address memo', async () => {
    const geo = await openGeo({ ...closed, asnDb: join(TEST_DBS, 'GeoLite2-ASN-Test.mmdb') });
    const first = geo.lookup('38.10.180.30');
    for (let i = 0; i < 10; i++) expect(geo.lookup('38.10.180.30')).toBe(first);
    expect(geo.stats).toMatchObject({ lookups: 11, cacheHits: 10, treeWalks: 1 });
  });

  test('the per-address memo is bounded; answers stay right when slots are reused', async () => {
    const geo = await openGeo({ ...closed, asnDb: join(TEST_DBS, 'GeoLite2-ASN-Test.mmdb'), memoCapacity: 100 });
    for (let i = 0; i < 1000; i++) geo.lookup(`1.128.${i >>> 8}.${i & 255}`);
    expect(geo.stats.memoEvictions).toBeGreaterThan(0); // 1000 addresses, 1024 slots: collisions
    expect(geo.lookup('1.128.0.5').asn).toBe(1221);
    expect(geo.stats.treeWalks).toBe(1);
  });

  test('labelled ranges and host names are never searched', async () => {
    const geo = await openGeo({ ...closed, asnDb: join(TEST_DBS, 'GeoLite2-ASN-Test.mmdb') });
    for (const ip of ['10.0.0.1', '192.168.1.1', '127.0.0.1', 'fe80::1', '::1', '2001:db8::1', 'piweba4y.prodigy.com', '-']) geo.lookup(ip);
    expect(geo.stats).toMatchObject({ treeWalks: 0, labelled: 6, hostnames: 2 });
    expect(geo.lookup('piweba4y.prodigy.com')).toEqual({
      asn: null, asOrg: null, country: null, continent: null, city: null, network: null, aggPrefix: null, label: null,
      error: false, asDomain: null, geoNetwork: null,
    });
  });

  test('lookups after close() throw; close is idempotent', async () => {
    const geo = await openGeo({ ...closed, asnDb: join(TEST_DBS, 'GeoLite2-ASN-Test.mmdb') });
    geo.close();
    geo.close();
    expect(() => geo.lookup('1.128.0.1')).toThrow(/after close/);
  });
});

describe('MemoisedSource against the database it memoises', () => {
  test.for(['GeoLite2-ASN-Test', 'GeoIP2-City-Test', 'GeoIP2-ISP-Test'])(
    '%s: memoised answers equal fresh searches for clustered IPv4 and IPv6 addresses',
    async (name) => {
      const { openMmdb } = await import('./mmdb-database.ts');
      const db = await openMmdb(join(TEST_DBS, `${name}.mmdb`));
      const memo = new MemoisedSource(db.source, 50); // small: bucket resets happen too
      let x = 0x1234567;
      const next = (): number => {
        x ^= x << 13;
        x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5;
        return (x >>>= 0);
      };
      const bad: string[] = [];
      const h = new Uint16Array(8);
      for (let i = 0; i < 4000; i++) {
        const v = ((i % 3 === 0 ? 0x01800000 : i % 3 === 1 ? 0x51020000 : 0x0c000000) + (next() & 0x00ffffff)) >>> 0;
        const got = memo.lookupV4(v, formatIpv4(v));
        const raw = db.source.findV4(v, formatIpv4(v));
        if (JSON.stringify(got?.fields) !== JSON.stringify(raw.fields) || got?.network !== ipv4CidrOf(v, raw.prefixLength)) bad.push(formatIpv4(v));
        h[0] = [0x2001, 0x2a02, 0x2600, 0x2c0f][i & 3]!;
        h[1] = i % 5 === 0 ? next() & 0xffff : 0x0200 + (next() & 0x3f);
        for (let k = 2; k < 8; k++) h[k] = i % 7 === 0 ? next() & 0xffff : 0;
        const got6 = memo.lookupV6(h);
        const raw6 = db.source.findV6(h);
        if (JSON.stringify(got6?.fields) !== JSON.stringify(raw6.fields)) bad.push(formatIpv6(h));
      }
      expect(bad).toEqual([]);
      expect(memo.networkHits).toBeGreaterThan(1000);
    },
  );
});

function ipv4CidrOf(v: number, len: number): string {
  const size = 2 ** (32 - len);
  return `${formatIpv4(Math.floor(v / size) * size)}/${len}`;
}
