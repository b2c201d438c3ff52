/**
 * The one error type that crosses package boundaries. `code` is stable (the CLI
 * maps codes to exit statuses and tests match on it); `context` carries the
 * values a message needs (file, option, given value, expected values).
 */
export type AlfErrorCode =
  | 'ALF_USAGE' // bad option or argument
  | 'ALF_FORMAT_UNKNOWN' // --format names no preset and is not a format string
  | 'ALF_FORMAT_INVALID' // a pasted log_format / LogFormat string could not be compiled
  | 'ALF_FORMAT_UNDETECTED' // auto-detection found no format that fits the first lines
  | 'ALF_TZ_INVALID' // --tz is neither an IANA zone nor ±HH:MM
  | 'ALF_INPUT_UNREADABLE' // file missing, permission denied, a directory
  | 'ALF_OUTPUT_UNWRITABLE' // output directory/file cannot be written
  | 'ALF_GEO_DB_OPEN' // a database file failed to open or is not an MMDB
  | 'ALF_GEO_DB_UNSUPPORTED' // an MMDB without ASN or country fields
  | 'ALF_INTERNAL';

export class AlfError extends Error {
  readonly code: AlfErrorCode;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: AlfErrorCode, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlfError';
    this.code = code;
    this.context = context;
  }
}

export function isAlfError(e: unknown): e is AlfError {
  return e instanceof AlfError;
}
