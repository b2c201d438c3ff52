/** Record outputs of `alf parse`: Arrow IPC stream, Arrow IPC file, NDJSON, CSV. */
export const RECORD_OUTPUT_NAMES = ['arrow', 'arrow-file', 'ndjson', 'csv'] as const;
export type RecordOutput = (typeof RECORD_OUTPUT_NAMES)[number];
