/**
 * Hostile and broken databases (MaxMind's bad-data corpus and the broken test DBs): no
 * throw escapes, nothing hangs. A file that cannot be opened is an AlfError naming it; a
 * search that throws is an `error: true` answer counted as geo_error.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { isAlfError } from '@alf/parser';
import { openGeo } from './open-geo.ts';
import type { Geo } from './types.ts';

const DATA = join(import.meta.dirname, '../../../testdata/real/maxmind-db');
const BAD = join(DATA, 'bad-data');
const TEST_DBS = join(DATA, 'test-data');
const PROBES = ['1.1.1.1', '1.1.1.16', '81.2.69.160', '8.8.8.8', '2001:220::1', '2a02:cf40::1', '255.255.254.1', '175.16.199.1', 'host.example'];
const PER_TEST_MS = 5_000;
const closed = { env: {}, searchDirs: [], embedded: false } as const;

/** Opens `path` in both roles; returns the Geo or the rejection. */
async function tryOpen(path: string): Promise<{ geo: Geo | null; error: unknown }[]> {
  const out: { geo: Geo | null; error: unknown }[] = [];
  for (const opts of [{ asnDb: path }, { geoDb: path }]) {
    try {
      out.push({ geo: await openGeo({ ...closed, ...opts }), error: null });
    } catch (error) {
      out.push({ geo: null, error });
    }
  }
  return out;
}

describe('bad-data corpus', () => {
  const files = readdirSync(BAD).filter((f) => f.endsWith('.mmdb'));
  test('has the 21 files SOURCES.md lists', () => {
    expect(files).toHaveLength(21);
  });

  test.for(files)(
    '%s: opens with an AlfError or answers without throwing',
    { timeout: PER_TEST_MS },
    async (file) => {
      for (const { geo, error } of await tryOpen(join(BAD, file))) {
        if (error !== null) {
          expect(isAlfError(error)).toBe(true);
          const e = error as { code: string; message: string };
          expect(['ALF_GEO_DB_OPEN', 'ALF_GEO_DB_UNSUPPORTED']).toContain(e.code);
          expect(e.message).toContain(file);
          continue;
        }
        for (const ip of PROBES) expect(() => geo!.lookup(ip)).not.toThrow();
        for (const db of geo!.databases) expect(() => JSON.stringify(db)).not.toThrow();
        expect(() => geo!.ageWarning(Date.UTC(2020, 0, 1), Date.UTC(2020, 0, 2))).not.toThrow();
      }
    },
  );

  test('UINT64_MAX build_epoch opens with a null build date and a note, never a crash', async () => {
    // the file has only {"ip":"test"} records, so it is unsupported for lookups; the
    // metadata path is what matters: reading it must not throw a RangeError
    const err = await openGeo({ ...closed, asnDb: join(BAD, 'libmaxminddb__libmaxminddb-uint64-max-epoch.mmdb') }).catch((e: unknown) => e);
    expect(isAlfError(err) && err.code).toBe('ALF_GEO_DB_UNSUPPORTED');
  });
});

describe('broken test databases', () => {
  test('GeoIP2-City-Test-Invalid-Node-Count: searches throw, answers say error and the run goes on', async () => {
    const geo = await openGeo({ ...closed, geoDb: join(TEST_DBS, 'GeoIP2-City-Test-Invalid-Node-Count.mmdb') });
    const a = geo.lookup('81.2.69.160');
    expect(a).toMatchObject({ error: true, country: null, aggPrefix: '81.2.69.0/24', label: null });
    const b = geo.lookup('2001:220::1');
    expect(b.error).toBe(true);
    // the same address again: memoised, not searched (or counted) twice
    geo.lookup('81.2.69.160');
    expect(geo.stats.geoErrors).toBe(2);
    expect(geo.lookup('10.0.0.1')).toMatchObject({ error: false, label: 'private' });
  }, PER_TEST_MS);

  test('MaxMind-DB-test-broken-pointers-24 is refused (no ASN or country fields), not a crash', async () => {
    for (const r of await tryOpen(join(TEST_DBS, 'MaxMind-DB-test-broken-pointers-24.mmdb'))) {
      expect(isAlfError(r.error) && r.error.code).toBe('ALF_GEO_DB_UNSUPPORTED');
    }
  }, PER_TEST_MS);

  test('GeoIP2-City-Test-Broken-Double-Format still answers country and city', async () => {
    const geo = await openGeo({ ...closed, geoDb: join(TEST_DBS, 'GeoIP2-City-Test-Broken-Double-Format.mmdb') });
    expect(geo.lookup('81.2.69.160')).toMatchObject({ country: 'GB', city: 'London', error: false });
    expect(geo.databases[0]!.buildDate).toBe('2023-09-26T22:14:09.000Z');
  }, PER_TEST_MS);
});

describe('files that are not databases', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-geo-bad-'));

  test.for([
    ['empty.mmdb', Buffer.alloc(0), /empty \(0 bytes\)/],
    ['text.mmdb', Buffer.from('not a database\n'), /not a readable MaxMind DB/],
    ['GeoLite2-ASN.mmdb.gz', gzipSync(Buffer.from('x')), /gzip-compressed/],
  ] as const)('%s → ALF_GEO_DB_OPEN naming the file', { timeout: PER_TEST_MS }, async ([name, bytes, message]) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const err = await openGeo({ ...closed, asnDb: path }).catch((e: unknown) => e);
    expect(isAlfError(err) && err.code).toBe('ALF_GEO_DB_OPEN');
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(message);
  });

  test('a missing file and a directory → ALF_GEO_DB_OPEN', async () => {
    const missing = await openGeo({ ...closed, geoDb: join(dir, 'nope.mmdb') }).catch((e: unknown) => e);
    expect(isAlfError(missing) && missing.code).toBe('ALF_GEO_DB_OPEN');
    expect((missing as Error).message).toMatch(/nope\.mmdb: file not found/);
    const directory = await openGeo({ ...closed, geoDb: dir }).catch((e: unknown) => e);
    expect(isAlfError(directory) && directory.code).toBe('ALF_GEO_DB_OPEN');
    expect((directory as Error).message).toMatch(/directory/);
  });

  test('an empty --asn-db value is a usage error', async () => {
    const err = await openGeo({ ...closed, asnDb: '' }).catch((e: unknown) => e);
    expect(isAlfError(err) && err.code).toBe('ALF_USAGE');
  });
});
