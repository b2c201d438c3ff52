export type {
  RejectReason, InputFlag, DictColumn, StringColumn, RecordBatch, Reject, ParsedChunk, Accounting, FormatSpec, ParseOptions,
  LineBlock, SkippedLine, FramedChunk, DecodeReport,
} from './types.ts';
export { REJECT_REASONS, STRING_COLUMNS, IP_KIND_HOSTNAME, IP_KIND_V4, IP_KIND_V6 } from './types.ts';
export type { AlfErrorCode } from './errors.ts';
export { AlfError, isAlfError } from './errors.ts';
export type { ParseLinesResult } from './parse-lines.ts';
export { parseLines } from './parse-lines.ts';
export type { ParseStreamHandle, ParseStreamOptions, ParseStreamResult } from './parse-stream.ts';
export { parseStream } from './parse-stream.ts';
export type { DetectedFormat } from './parse-session.ts';
export { ParseSession, emptyAccounting } from './parse-session.ts';
export type { CompiledFormat, CompileOptions } from './compile-format.ts';
export { compileFormat, listFormats } from './compile-format.ts';
export type { CanonicalIp } from './ip-address.ts';
export { canonicalIp } from './ip-address.ts';
export type { TimeZone } from './time-zone.ts';
export { resolveTimeZone } from './time-zone.ts';
export type { RecordRow } from './record-rows.ts';
export { recordAt, recordRows } from './record-rows.ts';
export type { DecodeOptions } from './decode-input.ts';
export { decodeInput, newDecodeReport, encodingRefusedLines, lendChunk } from './decode-input.ts';
export { readLent } from './read-lent.ts';
export type { ReadLentOptions } from './read-lent.ts';
export type { FrameOptions } from './frame-lines.ts';
export { frameLines, LineFramer, DEFAULT_MAX_LINE_BYTES, DEFAULT_TARGET_BLOCK_BYTES, SKIPPED_HEAD_BYTES } from './frame-lines.ts';
