/**
 * Where the databases come from, in order: `--asn-db`/`--geo-db` flags, `ALF_ASN_DB` /
 * `ALF_GEO_DB`, config entries, the standard directories users already have
 * (`GEOIP_DIR`, `/usr/share/GeoIP`, `/var/lib/GeoIP`, ...), and finally the embedded
 * default. Names only decide which standard files to try; what a file answers (ASN,
 * country) is decided from its metadata and records once it is open.
 */
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { AlfError } from '@alf/parser';
import type { GeoDbInfo } from './types.ts';

export type Role = 'asn' | 'geo';
export type DbSource = GeoDbInfo['source'];

/** System directories searched after `GEOIP_DIR` (geoipupdate, distro packages, Homebrew). */
export const STANDARD_DIRS: readonly string[] = [
  '/usr/share/GeoIP',
  '/var/lib/GeoIP',
  '/usr/local/share/GeoIP',
  '/usr/local/var/GeoIP',
  '/opt/homebrew/var/GeoIP',
];

/** File names tried in each standard directory, best first. */
const STANDARD_NAMES: Readonly<Record<Role, readonly RegExp[]>> = {
  asn: [
    /^GeoLite2-ASN\.mmdb$/i,
    /^GeoIP2-ISP\.mmdb$/i,
    /^dbip-asn(-lite)?(-\d{4}-\d{2})?\.mmdb$/i,
    /^ipinfo[_-]lite\.mmdb$/i,
    /^(ipinfo[_-])?country[_-]asn\.mmdb$/i,
  ],
  geo: [
    /^GeoIP2-City\.mmdb$/i,
    /^GeoLite2-City\.mmdb$/i,
    /^GeoIP2-Country\.mmdb$/i,
    /^GeoLite2-Country\.mmdb$/i,
    /^dbip-city(-lite)?(-\d{4}-\d{2})?\.mmdb$/i,
    /^dbip-country(-lite)?(-\d{4}-\d{2})?\.mmdb$/i,
    /^ipinfo[_-]lite\.mmdb$/i,
    /^(ipinfo[_-])?country[_-]asn\.mmdb$/i,
  ],
};

export interface DbCandidate {
  readonly path: string;
  readonly source: DbSource;
  /** How the user named it, for messages: `--asn-db`, `ALF_GEO_DB`, `config geoDb`. */
  readonly via: string;
}

function expandHome(p: string, env: NodeJS.ProcessEnv): string {
  if (p === '~' || p.startsWith('~/')) return join(env['HOME'] || homedir(), p.slice(1));
  return p;
}

/** The explicitly configured database for a role (flag, then env, then config), if any. */
export function explicitCandidate(
  role: Role,
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  config: string | undefined,
): DbCandidate | null {
  const envName = role === 'asn' ? 'ALF_ASN_DB' : 'ALF_GEO_DB';
  const tries: [string | undefined, DbSource, string][] = [
    [flag, 'flag', role === 'asn' ? '--asn-db' : '--geo-db'],
    [env[envName], 'env', envName],
    [config, 'config', role === 'asn' ? 'config asnDb' : 'config geoDb'],
  ];
  for (const [value, source, via] of tries) {
    if (value === undefined) continue;
    if (value.trim() === '') {
      throw new AlfError('ALF_USAGE', `${via} must name an .mmdb file; got an empty value`, { option: via });
    }
    return { path: resolve(expandHome(value, env)), source, via };
  }
  return null;
}

/** Standard directories in search order: `GEOIP_DIR` (may list several, `:`-separated) then the system ones. */
export function standardDirs(env: NodeJS.ProcessEnv): string[] {
  const fromEnv = (env['GEOIP_DIR'] ?? '').split(':').filter((d) => d.trim() !== '');
  return [...fromEnv.map((d) => resolve(expandHome(d, env))), ...STANDARD_DIRS];
}

/** Standard files that may answer `role`, in preference order (directory first, then name). */
export function standardCandidates(role: Role, dirs: readonly string[]): DbCandidate[] {
  const out: DbCandidate[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const pattern of STANDARD_NAMES[role]) {
      // dated DB-IP files (dbip-city-lite-2026-01.mmdb): newest first
      const hits = names.filter((n) => pattern.test(n)).sort().reverse();
      for (const n of hits) out.push({ path: join(dir, n), source: 'standard_path', via: `standard path ${dir}` });
    }
  }
  return out;
}
