export type { ArrowIpcKind, ArrowRecordOptions, ArrowIpcEncoder } from './arrow-records.ts';
export { recordSchema, ArrowRecordConverter, recordsToTable, createArrowIpcEncoder, arrowIpcChunks } from './arrow-records.ts';
export type { RecordColumn, RecordColumnKind, RecordRowOptions, CsvRecordEncoder } from './record-rows.ts';
export { RECORD_COLUMNS, extraColumnName, recordColumnNames, recordBatchToNdjson, createCsvRecordEncoder } from './record-rows.ts';
export {
  escapeControls, escapeTerminal, capLength, neutraliseCsvCell, csvStringifyCast, defang, escapeMarkdownInline,
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
