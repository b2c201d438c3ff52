/**
 * `openGeo`: finds and opens the ASN and geo databases, and returns a `Geo` whose sync
 * `lookup(ip)` resolves each distinct input once (bounded per-address memo) and each
 * database network once (network memo). Special-purpose ranges are labelled without a
 * lookup; host names get an all-null answer; a database search that throws gives
 * `error: true` and is counted, never rethrown.
 */
import { AlfError } from '@alf/parser';
import { asnTableSource } from './asn-table.ts';
import {
  ASN_ATTRIBUTION, COUNTRY_ATTRIBUTION, EMBEDDED_CAVEAT, defaultCacheDir, embeddedCountryPath, loadEmbeddedAsn, versionDate,
} from './embedded-data.ts';
import {
  classifyIp, formatIpv4, ipv4AggregationPrefix, ipv6AggregationPrefix,
} from './ip-address.ts';
import {
  explicitCandidate, standardCandidates, standardDirs, type DbCandidate, type DbSource, type Role,
} from './locate-databases.ts';
import { openMmdb } from './mmdb-database.ts';
import { MemoisedSource, type NetworkHit, type NetworkSource } from './network-memo.ts';
import { ipv4Label, ipv6Label } from './special-ranges.ts';
import type {
  AddressLabel, Geo, GeoAnswer, GeoDbInfo, GeoField, GeoSourceFile, GeoStats, OpenGeoOptions,
} from './types.ts';

/** Per-address memo slots: small enough to stay in CPU cache; the network memo behind it is the big one. */
const DEFAULT_MEMO = 131_072;
/** Networks remembered per database (each ~100 bytes): more than any real log needs. */
const NETWORK_MEMO = 500_000;
const DAY_MS = 86_400_000;
/** A database built further than this from the log dates gets a warning. */
export const AGE_WARNING_DAYS = 90;

/** One opened database, before it is given a role. */
interface OpenedDb {
  readonly path: string;
  readonly source: DbSource;
  readonly via: string;
  readonly databaseType: string;
  readonly buildDate: string | null;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly attribution: string | null;
  readonly answers: readonly GeoField[];
  readonly builtFrom?: readonly GeoSourceFile[];
  readonly notes: readonly string[];
  readonly network: NetworkSource;
}

function hasAsn(db: OpenedDb): boolean {
  return db.answers.includes('asn');
}
function hasCountry(db: OpenedDb): boolean {
  return db.answers.includes('country');
}

async function openCandidate(c: DbCandidate): Promise<OpenedDb> {
  const db = await openMmdb(c.path);
  return {
    path: db.path,
    source: c.source,
    via: c.via,
    databaseType: db.databaseType,
    buildDate: db.buildDate,
    sha256: db.sha256,
    sizeBytes: db.sizeBytes,
    attribution: attributionFor(db.databaseType),
    answers: db.layout.answers,
    notes: db.notes,
    network: db.source,
  };
}

/** Attribution the licences of well-known free databases ask for; null for commercial or unknown ones. */
function attributionFor(databaseType: string): string | null {
  if (/^GeoLite2/i.test(databaseType)) {
    return 'This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com (GeoLite2 End User License Agreement).';
  }
  if (/^DBIP-.*Lite/i.test(databaseType)) {
    return 'IP Geolocation by DB-IP (https://db-ip.com), licensed under Creative Commons Attribution 4.0 International.';
  }
  if (/ipinfo/i.test(databaseType)) {
    return 'IP address data powered by IPinfo (https://ipinfo.io), licensed under Creative Commons Attribution-ShareAlike 4.0 International.';
  }
  return null;
}

function unsupported(db: OpenedDb, role: Role | null): AlfError {
  const has = db.answers.length > 0 ? `it answers ${db.answers.join(', ')}` : 'it has no ASN or country fields';
  const hint =
    role === 'asn' && hasCountry(db)
      ? `; pass it as --geo-db instead`
      : role === 'geo' && hasAsn(db)
        ? `; pass it as --asn-db instead`
        : '; alf reads GeoLite2/GeoIP2 ASN, ISP, Country, City and Enterprise, DB-IP Lite, IPinfo, and MMDBs with country_code/asn fields';
  const wanted = role === 'asn' ? 'ASN' : role === 'geo' ? 'country' : 'ASN or country';
  return new AlfError(
    'ALF_GEO_DB_UNSUPPORTED',
    `${db.via} ${db.path} (database type ${db.databaseType}) cannot be used for ${wanted} lookups: ${has}${hint}`,
    { file: db.path, databaseType: db.databaseType, answers: db.answers },
  );
}

function embeddedAsn(cacheDir: string): OpenedDb {
  const e = loadEmbeddedAsn(cacheDir);
  const buildDate = versionDate(e.pkg.version);
  const notes = [...e.notes, EMBEDDED_CAVEAT];
  if (buildDate === null) notes.push(`cannot read a build date from package version ${e.pkg.version}`);
  return {
    path: e.path,
    source: 'embedded',
    via: 'embedded default',
    databaseType: `ip-location-db-asn ${e.pkg.version}`,
    buildDate,
    sha256: e.sha256,
    sizeBytes: e.sizeBytes,
    attribution: ASN_ATTRIBUTION,
    answers: ['asn', 'as_org'],
    builtFrom: e.table.header.sources,
    notes,
    network: asnTableSource(e.table),
  };
}

async function embeddedCountry(): Promise<OpenedDb> {
  const { path, pkg } = embeddedCountryPath();
  const db = await openCandidate({ path, source: 'embedded', via: 'embedded default' });
  return {
    ...db,
    databaseType: `ip-location-db-geo-whois-asn-country ${pkg.version}`,
    attribution: COUNTRY_ATTRIBUTION,
    notes: [...db.notes, EMBEDDED_CAVEAT],
  };
}

const HOST_ANSWER: GeoAnswer = Object.freeze({
  asn: null, asOrg: null, country: null, continent: null, city: null, network: null,
  aggPrefix: null, label: null, error: false, asDomain: null, geoNetwork: null,
});

function labelled(aggPrefix: string, label: AddressLabel): GeoAnswer {
  return {
    asn: null, asOrg: null, country: null, continent: null, city: null, network: null,
    aggPrefix, label, error: false, asDomain: null, geoNetwork: null,
  };
}

function combine(aggPrefix: string, a: NetworkHit | null | undefined, g: NetworkHit | null | undefined, error: boolean): GeoAnswer {
  const af = a?.fields ?? null;
  const gf = g?.fields ?? null;
  return {
    asn: af?.asn ?? null,
    asOrg: af?.asOrg ?? null,
    country: gf?.country ?? null,
    continent: gf?.continent ?? null,
    city: gf?.city ?? null,
    network: af !== null ? a!.network : null,
    aggPrefix,
    label: null,
    error,
    asDomain: af?.asDomain ?? null,
    geoNetwork: gf !== null ? g!.network : null,
  };
}

class GeoSet implements Geo {
  readonly databases: readonly GeoDbInfo[];
  readonly notes: readonly string[];
  /**
   * Per-address answers in a direct-mapped cache (slot = hash of the text): fixed size, no
   * rehashing, no garbage; a colliding address replaces the previous one, which is then
   * re-resolved through the network memo (no database search) if it comes back.
   */
  private slotKeys: (string | undefined)[];
  private slotAnswers: (GeoAnswer | undefined)[];
  private readonly slotMask: number;
  private memoEvictions = 0;
  private asn: MemoisedSource | null;
  private geo: MemoisedSource | null;
  private readonly hextets = new Uint16Array(8);
  private closed = false;
  private lookups = 0;
  private cacheHits = 0;
  private labelledCount = 0;
  private hostnames = 0;

  constructor(
    databases: GeoDbInfo[], notes: string[], asn: MemoisedSource | null, geo: MemoisedSource | null, memoCapacity: number,
  ) {
    this.databases = databases;
    this.notes = notes;
    this.asn = asn;
    this.geo = geo;
    let slots = 1024;
    while (slots < memoCapacity && slots < 1 << 22) slots *= 2;
    this.slotMask = slots - 1;
    this.slotKeys = new Array<string | undefined>(slots).fill(undefined);
    this.slotAnswers = new Array<GeoAnswer | undefined>(slots).fill(undefined);
  }

  lookup(ip: string): GeoAnswer {
    this.lookups++;
    // FNV-1a over the length and the last 10 UTF-16 units (where addresses differ most);
    // the full text is compared on a hit
    const n = ip.length;
    let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
    for (let i = n > 10 ? n - 10 : 0; i < n; i++) h = Math.imul(h ^ ip.charCodeAt(i), 0x01000193);
    const slot = (h ^ (h >>> 15)) & this.slotMask;
    if (this.slotKeys[slot] === ip) {
      this.cacheHits++;
      return this.slotAnswers[slot]!;
    }
    if (this.closed) throw new AlfError('ALF_INTERNAL', 'geo lookup after close()');
    const answer = this.resolve(ip);
    if (this.slotKeys[slot] !== undefined) this.memoEvictions++;
    this.slotKeys[slot] = ip;
    this.slotAnswers[slot] = answer;
    return answer;
  }

  private resolve(ip: string): GeoAnswer {
    const h = this.hextets;
    const kind = classifyIp(ip, h);
    if (kind === -1) {
      this.hostnames++;
      return HOST_ANSWER;
    }
    const asn = this.asn;
    const geo = this.geo;
    if (kind >= 0) {
      const agg = ipv4AggregationPrefix(kind);
      const label = ipv4Label(kind);
      if (label !== null) {
        this.labelledCount++;
        return labelled(agg, label);
      }
      // strict parsing means plain dotted quads are already canonical; mapped IPv6 is not
      const text = ip.length <= 15 && ip.indexOf(':') < 0 ? ip : formatIpv4(kind);
      const a = asn?.lookupV4(kind, text);
      const g = geo === asn ? a : geo?.lookupV4(kind, text);
      return combine(agg, a, g, a === null || g === null);
    }
    const agg = ipv6AggregationPrefix(h);
    const label = ipv6Label(h);
    if (label !== null) {
      this.labelledCount++;
      return labelled(agg, label);
    }
    const a = asn?.lookupV6(h);
    const g = geo === asn ? a : geo?.lookupV6(h);
    return combine(agg, a, g, a === null || g === null);
  }

  private sources(): MemoisedSource[] {
    const out: MemoisedSource[] = [];
    if (this.asn) out.push(this.asn);
    if (this.geo && this.geo !== this.asn) out.push(this.geo);
    return out;
  }

  get stats(): GeoStats {
    const src = this.sources();
    const sum = (f: (s: MemoisedSource) => number): number => src.reduce((n, s) => n + f(s), 0);
    return {
      lookups: this.lookups,
      cacheHits: this.cacheHits,
      networkHits: sum((s) => s.networkHits),
      treeWalks: sum((s) => s.walks),
      geoErrors: sum((s) => s.errors),
      labelled: this.labelledCount,
      hostnames: this.hostnames,
      memoEvictions: this.memoEvictions + sum((s) => s.evictions),
    };
  }

  ageWarning(logStartMs: number, logEndMs: number): string | null {
    if (!Number.isFinite(logStartMs) || !Number.isFinite(logEndMs)) return null;
    const first = Math.min(logStartMs, logEndMs);
    const last = Math.max(logStartMs, logEndMs);
    const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
    const out: string[] = [];
    const seen = new Set<string>();
    for (const db of this.databases) {
      if (seen.has(db.path)) continue;
      seen.add(db.path);
      const name = `${db.role} database ${db.databaseType}`;
      if (db.buildDate === null) {
        out.push(`${name} has no valid build date; cannot tell whether its answers describe the network owners at the time of the logs`);
        continue;
      }
      const built = Date.parse(db.buildDate);
      const after = Math.floor((built - last) / DAY_MS);
      const before = Math.floor((first - built) / DAY_MS);
      if (after > AGE_WARNING_DAYS) {
        out.push(
          `${name} was built ${day(built)}, ${after} days after the last log entry (${day(last)}): ` +
            'prefixes may have changed owner since; answers name the owner at the database date',
        );
      } else if (before > AGE_WARNING_DAYS) {
        out.push(
          `${name} was built ${day(built)}, ${before} days before the first log entry (${day(first)}): ` +
            'newer allocations and transfers are missing',
        );
      }
    }
    return out.length > 0 ? out.join('; ') : null;
  }

  close(): void {
    this.closed = true;
    this.slotKeys.fill(undefined);
    this.slotAnswers.fill(undefined);
    for (const s of this.sources()) s.clear();
    this.asn = null;
    this.geo = null;
  }
}

function infoFor(db: OpenedDb, role: Role): GeoDbInfo {
  const info: GeoDbInfo = {
    role,
    path: db.path,
    source: db.source,
    databaseType: db.databaseType,
    buildDate: db.buildDate,
    sha256: db.sha256,
    sizeBytes: db.sizeBytes,
    attribution: db.attribution,
    answers: db.answers,
    notes: db.notes,
    ...(db.builtFrom ? { builtFrom: db.builtFrom } : {}),
  };
  return info;
}

/**
 * Opens the databases (see `docs/geo.md` for the search order) and returns the lookup.
 * Throws `AlfError` `ALF_GEO_DB_OPEN` (a file is missing, empty, not an MMDB, corrupt
 * metadata) or `ALF_GEO_DB_UNSUPPORTED` (an MMDB without the fields its role needs).
 */
export async function openGeo(opts: OpenGeoOptions = {}): Promise<Geo> {
  const env = opts.env ?? process.env;
  const notes: string[] = [];
  const opened = new Map<string, Promise<OpenedDb>>();
  const open = (c: DbCandidate): Promise<OpenedDb> => {
    let p = opened.get(c.path);
    if (!p) {
      p = openCandidate(c);
      opened.set(c.path, p);
    }
    return p;
  };

  let asnDb: OpenedDb | null = null;
  let geoDb: OpenedDb | null = null;
  const asnWanted = explicitCandidate('asn', opts.asnDb, env, opts.config?.asnDb);
  const geoWanted = explicitCandidate('geo', opts.geoDb, env, opts.config?.geoDb);
  if (asnWanted) {
    asnDb = await open(asnWanted);
    if (!hasAsn(asnDb)) throw unsupported(asnDb, 'asn');
  }
  if (geoWanted) {
    geoDb = await open(geoWanted);
    if (!hasCountry(geoDb)) throw unsupported(geoDb, 'geo');
  }
  if (!asnDb && geoDb && hasAsn(geoDb)) asnDb = geoDb;
  if (!geoDb && asnDb && hasCountry(asnDb)) geoDb = asnDb;

  if (!asnDb || !geoDb) {
    const dirs = opts.searchDirs ?? standardDirs(env);
    for (const role of ['asn', 'geo'] as const) {
      if ((role === 'asn' ? asnDb : geoDb) !== null) continue;
      for (const c of standardCandidates(role, dirs)) {
        let db: OpenedDb;
        try {
          db = await open(c);
        } catch (e) {
          if (e instanceof AlfError) {
            throw new AlfError(e.code, `${e.message} (found in a standard GeoIP directory; pass --${role}-db to use another file)`, e.context, { cause: e });
          }
          throw e;
        }
        const fits = role === 'asn' ? hasAsn(db) : hasCountry(db);
        if (!fits) {
          notes.push(`skipped ${c.path}: it does not answer ${role === 'asn' ? 'ASN' : 'country'} (answers: ${db.answers.join(', ') || 'none'})`);
          continue;
        }
        if (role === 'asn') asnDb = db;
        else geoDb = db;
        break;
      }
    }
    if (!asnDb && geoDb && hasAsn(geoDb)) asnDb = geoDb;
    if (!geoDb && asnDb && hasCountry(asnDb)) geoDb = asnDb;
  }

  if (opts.embedded !== false) {
    if (!asnDb) asnDb = embeddedAsn(opts.cacheDir ?? defaultCacheDir(env));
    if (!geoDb) geoDb = await embeddedCountry();
  }
  if (!asnDb) notes.push('no ASN database: ASN and organisation columns stay empty');
  if (!geoDb) notes.push('no country database: country columns stay empty');

  const capacity = Math.max(1, Math.floor(opts.memoCapacity ?? DEFAULT_MEMO));
  const networks = Math.max(1024, Math.floor(opts.networkMemoCapacity ?? NETWORK_MEMO));
  const asnSrc = asnDb ? new MemoisedSource(asnDb.network, networks) : null;
  const geoSrc = geoDb === asnDb ? asnSrc : geoDb ? new MemoisedSource(geoDb.network, networks) : null;
  const databases: GeoDbInfo[] = [];
  if (asnDb) databases.push(infoFor(asnDb, 'asn'));
  if (geoDb) databases.push(infoFor(geoDb, 'geo'));
  for (const db of [asnDb, geoDb]) {
    if (db && db.buildDate === null && !notes.some((n) => n.includes(db.path))) {
      notes.push(`${db.path}: build date in the metadata is invalid; reported as unknown`);
    }
  }
  return new GeoSet(databases, notes, asnSrc, geoSrc, capacity);
}

