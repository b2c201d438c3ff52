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
}

/** The synchronous lookup that core uses. Implementations memoise per network. */
export interface GeoLookup {
  lookup(ip: string): GeoAnswer;
}
