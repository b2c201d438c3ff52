export type {
  Verdict, AnalysisOptions, BurstWindow, Burst, Attacker, AsnRow, CountryRow, PrefixRow, PathRow, UserAgentRow, StatusRow,
  ClusterRow, TimelineSeries, Approximation, Finding, AnalysisResult,
} from './types.ts';
export type { Analysis, Attribution, ResolvedOptions, AnalysisSnapshot, AttributionSnapshot, AttributionPlan } from './analysis.ts';
export type { WindowCountsSnapshot, WindowDetail, IpWindowStats, WindowAggregate } from './window-counts.ts';
export type { IpCountsSnapshot, CountsSpill } from './ip-counts.ts';
export type { CountRun } from './count-runs.ts';
export type { TimelineSnapshot } from './timeline.ts';
export { hashString } from './hash.ts';
export { createAnalysis, attributionFromPlan, analyze, resolveOptions, referencePeriods, detailIpsPerWindow, detailPassIps, attributionBuffers, DEFAULT_ANALYSIS_OPTIONS } from './analysis.ts';
export { detectBursts } from './detect-bursts.ts';
export { Timeline } from './timeline.ts';
export {
  isAssetPath, isRandomQuery, refererClass, refererHost, claimedCrawler, uaKind, crawlerAsnMatches, isHostingNetwork, CRAWLER_ASNS,
} from './request-traits.ts';
export { ClientSet, DEFAULT_CLIENT_SET_OPTIONS, compareIpv6Words, type ClientSetOptions, type ClientSetSnapshot } from './client-set.ts';
export { burstSeries, type BurstSeries } from './burst-series.ts';
export {
  trustedProxies, resolveClients, walkForwardedFor, forwardedEntry, type ProxyMatcher, type ResolvedClients,
} from './client-address.ts';
export { vhostFilter, filterByVhost, vhostHost, type VhostMatcher, type VhostFiltered } from './vhost-filter.ts';
export { selectRows } from './select-rows.ts';
// SQL engine (ClickHouse): query text, table schema and state builders (pure).
export {
  SQL_FIELDS, ALF_COLUMNS, resolveColumns, parseColumnMapping, quoteIdent, quoteTable, sqlString,
  assetExpr, randomQueryExpr, refHostExpr, refClassExpr, ipKindExpr, ipHashExpr, type SqlField, type SqlColumns,
} from './sql/columns.ts';
export {
  totalsQuery, timelineQuery, ipSketchQuery, insideIpsQuery, insideStatusesQuery, insidePathsQuery, insideAgentsQuery,
  refererHostsQuery, refererTotalQuery, referenceTotalsQuery, hashLevelsQuery, insideSampledOutQuery, ipCountsQuery,
  type SqlQuery, type SqlWindowRange, type IpSelection,
} from './sql/queries.ts';
export {
  buildAnalysisSnapshot, buildWindowState, buildDetailWindow, buildIpDetail, buildAttributionSnapshot, fetchLimit, IpCountsBuilder,
  type SqlRow, type WindowRows, type IpDetailRows, type SqlWindowState,
} from './sql/build-state.ts';
export { ALF_TABLE_COLUMNS, createLocalTableSql, createDistributedTableSql, insertSql, batchRowsSql } from './sql/schema.ts';
export { ipHash, pathAsset, queryRandom, refererTraits } from './sql/row-traits.ts';
