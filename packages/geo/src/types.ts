/** Contracts of @alf/geo, consumed by core and report. */

/** Special-purpose ranges that are labelled, not looked up. */
export type AddressLabel =
  | 'private' | 'loopback' | 'link_local' | 'documentation' | 'reserved' | 'multicast'
  | 'unspecified' | 'cgnat' | 'unique_local' | 'benchmarking';

/** What one address resolves to. Fields a database lacks are null. */
export interface GeoAnswer {
  readonly asn: number | null;
  readonly asOrg: string | null;
  /** ISO 3166-1 alpha-2. */
  readonly country: string | null;
  readonly continent: string | null;
  readonly city: string | null;
  /** The database network the ASN answer came from, as CIDR (`1.0.0.0/24`), or null. */
  readonly network: string | null;
  /** Fixed aggregation prefix: /24 for IPv4, /48 for IPv6 (`203.0.113.0/24`, `2001:db8:1::/48`); null for host names. */
  readonly aggPrefix: string | null;
  /** Set for special-purpose ranges (no lookup done) — null for ordinary public addresses. */
  readonly label: AddressLabel | null;
  /** True when a database lookup threw (counted as geo_error). */
  readonly error: boolean;
  /** The AS domain (`google.com`) where the database has one (IPinfo, flat MMDBs). */
  readonly asDomain?: string | null;
  /** The network the country/city answer came from, as CIDR, when a separate geo database answered. */
  readonly geoNetwork?: string | null;
}

/** Where a database came from, for the evidence manifest. */
export interface GeoDbInfo {
  readonly role: 'asn' | 'geo';
  readonly path: string;
  readonly source: 'flag' | 'env' | 'config' | 'standard_path' | 'embedded';
  /** MMDB metadata databaseType (e.g. `GeoLite2-ASN`, `DBIP-Country-Lite`) or the embedded builder's name. */
  readonly databaseType: string;
  /** ISO-8601 build date, or null when the metadata's build_epoch is invalid. */
  readonly buildDate: string | null;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** Licence and attribution text to print in reports that used this data. */
  readonly attribution: string | null;
  /** Which answer fields this database was found to carry (detected from metadata and records). */
  readonly answers?: readonly GeoField[];
  /** Files the data was built from (the embedded ASN table is built from the package's CSVs). */
  readonly builtFrom?: readonly GeoSourceFile[];
  /** Anything the caller should know: invalid build date, cache fallbacks, upstream caveats. */
  readonly notes?: readonly string[];
}

/** An answer field a database can carry. */
export type GeoField = 'asn' | 'as_org' | 'as_domain' | 'country' | 'continent' | 'city';

/** One input file behind a database, for the evidence manifest. */
export interface GeoSourceFile {
  readonly path: string;
  readonly sha256: string;
  readonly sizeBytes: number;
}

/** Counters for the stderr summary and the manifest. */
export interface GeoStats {
  /** Calls to `lookup`. */
  readonly lookups: number;
  /** Lookups answered from the per-address memo. */
  readonly cacheHits: number;
  /** Database searches avoided because the address fell in an already resolved network. */
  readonly networkHits: number;
  /** Database searches done (MMDB tree walks, embedded table searches), over all databases. */
  readonly treeWalks: number;
  /** Database searches that threw (the answer has `error: true`); the run goes on. */
  readonly geoErrors: number;
  /** Addresses resolved as special-purpose ranges (labelled, not looked up); once per address unless its memo slot was reused. */
  readonly labelled: number;
  /** Inputs resolved as not-an-IP (host names), answered all-null; counted like `labelled`. */
  readonly hostnames: number;
  /** Memo entries replaced (per-address slot reused by another address, network memo cleared when full). */
  readonly memoEvictions: number;
}

/** Options of `openGeo`. Sources are tried in order: flag, env, config, standard paths, embedded. */
export interface OpenGeoOptions {
  /** `--asn-db`: an MMDB with ASN fields. */
  readonly asnDb?: string | undefined;
  /** `--geo-db`: an MMDB with country (and maybe city) fields. */
  readonly geoDb?: string | undefined;
  /** Environment for `ALF_ASN_DB`, `ALF_GEO_DB`, `GEOIP_DIR`, `XDG_CACHE_HOME`, `HOME`; defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Paths from a config file (source `config`), used after flags and env. */
  readonly config?: { readonly asnDb?: string | undefined; readonly geoDb?: string | undefined } | undefined;
  /** Where the embedded ASN table is cached; default `$ALF_CACHE_DIR`, `$XDG_CACHE_HOME/alf` or `~/.cache/alf`. */
  readonly cacheDir?: string | undefined;
  /** Standard directories searched for GeoLite2/GeoIP2/DB-IP/IPinfo files; default `GEOIP_DIR` then the usual system paths. */
  readonly searchDirs?: readonly string[] | undefined;
  /** Fall back to the embedded default data (default true). */
  readonly embedded?: boolean | undefined;
  /** Slots of the per-address memo (a direct-mapped cache, rounded up to a power of two); default 131,072. */
  readonly memoCapacity?: number | undefined;
  /** Cap of the networks remembered per database (cleared when full); default 500,000. */
  readonly networkMemoCapacity?: number | undefined;
}


/** The synchronous lookup that core uses. Implementations memoise per network. */
export interface GeoLookup {
  lookup(ip: string): GeoAnswer;
}

/** An open set of databases: what `openGeo` returns. */
export interface Geo extends GeoLookup {
  /** Provenance of each database in use, one entry per role (a database answering both roles appears twice). */
  readonly databases: readonly GeoDbInfo[];
  /** Snapshot of the counters. */
  readonly stats: GeoStats;
  /** Notes for the stderr summary (cache fallbacks, skipped files, missing roles). */
  readonly notes: readonly string[];
  /**
   * A warning when a database was built more than ~90 days before the first or after the
   * last log timestamp (epoch ms), or has no valid build date; null when all are close.
   */
  ageWarning(logStartMs: number, logEndMs: number): string | null;
  /** Drops the databases and memos. Lookups after `close` throw. */
  close(): void;
}
