/**
 * Contracts of @alf/core. Plain data only (numbers, strings, arrays, typed
 * arrays): the report package writes the evidence pack from these. Field names
 * follow the pack's CSV columns in camelCase (`burst_id` → `burstId`).
 * Times are UTC epoch milliseconds; `...S` fields are seconds.
 */

export type Verdict = 'attack' | 'flash_crowd' | 'crawl' | 'unclear';

/** Options of the whole analysis; every field has a default (see DEFAULT_ANALYSIS_OPTIONS). */
export interface AnalysisOptions {
  /** Bucket sizes (s) at which bursts are searched, finest first. */
  readonly scalesS?: readonly number[];
  /** A burst must carry at least this many requests above baseline. */
  readonly minExcessRequests?: number;
  /** ... and at least this many requests per second above baseline on average over its duration. */
  readonly minExcessRps?: number;
  /** A bucket is a candidate when its count is at least this multiple of the baseline. */
  readonly minRatio?: number;
  /** ... and at least this many robust standard deviations above it. */
  readonly minZ?: number;
  /** Bursts closer than this (s) are one event. */
  readonly mergeGapS?: number;
  /** A stretch without any request this long (s) is missing data, not zero traffic (default 1800). */
  readonly minGapS?: number;
  /** An attributed IP makes at least this many requests above its own expectation. */
  readonly minAttackerRequests?: number;
  /**
   * Per-window cap on IPs with per-IP detail (paths, agents, statuses, first/last seen; a
   * deterministic hash sample past it). Requests per IP, attribution and distinct_ips stay exact
   * for any number of IPs; attackers outside the sample get detail from `Analysis.detailPass`.
   */
  readonly maxIpsPerWindow?: number;
  /** Cap on IPs with detail summed over all windows (each window gets max(2,000, this / windows), at most maxIpsPerWindow). */
  readonly maxTrackedIps?: number;
  /** Per-IP cap on distinct paths kept for top-path and path clusters. */
  readonly maxPathsPerIp?: number;
  /** Bucket of `AnalysisResult.timeline` in seconds; 0 = automatic (60 s, coarser for long spans). */
  readonly timelineBucketS?: number;
}

/** A window found by pass 1 (timeline only); pass 2 attributes it. */
export interface BurstWindow {
  readonly startMs: number;
  /** Last second of the window (inclusive), as epoch ms of that second's start. */
  readonly endMs: number;
  readonly requests: number;
  readonly excessRequests: number;
  readonly peakRps: number;
  readonly baselineRps: number;
  /** Excess over baseline in units of its Poisson standard deviation. */
  readonly score: number;
  /** Finest scale (s) whose buckets flagged this window. */
  readonly scaleS: number;
  /** Every scale that flagged part of it. */
  readonly scalesS: readonly number[];
}

/**
 * bursts.csv. A window split into concurrent attacks gives one burst per attack:
 * its interval is its attackers' first to last request, excessRequests their
 * excess, requests = excess + the window's baseline over the interval, and
 * peakRps the peak of the whole timeline over the interval.
 */
export interface Burst {
  readonly burstId: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly durationS: number;
  readonly requests: number;
  readonly excessRequests: number;
  readonly peakRps: number;
  readonly baselineRps: number;
  readonly distinctIps: number;
  /** Number of attributed IPs (attackers.csv rows of this burst). */
  readonly attackers: number;
  readonly score: number;
  readonly scaleS: number;
  readonly verdict: Verdict;
  /** The reasons in words, most important first. */
  readonly reasons: readonly string[];
  /** Index (0-based) of the pass-1 window this burst came from; two bursts share it when a window was split. */
  readonly windowIndex: number;
  /** Share of excessRequests explained by the attributed IPs (0..1, can exceed 1 slightly). */
  readonly attributedShare: number;
}

/** attackers.csv */
export interface Attacker {
  readonly burstId: number;
  readonly ip: string;
  readonly requests: number;
  readonly excessRequests: number;
  /** Requests expected from this IP in the window, from its own rate in the reference periods. */
  readonly expectedRequests: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** True when the IP made no request in the reference periods. */
  readonly isNew: boolean;
  /**
   * `rate`: its requests are clearly above its own rate around the burst; `signature`: a light new IP
   * whose requests match the signature of the burst's botnet (wide botnets). Always set by core;
   * optional only so that hand-built fixtures written before it existed still type-check.
   */
  readonly attributedBy?: 'rate' | 'signature';
  readonly prefix: string | null;
  readonly asn: number | null;
  readonly asOrg: string | null;
  readonly country: string | null;
  /** null when the IP used more distinct paths than the per-IP cap. */
  readonly topPath: string | null;
  readonly topUserAgent: string | null;
}

interface ClusterShares {
  readonly burstId: number;
  readonly ips: number;
  readonly requests: number;
  /** Share of the burst's requests. */
  readonly share: number;
  /** Share of the burst's attributed excess. */
  readonly excessShare: number;
}

/** asns.csv */
export interface AsnRow extends ClusterShares {
  readonly asn: number | null;
  readonly asOrg: string | null;
}
/** countries.csv */
export interface CountryRow extends ClusterShares {
  readonly country: string | null;
}
/** prefixes.csv */
export interface PrefixRow extends ClusterShares {
  readonly prefix: string | null;
  readonly asn: number | null;
}
/** paths.csv. `path` is `(many paths)` for requests of IPs past the per-IP path cap. */
export interface PathRow extends ClusterShares {
  readonly path: string;
  /** Share of this path's requests whose query string looks random (cache busting). */
  readonly randomQueryShare: number;
}
/** user_agents.csv */
export interface UserAgentRow extends ClusterShares {
  readonly userAgent: string | null;
  /** Crawler the agent claims to be (`googlebot`, …) or null. */
  readonly claimedCrawler: string | null;
}
/** status codes of a burst. */
export interface StatusRow extends ClusterShares {
  readonly status: number;
}

export type ClusterRow = AsnRow | CountryRow | PrefixRow | PathRow | UserAgentRow | StatusRow;

/** timeline.csv as columns over consecutive buckets (zeros included). */
export interface TimelineSeries {
  readonly bucketS: number;
  /** Epoch ms of the first bucket; bucket i starts at startMs + i * bucketS * 1000. */
  readonly startMs: number;
  readonly requests: Float64Array;
  /** Distinct client IPs per bucket (HyperLogLog per minute; NaN when bucketS < 60). */
  readonly distinctIps: Float64Array;
  readonly s2xx: Float64Array;
  readonly s3xx: Float64Array;
  readonly s4xx: Float64Array;
  readonly s5xx: Float64Array;
  readonly bytes: Float64Array;
}

/** Where a number is not exact, and how far off it can be. */
export interface Approximation {
  /** What is approximate, e.g. `timeline.distinct_ips`, `burst 2 attackers`. */
  readonly what: string;
  readonly why: string;
  /** The bound in words, e.g. `±9% (1.04/sqrt(128))`. */
  readonly errorBound: string;
}

/** A note for the summary: something the tool saw or could not tell. */
export interface Finding {
  readonly code: 'burst' | 'split' | 'spoofed_crawler' | 'cap_hit' | 'no_time' | 'short_span' | 'data_gap';
  readonly burstId: number | null;
  readonly message: string;
}

export interface AnalysisResult {
  /** Records folded in (rows with a usable timestamp). */
  readonly records: number;
  /** Rows skipped because their timestamp was not finite. */
  readonly recordsWithoutTime: number;
  readonly firstMs: number | null;
  readonly lastMs: number | null;
  readonly windows: readonly BurstWindow[];
  readonly bursts: readonly Burst[];
  readonly attackers: readonly Attacker[];
  readonly asns: readonly AsnRow[];
  readonly countries: readonly CountryRow[];
  readonly prefixes: readonly PrefixRow[];
  readonly paths: readonly PathRow[];
  readonly userAgents: readonly UserAgentRow[];
  readonly statuses: readonly StatusRow[];
  readonly timeline: TimelineSeries;
  readonly findings: readonly Finding[];
  readonly approximations: readonly Approximation[];
}
