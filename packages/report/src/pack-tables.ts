/**
 * The CSV tables of the analysis evidence pack, as pure functions of an
 * `AnalysisResult` (csv-stringify, one header row, `\n` line ends).
 *
 * Determinism: no locale, no time zone, no clock. Numbers are formatted here,
 * not by csv-stringify: counts as integers, rates and scores with a fixed
 * number of decimals (`FORMAT`), times as ISO-8601 UTC seconds
 * (`2021-03-29T10:15:00Z`); a number that is not finite is an empty cell. Rows
 * are sorted with explicit tie-breakers (UTF-16 code unit order, never
 * `localeCompare`), so the order of the result's arrays does not matter.
 *
 * Every string cell goes through `neutraliseCsvCell` (formula prefix, visible
 * escapes for control characters), attacker-written or not; numeric cells are
 * never prefixed, so a numeric column stays numeric in a spreadsheet.
 *
 * Large tables (attackers, timeline, rejects) are also available as chunk
 * generators so a writer can stream them without building one big string.
 */
import { stringify } from 'csv-stringify/sync';
import type {
  AnalysisResult, AsnRow, Attacker, Burst, CountryRow, PathRow, PrefixRow, StatusRow, TimelineSeries, UserAgentRow,
} from '@alf/core';
import type { Reject } from '@alf/parser';
import { capLength, neutraliseCsvCell } from './escape.ts';

/** Decimals per kind of number (fixed, so the same value always reads the same). */
export const FORMAT: { readonly shareDecimals: number; readonly rateDecimals: number; readonly scoreDecimals: number } = {
  shareDecimals: 4,
  rateDecimals: 3,
  scoreDecimals: 2,
};

/** Rows per chunk of the streaming generators. */
const CHUNK_ROWS = 4096;
/** Cap (code points) of attacker-written cells in the tables; the raw values stay in `records.arrow`. */
export const CSV_TEXT_MAX_CHARS = 2048;
/** Default cap (code points) of a reject's excerpt in rejects.csv. */
export const REJECT_EXCERPT_MAX_CHARS = 300;

// ---------------------------------------------------------------------------
// Cells

/** A cell as passed to csv-stringify: already formatted text, or null for an empty cell. */
type Cell = string | null;

/** ISO-8601 UTC to the second: `2021-03-29T10:15:00Z` (milliseconds truncated); null when not finite. */
export function isoSeconds(ms: number): string | null {
  if (!Number.isFinite(ms)) return null;
  const d = new Date(Math.floor(ms / 1000) * 1000);
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString(); // always UTC
  return iso.slice(0, iso.length - 5) + 'Z';
}

/** Fixed-decimal text of a number (`toFixed`, locale-independent), no `-0.00`; null when not finite. */
export function fixedNumber(n: number, decimals: number): string | null {
  if (!Number.isFinite(n)) return null;
  const s = n.toFixed(decimals);
  return /^-0(?:\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** An integer count (rounded); null when not finite. */
export function intNumber(n: number): string | null {
  return fixedNumber(Math.round(n), 0);
}

function share(n: number): Cell {
  return fixedNumber(n, FORMAT.shareDecimals);
}

/** A string cell: capped, neutralised; null stays empty. */
function text(s: string | null | undefined, max: number = CSV_TEXT_MAX_CHARS): Cell {
  if (s === null || s === undefined) return null;
  return neutraliseCsvCell(capLength(s, max));
}

function csvRows(rows: readonly Cell[][]): string {
  return rows.length === 0 ? '' : stringify(rows as Cell[][], { eof: true, record_delimiter: '\n' });
}

function* chunked<T>(header: readonly string[], items: readonly T[] | Iterable<T>, toRow: (item: T) => Cell[]): Generator<string> {
  yield csvRows([[...header]]);
  let rows: Cell[][] = [];
  for (const item of items) {
    rows.push(toRow(item));
    if (rows.length >= CHUNK_ROWS) {
      yield csvRows(rows);
      rows = [];
    }
  }
  if (rows.length > 0) yield csvRows(rows);
}

function joinChunks(chunks: Iterable<string>): string {
  let s = '';
  for (const c of chunks) s += c;
  return s;
}

// ---------------------------------------------------------------------------
// Ordering

function cmpStr(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1; // nulls last
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function cmpNum(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null || Number.isNaN(a)) return 1;
  if (b === null || Number.isNaN(b)) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted copy of cluster rows: burst id ascending, then requests descending, then `key` ascending (nulls last). */
export function byBurstThenRequests<T extends { readonly burstId: number; readonly requests: number }>(
  rows: readonly T[],
  key: (r: T) => string | number | null,
): T[] {
  return [...rows].sort((a, b) => {
    const d = a.burstId - b.burstId || b.requests - a.requests;
    if (d !== 0) return d;
    const ka = key(a);
    const kb = key(b);
    return typeof ka === 'number' || typeof kb === 'number' ? cmpNum(ka as number | null, kb as number | null) : cmpStr(ka, kb);
  });
}

/** Bursts by id. */
export function sortBursts(bursts: readonly Burst[]): Burst[] {
  return [...bursts].sort((a, b) => a.burstId - b.burstId);
}

/** Attackers: burst id ascending, most excess first, then most requests, then IP. */
export function sortAttackers(attackers: readonly Attacker[]): Attacker[] {
  return [...attackers].sort(
    (a, b) => a.burstId - b.burstId || cmpNum(b.excessRequests, a.excessRequests) || b.requests - a.requests || cmpStr(a.ip, b.ip),
  );
}

// ---------------------------------------------------------------------------
// Tables

export const BURSTS_COLUMNS: readonly string[] = [
  'burst_id', 'start', 'end', 'duration_s', 'requests', 'excess_requests', 'peak_rps', 'baseline_rps', 'distinct_ips',
  'attackers', 'score', 'verdict', 'reasons',
];

/** bursts.csv: one row per burst, by id; reasons joined with `; `. */
export function burstsCsv(result: AnalysisResult): string {
  return joinChunks(
    chunked(BURSTS_COLUMNS, sortBursts(result.bursts), (b) => [
      intNumber(b.burstId),
      isoSeconds(b.startMs),
      isoSeconds(b.endMs),
      intNumber(b.durationS),
      intNumber(b.requests),
      intNumber(b.excessRequests),
      fixedNumber(b.peakRps, FORMAT.rateDecimals),
      fixedNumber(b.baselineRps, FORMAT.rateDecimals),
      intNumber(b.distinctIps),
      intNumber(b.attackers),
      fixedNumber(b.score, FORMAT.scoreDecimals),
      text(b.verdict),
      text(b.reasons.join('; ')),
    ]),
  );
}

export const ATTACKERS_COLUMNS: readonly string[] = [
  'burst_id', 'ip', 'requests', 'excess_requests', 'first_seen', 'last_seen', 'prefix', 'asn', 'as_org', 'country',
  'top_path', 'top_user_agent',
];

/** attackers.csv in chunks of rows (header first): every attributed IP, most excess first within each burst. */
export function attackersCsvChunks(attackers: readonly Attacker[]): Generator<string> {
  return chunked(ATTACKERS_COLUMNS, sortAttackers(attackers), (a) => [
    intNumber(a.burstId),
    text(a.ip),
    intNumber(a.requests),
    intNumber(a.excessRequests),
    isoSeconds(a.firstSeenMs),
    isoSeconds(a.lastSeenMs),
    text(a.prefix),
    a.asn === null ? null : intNumber(a.asn),
    text(a.asOrg),
    text(a.country),
    text(a.topPath),
    text(a.topUserAgent),
  ]);
}

/** attackers.csv as one string (see `attackersCsvChunks`). */
export function attackersCsv(result: AnalysisResult): string {
  return joinChunks(attackersCsvChunks(result.attackers));
}

export const ASNS_COLUMNS: readonly string[] = ['burst_id', 'asn', 'as_org', 'ips', 'requests', 'share'];

/** asns.csv: per burst, most requests first. */
export function asnsCsv(result: AnalysisResult): string {
  return joinChunks(
    chunked(ASNS_COLUMNS, byBurstThenRequests<AsnRow>(result.asns, (r) => r.asn), (r) => [
      intNumber(r.burstId),
      r.asn === null ? null : intNumber(r.asn),
      text(r.asOrg),
      intNumber(r.ips),
      intNumber(r.requests),
      share(r.share),
    ]),
  );
}

export const COUNTRIES_COLUMNS: readonly string[] = ['burst_id', 'country', 'ips', 'requests', 'share'];

/** countries.csv: per burst, most requests first. */
export function countriesCsv(result: AnalysisResult): string {
  return joinChunks(
    chunked(COUNTRIES_COLUMNS, byBurstThenRequests<CountryRow>(result.countries, (r) => r.country), (r) => [
      intNumber(r.burstId),
      text(r.country),
      intNumber(r.ips),
      intNumber(r.requests),
      share(r.share),
    ]),
  );
}

export const PREFIXES_COLUMNS: readonly string[] = ['burst_id', 'prefix', 'asn', 'ips', 'requests', 'share'];

/** prefixes.csv: per burst, most requests first. */
export function prefixesCsv(result: AnalysisResult): string {
  return joinChunks(
    chunked(PREFIXES_COLUMNS, byBurstThenRequests<PrefixRow>(result.prefixes, (r) => r.prefix), (r) => [
      intNumber(r.burstId),
      text(r.prefix),
      r.asn === null ? null : intNumber(r.asn),
      intNumber(r.ips),
      intNumber(r.requests),
      share(r.share),
    ]),
  );
}

export const PATHS_COLUMNS: readonly string[] = ['burst_id', 'path', 'ips', 'requests', 'share', 'random_query_share'];

/** paths.csv: per burst, most requests first. */
export function pathsCsv(result: AnalysisResult): string {
  return joinChunks(
    chunked(PATHS_COLUMNS, byBurstThenRequests<PathRow>(result.paths, (r) => r.path), (r) => [
      intNumber(r.burstId),
      text(r.path),
      intNumber(r.ips),
      intNumber(r.requests),
      share(r.share),
      share(r.randomQueryShare),
    ]),
  );
}

export const USER_AGENTS_COLUMNS: readonly string[] = ['burst_id', 'user_agent', 'ips', 'requests', 'share', 'claimed_crawler'];

/** user_agents.csv: per burst, most requests first. */
export function userAgentsCsv(result: AnalysisResult): string {
  return joinChunks(
    chunked(USER_AGENTS_COLUMNS, byBurstThenRequests<UserAgentRow>(result.userAgents, (r) => r.userAgent), (r) => [
      intNumber(r.burstId),
      text(r.userAgent),
      intNumber(r.ips),
      intNumber(r.requests),
      share(r.share),
      text(r.claimedCrawler),
    ]),
  );
}

export const STATUSES_COLUMNS: readonly string[] = ['burst_id', 'status', 'ips', 'requests', 'share'];

/** statuses.csv: per burst, most requests first. */
export function statusesCsv(result: AnalysisResult): string {
  return joinChunks(
    chunked(STATUSES_COLUMNS, byBurstThenRequests<StatusRow>(result.statuses, (r) => r.status), (r) => [
      intNumber(r.burstId),
      intNumber(r.status),
      intNumber(r.ips),
      intNumber(r.requests),
      share(r.share),
    ]),
  );
}

/** Header of timeline.csv: the first column is `second` for 1-second buckets, `bucket_start` otherwise. */
export function timelineColumns(series: TimelineSeries): readonly string[] {
  return [series.bucketS === 1 ? 'second' : 'bucket_start', 'requests', 'distinct_ips', 's2xx', 's3xx', 's4xx', 's5xx', 'bytes'];
}

/** Number of buckets of a series (the shortest column, so a ragged series never reads past an end). */
export function timelineLength(series: TimelineSeries): number {
  return Math.min(
    series.requests.length, series.distinctIps.length, series.s2xx.length, series.s3xx.length, series.s4xx.length,
    series.s5xx.length, series.bytes.length,
  );
}

function* bucketIndexes(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/**
 * timeline.csv in chunks of rows (header first): every bucket, zeros included.
 * `distinct_ips` is empty where the series has NaN (no estimate at that bucket size).
 */
export function timelineCsvChunks(series: TimelineSeries): Generator<string> {
  const stepMs = series.bucketS * 1000;
  return chunked(timelineColumns(series), bucketIndexes(timelineLength(series)), (i) => [
    isoSeconds(series.startMs + i * stepMs),
    intNumber(series.requests[i] as number),
    intNumber(series.distinctIps[i] as number),
    intNumber(series.s2xx[i] as number),
    intNumber(series.s3xx[i] as number),
    intNumber(series.s4xx[i] as number),
    intNumber(series.s5xx[i] as number),
    intNumber(series.bytes[i] as number),
  ]);
}

/** timeline.csv as one string (see `timelineCsvChunks`). */
export function timelineCsv(result: AnalysisResult): string {
  return joinChunks(timelineCsvChunks(result.timeline));
}

// ---------------------------------------------------------------------------
// rejects.csv (streamed)

export const REJECTS_COLUMNS: readonly string[] = ['input', 'line', 'byte_offset', 'reason', 'excerpt'];

export interface RejectsCsvOptions {
  /** Input names by input index (`Reject.input`); the index is written when a name is missing. */
  readonly inputNames: readonly string[];
  /** Cap (code points) of the excerpt, applied before escaping; default `REJECT_EXCERPT_MAX_CHARS`. */
  readonly excerptMaxChars?: number | undefined;
}

/** Turns rejects into rejects.csv text piece by piece; holds nothing between calls. */
export interface RejectsCsvEncoder {
  /** The header row (write it once, first). */
  header(): string;
  /** Rows for these rejects, in the given order ('' for none). */
  rows(rejects: readonly Reject[]): string;
}

/**
 * Encoder for rejects.csv: `input, line, byte_offset, reason, excerpt`. The
 * excerpt (raw start of the line) is capped, then control and invisible
 * characters become visible escapes (`\x1b`) and a formula start gets `'`.
 */
export function createRejectsCsvEncoder(opts: RejectsCsvOptions): RejectsCsvEncoder {
  const max = opts.excerptMaxChars ?? REJECT_EXCERPT_MAX_CHARS;
  const names = opts.inputNames.map((n) => text(n) ?? '');
  return {
    header: (): string => csvRows([[...REJECTS_COLUMNS]]),
    rows: (rejects: readonly Reject[]): string =>
      csvRows(
        rejects.map((r) => [
          names[r.input] ?? intNumber(r.input),
          intNumber(r.line),
          intNumber(r.byteOffset),
          text(r.reason),
          text(r.excerpt, max),
        ]),
      ),
  };
}

/** rejects.csv as one string, for small inputs and tests (the CLI streams; see `openRejectsCsv`). */
export function rejectsCsv(rejects: readonly Reject[], opts: RejectsCsvOptions): string {
  const enc = createRejectsCsvEncoder(opts);
  return enc.header() + enc.rows(rejects);
}

// ---------------------------------------------------------------------------

/** The whole-string tables of the pack by file name (attackers and timeline included). */
export function analysisTables(result: AnalysisResult): ReadonlyArray<readonly [name: string, csv: string]> {
  return [
    ['bursts.csv', burstsCsv(result)],
    ['attackers.csv', attackersCsv(result)],
    ['asns.csv', asnsCsv(result)],
    ['countries.csv', countriesCsv(result)],
    ['prefixes.csv', prefixesCsv(result)],
    ['paths.csv', pathsCsv(result)],
    ['user_agents.csv', userAgentsCsv(result)],
    ['statuses.csv', statusesCsv(result)],
    ['timeline.csv', timelineCsv(result)],
  ];
}
