/**
 * MaxMind's test databases against `coverage.csv` (testdata/real/SOURCES.md §2): every
 * network of the ten source JSON files, looked up through the public API, must give the
 * ASN, AS organisation, country, city and prefix length the oracle lists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isAlfError } from '@alf/parser';
import { openGeo } from './open-geo.ts';
import type { Geo, GeoAnswer } from './types.ts';

const DATA = join(import.meta.dirname, '../../../testdata/real/maxmind-db');
const TEST_DBS = join(DATA, 'test-data');

interface OracleRow {
  database: string;
  network: string;
  lookup_ip: string;
  prefix_len: string;
  asn: string;
  as_org: string;
  country: string;
  city: string;
}

/** Minimal RFC 4180 reader: quoted fields with "" escapes, no newlines inside fields here. */
function readCsv(text: string): Record<string, string>[] {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const split = (line: string): string[] => {
    const out: string[] = [];
    let i = 0;
    while (i <= line.length) {
      if (line[i] === '"') {
        let j = i + 1;
        let v = '';
        for (;;) {
          const q = line.indexOf('"', j);
          if (line[q + 1] === '"') {
            v += `${line.slice(j, q)}"`;
            j = q + 2;
          } else {
            v += line.slice(j, q);
            i = q + 2;
            break;
          }
        }
        out.push(v);
      } else {
        const c = line.indexOf(',', i);
        const end = c < 0 ? line.length : c;
        out.push(line.slice(i, end));
        i = end + 1;
      }
    }
    return out;
  };
  const [head, ...rows] = lines.map(split);
  return rows.map((r) => Object.fromEntries(head!.map((h, k) => [h, r[k] ?? ''])));
}

const oracle = readCsv(readFileSync(join(DATA, 'coverage.csv'), 'utf8')) as unknown as OracleRow[];
const rowsOf = (db: string): OracleRow[] => oracle.filter((r) => r.database === db);

function prefixOf(cidr: string | null | undefined): number | null {
  return cidr ? Number(cidr.slice(cidr.indexOf('/') + 1)) : null;
}

type Role = 'asn' | 'geo' | 'both';
const CASES: readonly [database: string, role: Role][] = [
  ['GeoLite2-ASN-Test', 'asn'],
  ['GeoIP2-ISP-Test', 'asn'],
  ['GeoLite2-Country-Test', 'geo'],
  ['GeoIP2-Country-Test', 'geo'],
  ['GeoLite2-City-Test', 'geo'],
  ['GeoIP2-City-Test', 'geo'],
  ['GeoIP2-Enterprise-Test', 'both'],
];

async function open(database: string, role: Role): Promise<Geo> {
  const path = join(TEST_DBS, `${database}.mmdb`);
  const common = { env: {}, searchDirs: [], embedded: false } as const;
  return role === 'geo' ? openGeo({ ...common, geoDb: path }) : openGeo({ ...common, asnDb: path });
}

/** What the oracle row says, in the answer's terms, for the fields the role covers. */
function expected(row: OracleRow, role: Role): Record<string, unknown> {
  const asn = { asn: row.asn ? Number(row.asn) : null, asOrg: row.as_org || null };
  const geo = { country: row.country || null, city: row.city || null };
  const prefix = Number(row.prefix_len);
  if (role === 'asn') return { ...asn, prefix };
  if (role === 'geo') return { ...geo, prefix };
  return { ...asn, ...geo, prefix };
}

function actual(a: GeoAnswer, role: Role): Record<string, unknown> {
  const asn = { asn: a.asn, asOrg: a.asOrg };
  const geo = { country: a.country, city: a.city };
  if (role === 'asn') return { ...asn, prefix: prefixOf(a.network) };
  if (role === 'geo') return { ...geo, prefix: prefixOf(a.geoNetwork) };
  return { ...asn, ...geo, prefix: prefixOf(a.network) };
}

describe.for(CASES)('%s through openGeo (%s role)', ([database, role]) => {
  test('answers every network of coverage.csv like the oracle', async () => {
    const rows = rowsOf(database);
    expect(rows.length).toBeGreaterThan(0);
    const geo = await open(database, role);
    expect(geo.databases.map((d) => d.databaseType)).toContain(database.replace(/-Test$/, ''));
    const mismatches: unknown[] = [];
    let labelled = 0;
    for (const row of rows) {
      const a = geo.lookup(row.lookup_ip);
      expect(a.error).toBe(false);
      if (a.label !== null) {
        labelled++; // special-purpose ranges are never looked up
        continue;
      }
      const want = expected(row, role);
      const got = actual(a, role);
      if (JSON.stringify(want) !== JSON.stringify(got)) mismatches.push({ ip: row.lookup_ip, want, got });
    }
    expect(mismatches).toEqual([]);
    expect(labelled).toBeLessThan(rows.length / 10);
    expect(geo.stats.geoErrors).toBe(0);
    geo.close();
  });
});

test('the Enterprise database answers ASN and country from one file', async () => {
  const geo = await open('GeoIP2-Enterprise-Test', 'both');
  expect(geo.databases.map((d) => [d.role, d.source])).toEqual([['asn', 'flag'], ['geo', 'flag']]);
  expect(geo.databases[0]!.answers).toEqual(expect.arrayContaining(['asn', 'as_org', 'country', 'city']));
  const a = geo.lookup('74.209.24.1'); // the source JSON writes 74.209.24.0/20; the /20 holding it is 74.209.16.0/20
  expect([a.asn, a.asOrg, a.country, a.city, a.network]).toEqual([14671, 'FairPoint Communications', 'US', 'Chatham', '74.209.16.0/20']);
  // one search answers both roles
  expect(geo.stats.treeWalks).toBe(1);
});

test('prefix and answer fields for well-known test-database anchors', async () => {
  const asn = await openGeo({ env: {}, searchDirs: [], embedded: false, asnDb: join(TEST_DBS, 'GeoLite2-ASN-Test.mmdb'), geoDb: join(TEST_DBS, 'GeoIP2-City-Test.mmdb') });
  const a = asn.lookup('1.128.3.4');
  expect([a.asn, a.asOrg, a.network, a.aggPrefix, a.country]).toEqual([1221, 'Telstra Pty Ltd', '1.128.0.0/11', '1.128.3.0/24', null]);
  const b = asn.lookup('81.2.69.143');
  expect([b.country, b.continent, b.city, b.geoNetwork]).toEqual(['GB', 'EU', 'London', '81.2.69.142/31']);
  const c = asn.lookup('38.10.180.30'); // the one NASA-HTTP client in the test DBs
  expect(c.asn).toBe(174);
});

describe.for(['GeoIP2-Anonymous-IP-Test', 'GeoIP2-Connection-Type-Test', 'GeoIP2-Domain-Test'])('%s', (database) => {
  test('is refused as unsupported for both roles (no ASN or country fields)', async () => {
    for (const role of ['asn', 'geo'] as const) {
      const err = await open(database, role).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isAlfError(err) && err.code).toBe('ALF_GEO_DB_UNSUPPORTED');
      expect(String((err as Error).message)).toContain(`${database}.mmdb`);
    }
  });
});

test('a country database given as --asn-db is refused with a hint', async () => {
  const err = await openGeo({ env: {}, searchDirs: [], embedded: false, asnDb: join(TEST_DBS, 'GeoLite2-Country-Test.mmdb') }).catch((e: unknown) => e);
  expect(isAlfError(err) && err.code).toBe('ALF_GEO_DB_UNSUPPORTED');
  expect((err as Error).message).toMatch(/--asn-db .*GeoLite2-Country-Test\.mmdb.*pass it as --geo-db/);
});
