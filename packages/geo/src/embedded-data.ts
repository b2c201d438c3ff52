/**
 * The embedded default: real, redistributable data from registry packages, so `alf`
 * answers "which ASNs and countries" on a fresh machine with no network.
 *
 * - ASN: `@ip-location-db/asn` ships CSV only (RouteViews + RIR/NRO + DB-IP ASN Lite,
 *   CC BY 4.0). It is turned into a binary range table once and cached, keyed by the
 *   package version and the CSVs' size and mtime; the CSVs' SHA-256 are recorded inside.
 *   If the cache directory is not writable the table goes to the temp directory, and if
 *   that fails too it is built in memory for this run (with a note).
 * - Country: `@ip-location-db/geo-whois-asn-country-mmdb` ships an MMDB (`country_code`),
 *   opened like any other database.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ASN_TABLE_FORMAT, buildAsnTable, parseAsnTable, serializeAsnTable, type AsnTable } from './asn-table.ts';
import type { GeoSourceFile } from './types.ts';

const require = createRequire(import.meta.url);

export const ASN_PACKAGE = '@ip-location-db/asn';
export const COUNTRY_PACKAGE = '@ip-location-db/geo-whois-asn-country-mmdb';
const ASN_V4_CSV = 'asn-ipv4-num.csv';
const ASN_V6_CSV = 'asn-ipv6-num.csv';
const COUNTRY_MMDB = 'geo-whois-asn-country.mmdb';

export const ASN_ATTRIBUTION: string =
  'ASN data: @ip-location-db/asn (https://github.com/sapics/ip-location-db), merged by ip-location-db from ' +
  'RouteViews (https://www.routeviews.org), the five RIRs\' statistics published by the NRO (https://www.nro.net) ' +
  'and the DB-IP IP to ASN Lite database (https://db-ip.com; "IP Geolocation by DB-IP"), each licensed under ' +
  'Creative Commons Attribution 4.0 International (https://creativecommons.org/licenses/by/4.0/). ' +
  'Modified: merged by ip-location-db (RouteViews > RIRs > DB-IP); converted by alf into a binary range table.';

export const COUNTRY_ATTRIBUTION: string =
  'Country data: @ip-location-db/geo-whois-asn-country-mmdb (https://github.com/sapics/ip-location-db), ' +
  'merged from GeoFeed, RIR WHOIS and RIR ASN data; the RIR statistics are published by the NRO ' +
  '(https://www.nro.net) under Creative Commons Attribution 4.0 International ' +
  '(https://creativecommons.org/licenses/by/4.0/). The package itself is declared CC0-1.0.';

export const EMBEDDED_CAVEAT: string =
  'ip-location-db warns that the data it publishes to npm has known errors and that npm updates have stopped; ' +
  'for evidence that matters, pass your own GeoLite2/GeoIP2/DB-IP databases (--asn-db, --geo-db)';

export interface PackageInfo {
  readonly dir: string;
  readonly name: string;
  readonly version: string;
}

export function packageInfo(name: string): PackageInfo {
  const pj = require.resolve(`${name}/package.json`);
  const json = JSON.parse(readFileSync(pj, 'utf8')) as { version?: unknown };
  return { dir: dirname(pj), name, version: typeof json.version === 'string' ? json.version : '0' };
}

/** `2.3.2026061719` → `2026-06-17T19:00:00.000Z` (ip-location-db versions end in YYYYMMDDHH). */
export function versionDate(version: string): string | null {
  const m = /(\d{4})(\d{2})(\d{2})(\d{2})$/.exec(version);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  const d = new Date(ms);
  return Number.isFinite(ms) && d.getUTCDate() === Number(m[3]) ? d.toISOString() : null;
}

export function embeddedCountryPath(): { path: string; pkg: PackageInfo } {
  const pkg = packageInfo(COUNTRY_PACKAGE);
  return { path: join(pkg.dir, COUNTRY_MMDB), pkg };
}

/** The default cache directory: `$ALF_CACHE_DIR`, `$XDG_CACHE_HOME/alf`, or `~/.cache/alf`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  if (env['ALF_CACHE_DIR']) return env['ALF_CACHE_DIR'];
  if (env['XDG_CACHE_HOME']) return join(env['XDG_CACHE_HOME'], 'alf');
  return join(env['HOME'] || homedir(), '.cache', 'alf');
}

export interface EmbeddedAsn {
  readonly table: AsnTable;
  /** The cache file, or `(memory)` when it could not be written anywhere. */
  readonly path: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly pkg: PackageInfo;
  readonly built: boolean;
  readonly notes: readonly string[];
}

function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** File name of the cached table: package version plus a hash of format, sizes and mtimes. */
export function asnCacheFileName(pkg: PackageInfo): string {
  const key = [ASN_TABLE_FORMAT, pkg.version];
  for (const f of [ASN_V4_CSV, ASN_V6_CSV]) {
    const st = statSync(join(pkg.dir, f));
    key.push(st.size, Math.round(st.mtimeMs));
  }
  const hash = createHash('sha256').update(key.join('|')).digest('hex').slice(0, 16);
  return `asn-${pkg.version}-${hash}.bin`;
}

function tryLoad(path: string): { table: AsnTable; bytes: Buffer } | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return null;
  }
  const table = parseAsnTable(bytes);
  return table ? { table, bytes } : null;
}

function tryWrite(dir: string, name: string, bytes: Buffer): string | null {
  try {
    mkdirSync(dir, { recursive: true });
    const final = join(dir, name);
    const tmp = join(dir, `.${name}.${process.pid}.${Date.now()}.tmp`);
    writeFileSync(tmp, bytes);
    try {
      renameSync(tmp, final); // atomic: concurrent builders each rename a complete file
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        /* ignore */
      }
      throw e;
    }
    return final;
  } catch {
    return null;
  }
}

/** Builds the table from the package CSVs (reads ~32 MB; a second or two). */
export function buildEmbeddedAsnTable(pkg: PackageInfo): AsnTable {
  const v4Path = join(pkg.dir, ASN_V4_CSV);
  const v6Path = join(pkg.dir, ASN_V6_CSV);
  const v4 = readFileSync(v4Path);
  const v6 = readFileSync(v6Path);
  const sources: GeoSourceFile[] = [
    { path: `${pkg.name}@${pkg.version}/${ASN_V4_CSV}`, sha256: sha256(v4), sizeBytes: v4.length },
    { path: `${pkg.name}@${pkg.version}/${ASN_V6_CSV}`, sha256: sha256(v6), sizeBytes: v6.length },
  ];
  return buildAsnTable(v4, v6, { packageName: pkg.name, packageVersion: pkg.version, sources });
}

/**
 * Loads the cached ASN table, building and caching it first when missing or unreadable.
 * Never throws for an unwritable cache: falls back to the temp directory, then memory.
 */
export function loadEmbeddedAsn(cacheDir: string): EmbeddedAsn {
  const pkg = packageInfo(ASN_PACKAGE);
  const name = asnCacheFileName(pkg);
  const fallbackDir = join(tmpdir(), `alf-cache-${typeof process.getuid === 'function' ? process.getuid() : 'user'}`);
  for (const dir of [cacheDir, fallbackDir]) {
    const path = join(dir, name);
    const hit = tryLoad(path);
    if (hit) {
      return { table: hit.table, path, sha256: sha256(hit.bytes), sizeBytes: hit.bytes.length, pkg, built: false, notes: [] };
    }
  }
  const table = buildEmbeddedAsnTable(pkg);
  const bytes = serializeAsnTable(table);
  const notes: string[] = [];
  let path = tryWrite(cacheDir, name, bytes);
  if (path === null) {
    path = tryWrite(fallbackDir, name, bytes);
    notes.push(
      path === null
        ? `cache directories ${cacheDir} and ${fallbackDir} are not writable; the embedded ASN table was built in memory and will be rebuilt next run`
        : `cache directory ${cacheDir} is not writable; the embedded ASN table was cached in ${fallbackDir}`,
    );
  }
  // reload from the written bytes so the in-memory arrays are the same views a later run gets
  const parsed = parseAsnTable(bytes) ?? table;
  return {
    table: parsed,
    path: path ?? '(memory)',
    sha256: sha256(bytes),
    sizeBytes: bytes.length,
    pkg,
    built: true,
    notes,
  };
}
