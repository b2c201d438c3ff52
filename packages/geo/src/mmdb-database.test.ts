import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Reader, type Response } from 'maxmind';
import { formatIpv4, formatIpv6 } from './ip-address.ts';
import { openMmdb } from './mmdb-database.ts';
import { compileExtractor } from './record-fields.ts';

const TEST_DBS = join(import.meta.dirname, '../../../testdata/real/maxmind-db/test-data');

/** xorshift32 */
function prng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

test.for(['GeoLite2-ASN-Test', 'GeoIP2-City-Test', 'GeoIP2-Enterprise-Test', 'GeoIP2-ISP-Test', 'MaxMind-DB-test-ipv4-24', 'MaxMind-DB-test-mixed-28'])(
  '%s: the direct tree walk answers exactly like maxmind getWithPrefixLength',
  async (name) => {
    const path = join(TEST_DBS, `${name}.mmdb`);
    const db = await openMmdb(path);
    const reader = new Reader<Response>(readFileSync(path));
    const extract = compileExtractor(db.layout);
    const next = prng(0x2545f491);
    const h = new Uint16Array(8);
    expect(db.search).toBe('direct');
    const mismatches: string[] = [];
    const same = (ip: string, a: { prefixLength: number; fields: unknown }, len: number, rec: unknown): void => {
      const want = JSON.stringify([len, rec === null ? null : extract(rec)]);
      if (JSON.stringify([a.prefixLength, a.fields]) !== want) mismatches.push(ip);
    };
    for (let i = 0; i < 5_000; i++) {
      // IPv4: random, and inside the 1.x–2.x and 81.x–89.x areas the test data covers
      const v = i % 2 === 0 ? next() : ((i % 4 === 1 ? 0x01000000 : 0x51000000) + (next() & 0x01ffffff)) >>> 0;
      const [rec, len] = reader.getWithPrefixLength(formatIpv4(v));
      same(formatIpv4(v), db.source.findV4(v, formatIpv4(v)), len, rec);
      if (db.ipVersion === 6) {
        h[0] = 0x2000 + (next() & 0x0fff); // 2000::/4 area, where test data sits
        for (let k = 1; k < 8; k++) h[k] = next() & 0xffff;
        const [rec6, len6] = reader.getWithPrefixLength(formatIpv6(h));
        same(formatIpv6(h), db.source.findV6(h), len6, rec6);
      }
    }
    expect(mismatches).toEqual([]);
  },
);

test('a UINT64_MAX build_epoch gives a null build date and a note, not a RangeError', async () => {
  const db = await openMmdb(join(TEST_DBS, '../bad-data/libmaxminddb__libmaxminddb-uint64-max-epoch.mmdb'));
  expect(db.buildDate).toBeNull();
  expect(db.notes.join(' ')).toMatch(/build_epoch .* not a valid date/);
  expect(db.sha256).toMatch(/^[0-9a-f]{64}$/);
});
