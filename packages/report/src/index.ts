export type { ArrowIpcKind, ArrowRecordOptions, ArrowIpcEncoder } from './arrow-records.ts';
export { recordSchema, ArrowRecordConverter, recordsToTable, createArrowIpcEncoder, arrowIpcChunks } from './arrow-records.ts';
export type { RecordColumn, RecordColumnKind, RecordRowOptions, CsvRecordEncoder } from './record-rows.ts';
export { RECORD_COLUMNS, extraColumnName, recordColumnNames, recordBatchToNdjson, createCsvRecordEncoder } from './record-rows.ts';
export {
  escapeControls, escapeTerminal, capLength, neutraliseCsvCell, csvStringifyCast, defang, escapeMarkdownInline,
  escapeXml, escapeSvgText, safeJsonStringify,
} from './escape.ts';
