/** Where databases come from: flag, env, config, standard directories, embedded default. */
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isAlfError } from '@alf/parser';
import { standardCandidates, standardDirs } from './locate-databases.ts';
import { openGeo } from './open-geo.ts';

const TEST_DBS = join(import.meta.dirname, '../../../testdata/real/maxmind-db/test-data');
const db = (name: string): string => join(TEST_DBS, `${name}.mmdb`);
/** Shared across runs, so the embedded ASN table is built once per machine, not per test. */
const SHARED_XDG = join(tmpdir(), 'alf-geo-test-xdg');

/** A directory laid out like /usr/share/GeoIP, with links to the MaxMind test databases. */
function geoipDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'alf-geoip-'));
  for (const [name, target] of Object.entries(files)) symlinkSync(target, join(dir, name));
  return dir;
}

describe('database sources', () => {
  test('standard directory files are found by name and used by content', async () => {
    const dir = geoipDir({ 'GeoLite2-ASN.mmdb': db('GeoLite2-ASN-Test'), 'GeoLite2-City.mmdb': db('GeoLite2-City-Test') });
    const geo = await openGeo({ env: {}, searchDirs: [dir], embedded: false });
    expect(geo.databases.map((d) => [d.role, d.source, d.databaseType])).toEqual([
      ['asn', 'standard_path', 'GeoLite2-ASN'],
      ['geo', 'standard_path', 'GeoLite2-City'],
    ]);
    expect(geo.databases[0]!.attribution).toMatch(/GeoLite2 data created by MaxMind/);
    expect(geo.lookup('81.2.69.143')).toMatchObject({ country: 'GB', city: 'London' });
  });

  test('GEOIP_DIR is searched before the system directories', () => {
    expect(standardDirs({ GEOIP_DIR: '/opt/geo' }).slice(0, 2)).toEqual(['/opt/geo', '/usr/share/GeoIP']);
  });

  test('the newest dated DB-IP file wins', () => {
    const dir = geoipDir({
      'dbip-country-lite-2025-01.mmdb': db('GeoLite2-Country-Test'),
      'dbip-country-lite-2026-03.mmdb': db('GeoLite2-Country-Test'),
    });
    expect(standardCandidates('geo', [dir]).map((c) => c.path)).toEqual([
      join(dir, 'dbip-country-lite-2026-03.mmdb'),
      join(dir, 'dbip-country-lite-2025-01.mmdb'),
    ]);
  });

  test('flag beats env beats standard path', async () => {
    const dir = geoipDir({ 'GeoLite2-ASN.mmdb': db('GeoLite2-ASN-Test') });
    const env = { ALF_ASN_DB: db('GeoIP2-ISP-Test') };
    const fromEnv = await openGeo({ env, searchDirs: [dir], embedded: false });
    expect(fromEnv.databases[0]).toMatchObject({ role: 'asn', source: 'env', databaseType: 'GeoIP2-ISP' });
    const fromFlag = await openGeo({ env, searchDirs: [dir], embedded: false, asnDb: db('GeoIP2-Enterprise-Test') });
    expect(fromFlag.databases.map((d) => [d.role, d.source, d.databaseType])).toEqual([
      ['asn', 'flag', 'GeoIP2-Enterprise'],
      ['geo', 'flag', 'GeoIP2-Enterprise'], // it answers country too, so it serves both roles
    ]);
    const fromConfig = await openGeo({ env: {}, searchDirs: [dir], embedded: false, config: { asnDb: db('GeoIP2-ISP-Test') } });
    expect(fromConfig.databases[0]).toMatchObject({ source: 'config', databaseType: 'GeoIP2-ISP' });
  });

  test('a standard file that does not answer its role is skipped with a note', async () => {
    const dir = geoipDir({ 'GeoLite2-ASN.mmdb': db('GeoIP2-Domain-Test') });
    const err = await openGeo({ env: {}, searchDirs: [dir], embedded: false }).catch((e: unknown) => e);
    // GeoIP2-Domain has neither ASN nor country: opening it is fine, using it is not
    expect(err).not.toBeInstanceOf(Error);
    const geo = err as Awaited<ReturnType<typeof openGeo>>;
    expect(geo.databases).toEqual([]);
    expect(geo.notes.join('\n')).toMatch(/skipped .*GeoLite2-ASN\.mmdb: it does not answer ASN/);
    expect(geo.notes.join('\n')).toMatch(/no ASN database/);
    expect(geo.lookup('1.128.0.1')).toMatchObject({ asn: null, country: null, aggPrefix: '1.128.0.0/24', error: false });
  });

  test('a broken file in a standard directory is a clear open error naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alf-geoip-'));
    writeFileSync(join(dir, 'GeoLite2-ASN.mmdb'), '');
    const err = await openGeo({ env: {}, searchDirs: [dir], embedded: false }).catch((e: unknown) => e);
    expect(isAlfError(err) && err.code).toBe('ALF_GEO_DB_OPEN');
    expect((err as Error).message).toMatch(/GeoLite2-ASN\.mmdb: the file is empty .*pass --asn-db/);
  });

  test('with nothing configured or installed, the embedded default answers', async () => {
    const geo = await openGeo({ env: { XDG_CACHE_HOME: SHARED_XDG }, searchDirs: [] });
    expect(geo.databases.map((d) => [d.role, d.source])).toEqual([['asn', 'embedded'], ['geo', 'embedded']]);
    expect(geo.databases[0]!.path.startsWith(join(SHARED_XDG, 'alf'))).toBe(true);
  });

  test('the geo database from a flag, ASN from the embedded default', async () => {
    const geo = await openGeo({ env: {}, searchDirs: [], cacheDir: join(SHARED_XDG, 'alf'), geoDb: db('GeoIP2-City-Test') });
    expect(geo.databases.map((d) => [d.role, d.source])).toEqual([['asn', 'embedded'], ['geo', 'flag']]);
    expect(geo.lookup('81.2.69.160')).toMatchObject({ country: 'GB', city: 'London' });
  });
});
