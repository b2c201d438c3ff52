export type {
  RejectReason, InputFlag, DictColumn, RecordBatch, Reject, ParsedChunk, Accounting, FormatSpec, ParseOptions,
  LineBlock, SkippedLine, FramedChunk, DecodeReport,
} from './types.ts';
export { REJECT_REASONS, IP_KIND_HOSTNAME, IP_KIND_V4, IP_KIND_V6 } from './types.ts';
export type { AlfErrorCode } from './errors.ts';
export { AlfError, isAlfError } from './errors.ts';
