export type { ArrowIpcKind, ArrowRecordOptions, ArrowIpcEncoder } from './arrow-records.ts';
export { recordSchema, ArrowRecordConverter, recordsToTable, createArrowIpcEncoder, arrowIpcChunks } from './arrow-records.ts';
export type { RecordColumn, RecordColumnKind, RecordRowOptions, CsvRecordEncoder } from './record-rows.ts';
export { RECORD_COLUMNS, extraColumnName, recordColumnNames, recordBatchToNdjson, createCsvRecordEncoder } from './record-rows.ts';
