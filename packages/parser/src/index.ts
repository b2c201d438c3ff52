export type {
  RejectReason, InputFlag, DictColumn, RecordBatch, Reject, ParsedChunk, Accounting, FormatSpec, ParseOptions,
} from './types.ts';
export { REJECT_REASONS, IP_KIND_HOSTNAME, IP_KIND_V4, IP_KIND_V6 } from './types.ts';
