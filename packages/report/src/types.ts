/**
 * Contracts of @alf/report: what the CLI hands the pack writers. Plain data;
 * the writers never read the clock, the locale or the time zone, so the same
 * input gives byte-identical files.
 */
import type { AnalysisOptions, AnalysisResult } from '@alf/core';
import type { GeoDbInfo, GeoStats } from '@alf/geo';
import type { Accounting, DecodeReport } from '@alf/parser';
import type { ClientSetSnapshot } from '@alf/core';
import type { BlocklistOptions } from './blocklist.ts';
import type { PackRecordsInfo } from './records-pack.ts';

/** One input of the run, as summary.md lists it. */
export interface PackInputSummary {
  /** As given on the command line; `-` for standard input. */
  readonly name: string;
  /** Bytes read from the source, as stored (compressed bytes for gzip). */
  readonly sizeBytes: number;
  /** SHA-256 (lowercase hex) of those bytes. */
  readonly sha256: string;
  /** Format spec id used for this input (`combined`, `nginx:<log_format>`, …). */
  readonly format: string;
  /** Line accounting of this input alone; null when the CLI only has totals. */
  readonly accounting: Accounting | null;
  /** How the bytes were decoded (gzip members, flags such as `truncated`); null when unknown. */
  readonly decode: DecodeReport | null;
  /** First and last record timestamp of this input (UTC epoch ms); null when it had none. */
  readonly firstMs: number | null;
  readonly lastMs: number | null;
}

/** Options of the run that change what the pack says; shown in summary.md. */
export interface PackRunOptions {
  /** Effective analysis options (after defaults). */
  readonly analysis: AnalysisOptions;
  /** `--tz` for formats without offsets, when given. */
  readonly tz?: string | null | undefined;
  /** `--from` / `--to` filters as UTC epoch ms, when given. */
  readonly fromMs?: number | null | undefined;
  readonly toMs?: number | null | undefined;
}

/** Everything `writeAnalysisPack` needs. */
export interface AnalysisPackInput {
  readonly result: AnalysisResult;
  /** In command-line order; `Reject.input` indexes this list. */
  readonly inputs: readonly PackInputSummary[];
  /** Line accounting summed over all inputs. */
  readonly accounting: Accounting;
  /**
   * Where the records came from when not from input files (e.g. `ClickHouse http://ch1:8123,
   * table logs`; no password): summary.md's title and Inputs section name it. Omitted: files.
   */
  readonly source?: string | undefined;
  /** Databases used (one entry per role, as `Geo.databases`). */
  readonly databases: readonly GeoDbInfo[];
  /** `Geo.ageWarning(first, last)`: databases much older or newer than the logs; null when none. */
  readonly databaseAgeWarning?: string | null | undefined;
  /** Geo counters (host-name clients, lookup errors, labelled private ranges); omitted when unknown. */
  readonly geoStats?: GeoStats | null | undefined;
  readonly options: PackRunOptions;
  /** alf's version (package.json). */
  readonly toolVersion: string;
  /** Extra notes for "What alf could not tell" (CLI-level caveats), tool-written. */
  readonly notes?: readonly string[] | undefined;
  /**
   * Distinct client addresses seen in the inputs (`ClientSet.snapshot()`): the normal clients
   * blocklists must not cover. Without it no `blocklists/` and no abuse.csv are written.
   */
  readonly clients?: ClientSetSnapshot | null | undefined;
  /** Shortest blocklist prefixes (defaults: DEFAULT_BLOCKLIST_OPTIONS). */
  readonly blocklist?: BlocklistOptions | undefined;
  /** records.arrow and evidence lines written by the records pass (summary.md names them per burst). */
  readonly records?: PackRecordsInfo | undefined;
  /** Which field identified clients (`--trusted-proxy`); omitted: the logged remote address. */
  readonly clientAddress?: PackClientAddress | undefined;
  /** `--vhost`: the records kept, when the filter was set. */
  readonly vhostFilter?: PackVhostFilter | null | undefined;
}

/** How client addresses were identified. */
export interface PackClientAddress {
  /** `--trusted-proxy` networks (canonical CIDR text); empty: the logged remote address. */
  readonly trustedProxies: readonly string[];
  /** Records whose client was taken from X-Forwarded-For. */
  readonly fromForwardedFor: number;
  /** Records from a trusted proxy without a usable X-Forwarded-For: the client is a proxy address. */
  readonly proxyKept: number;
}

/** `--vhost`: patterns and what was left out. */
export interface PackVhostFilter {
  /** Lowercased patterns (`www.example.com`, `*.example.com`). */
  readonly patterns: readonly string[];
  /** Records left out: another vhost. */
  readonly otherVhost: number;
  /** Records left out: no vhost. */
  readonly withoutVhost: number;
}
