/**
 * The embedded default: real registry data, no flags, no network. The ASN table is built
 * from the package CSV once and cached; later opens load the cache.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ASN_PACKAGE, asnCacheFileName, loadEmbeddedAsn, packageInfo, versionDate } from './embedded-data.ts';
import { openGeo } from './open-geo.ts';
import type { Geo } from './types.ts';

/** Shared with other test files and runs: the table is built once per machine (the rebuild tests use their own dirs). */
const cacheDir = join(tmpdir(), 'alf-geo-test-xdg', 'alf');
let geo: Geo;

beforeAll(async () => {
  geo = await openGeo({ env: {}, searchDirs: [], cacheDir });
});
afterAll(() => geo.close());

describe('embedded default', () => {
  test.for([
    ['8.8.8.8', 15169, /Google/],
    ['8.8.4.4', 15169, /Google/],
    ['1.1.1.1', 13335, /Cloudflare/],
    ['1.0.0.1', 13335, /Cloudflare/],
    ['2001:4860:4860::8888', 15169, /Google/],
    ['2606:4700:4700::1111', 13335, /Cloudflare/],
  ] as const)('%s → AS%i and a country', ([ip, asn, org]) => {
    const a = geo.lookup(ip);
    expect(a.asn).toBe(asn);
    expect(a.asOrg).toMatch(org);
    expect(a.country).toMatch(/^[A-Z]{2}$/);
    expect(a.network).toMatch(/\/\d+$/);
    expect(a.error).toBe(false);
  });

  test('8.8.8.8 is in the United States', () => {
    expect(geo.lookup('8.8.8.8').country).toBe('US');
  });

  test('reports provenance and the CC BY 4.0 attribution of both data sets', () => {
    const [asn, country] = geo.databases;
    expect(asn).toMatchObject({ role: 'asn', source: 'embedded', buildDate: '2026-06-17T19:00:00.000Z' });
    expect(asn!.attribution).toMatch(/RouteViews/);
    expect(asn!.attribution).toMatch(/DB-IP/);
    expect(asn!.attribution).toMatch(/Creative Commons Attribution 4\.0/);
    expect(asn!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(asn!.builtFrom?.map((f) => f.path)).toEqual([
      expect.stringMatching(/asn-ipv4-num\.csv$/),
      expect.stringMatching(/asn-ipv6-num\.csv$/),
    ]);
    expect(asn!.builtFrom?.every((f) => /^[0-9a-f]{64}$/.test(f.sha256) && f.sizeBytes > 1_000_000)).toBe(true);
    expect(country).toMatchObject({ role: 'geo', source: 'embedded', answers: ['country'] });
    expect(country!.attribution).toMatch(/NRO/);
    expect(country!.buildDate).toMatch(/^2026-06-17T/);
    expect(country!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(asn!.notes?.join(' ')).toMatch(/known errors/);
  });

  test('the ASN table is cached: the next load reads it instead of the CSV', () => {
    const name = asnCacheFileName(packageInfo(ASN_PACKAGE));
    expect(existsSync(join(cacheDir, name))).toBe(true);
    const again = loadEmbeddedAsn(cacheDir);
    expect(again.built).toBe(false);
    expect(again.path).toBe(join(cacheDir, name));
    expect(again.sha256).toBe(geo.databases[0]!.sha256);
  });

  test('a corrupt cache file is rebuilt', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alf-geo-corrupt-'));
    const name = asnCacheFileName(packageInfo(ASN_PACKAGE));
    writeFileSync(join(dir, name), readFileSync(join(cacheDir, name)).subarray(0, 1000));
    const e = loadEmbeddedAsn(dir);
    expect(e.built).toBe(true);
    expect(readFileSync(join(dir, name)).length).toBe(e.sizeBytes);
  });

  test('an unwritable cache directory falls back to the temp directory, then to memory, with a note', () => {
    const blocker = join(mkdtempSync(join(tmpdir(), 'alf-geo-ro-')), 'a-file');
    writeFileSync(blocker, 'not a directory');
    const savedTmp = process.env['TMPDIR'];
    process.env['TMPDIR'] = join(blocker, 'tmp'); // os.tmpdir() follows TMPDIR: also unwritable
    try {
      const e = loadEmbeddedAsn(join(blocker, 'cache'));
      expect(e.path).toBe('(memory)');
      expect(e.notes.join(' ')).toMatch(/not writable.*built in memory/);
      expect(e.table.header.v4Count).toBeGreaterThan(100_000);
    } finally {
      if (savedTmp === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = savedTmp;
    }
  });

  test('the build date comes from the YYYYMMDDHH package version', () => {
    expect(versionDate('2.3.2026061719')).toBe('2026-06-17T19:00:00.000Z');
    expect(versionDate('1.0.0')).toBeNull();
    expect(versionDate('2.3.2026023119')).toBeNull();
  });

  test('age warning names the embedded databases for logs from 2021', () => {
    const w = geo.ageWarning(Date.UTC(2021, 9, 22), Date.UTC(2021, 9, 27));
    expect(w).toMatch(/asn database ip-location-db-asn .* was built 2026-06-17, \d+ days after the last log entry \(2021-10-27\)/);
    expect(geo.ageWarning(Date.UTC(2026, 5, 1), Date.UTC(2026, 6, 1))).toBeNull();
    expect(geo.ageWarning(Number.NaN, Number.NaN)).toBeNull();
  });
});
