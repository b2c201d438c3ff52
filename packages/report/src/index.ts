export type { ArrowIpcKind, ArrowRecordOptions, ArrowIpcEncoder } from './arrow-records.ts';
export { recordSchema, ArrowRecordConverter, recordsToTable, createArrowIpcEncoder, arrowIpcChunks } from './arrow-records.ts';
export type { RecordColumn, RecordColumnKind, RecordRowOptions, CsvRecordEncoder } from './record-rows.ts';
export { RECORD_COLUMNS, extraColumnName, recordColumnNames, recordBatchToNdjson, createCsvRecordEncoder } from './record-rows.ts';
export {
  escapeControls, escapeTerminal, capLength, neutraliseCsvCell, csvStringifyCast, defang, escapeMarkdownInline, escapeMarkdownTrusted,
  escapeXml, escapeSvgText, safeJsonStringify,
} from './escape.ts';
export type {
  PackStatus, JsonValue, JsonObject, ManifestInput, ManifestFile, PackManifest, ManifestParts,
} from './manifest.ts';
export {
  MANIFEST_NAME, PACK_FORMAT, PACK_FORMAT_VERSION, buildManifest, serializeManifest, canonicalJson, parseManifest,
} from './manifest.ts';
export type {
  PackFileHandle, PackIo, PackOptions, PackFileEntry, PackRunInfo, PackFinishInfo, PackWriter,
} from './pack-writer.ts';
export { createPack, validatePackPath, PackFileStream } from './pack-writer.ts';
export type { VerifyOptions, VerifyChangedFile, VerifyInputResult, VerifyResult } from './verify.ts';
export { verifyPack } from './verify.ts';
export type { AnalysisPackInput, PackClientAddress, PackInputSummary, PackRunOptions, PackVhostFilter } from './types.ts';
export type { RejectsCsvEncoder, RejectsCsvOptions } from './pack-tables.ts';
export {
  FORMAT, CSV_TEXT_MAX_CHARS, REJECT_EXCERPT_MAX_CHARS, BURSTS_COLUMNS, ATTACKERS_COLUMNS, ASNS_COLUMNS, COUNTRIES_COLUMNS,
  PREFIXES_COLUMNS, PATHS_COLUMNS, USER_AGENTS_COLUMNS, STATUSES_COLUMNS, REJECTS_COLUMNS, isoSeconds, fixedNumber,
  intNumber, sortBursts, sortAttackers, byBurstThenRequests, burstsCsv, attackersCsv, attackersCsvChunks, asnsCsv,
  countriesCsv, prefixesCsv, pathsCsv, userAgentsCsv, statusesCsv, timelineColumns, timelineLength, timelineCsv,
  timelineCsvChunks, createRejectsCsvEncoder, rejectsCsv, analysisTables,
} from './pack-tables.ts';
export {
  SUMMARY_TOP_ROWS, SUMMARY_TEXT_MAX_CHARS, formatCount, formatPercent, formatDuration, formatBytes, renderSummaryMd,
} from './summary-md.ts';
export type { RejectsCsvSink } from './analysis-pack.ts';
export {
  ANALYSIS_PACK_FILES, writeAnalysisPack, openRejectsCsv, analysisPackCounts, databaseManifestEntries,
} from './analysis-pack.ts';
export type { RecordEnrichment, RecordsSelection, RecordsArrowEncoder, PackRecordsInfo, RecordsArrowContent } from './records-pack.ts';
export {
  RECORDS_ARROW_FILE, RECORDS_ARROW_COLUMNS, recordsArrowSchema, createRecordsArrowEncoder, recordsBullet, readRecordsArrow,
} from './records-pack.ts';
export type { LineCitation, EvidenceHeaderInfo } from './evidence-lines.ts';
export { EVIDENCE_LINE_MAX_BYTES, escapeLogBytes, escapeLogText, evidenceLine, evidenceHeader } from './evidence-lines.ts';
export type { BlocklistOptions, BlockPrefix, Blocklist } from './blocklist.ts';
export {
  DEFAULT_BLOCKLIST_OPTIONS, aggregateAddresses, buildBlocklist, burstBlocklists, blocklistFileNames, blocklistTxt, blocklistNginx,
  blocklistNft, blocklistIpset, blocklistFiles,
} from './blocklist.ts';
export type { AbuseRow } from './abuse-csv.ts';
export { ABUSE_CSV_NAME, ABUSE_COLUMNS, abuseRows, abuseCsv, blocklistAndAbuseFiles } from './abuse-csv.ts';
export type { ChartFile } from './charts/pack-charts.ts';
export { analysisCharts } from './charts/pack-charts.ts';
export { TIMELINE_CHART_PATH, burstChartPaths, analysisChartFiles } from './charts/chart-files.ts';
