/**
 * Contracts of @alf/parser. Every other package reads records through these
 * types, so change them by adding, not by renaming.
 */

/** Why a line was not turned into a record. Stable codes: they appear in rejects.csv. */
export type RejectReason =
  | 'empty' // blank line (only whitespace)
  | 'field_count' // the line does not have the fields the format expects
  | 'bad_time' // timestamp missing, malformed or impossible (31/Feb, 25:61:61, +9999)
  | 'bad_ip' // client field is not a canonical IP nor a host name (010.8.8.8, 127.1, 1.2.3.4:8080)
  | 'bad_status' // status not a 3-digit code 100..599
  | 'bad_bytes' // byte count not a non-negative integer or '-' (or above 2^53)
  | 'bad_request' // request line could not be split at all (kept as raw when possible)
  | 'bad_json' // JSON-lines format: not a JSON object
  | 'line_too_long' // longer than the line cap; skipped to the next newline without buffering
  | 'encoding'; // input is not ASCII-compatible text (UTF-16, binary)

export const REJECT_REASONS: readonly RejectReason[] = [
  'empty', 'field_count', 'bad_time', 'bad_ip', 'bad_status', 'bad_bytes',
  'bad_request', 'bad_json', 'line_too_long', 'encoding',
];

/** Something wrong with a whole input, not with one line. */
export type InputFlag =
  | 'truncated' // gzip stream ended before its trailer
  | 'trailing_garbage' // bytes after the last gzip member that are not a gzip member
  | 'crc_error' // gzip CRC32 or ISIZE mismatch
  | 'encoding' // input looks like UTF-16 or binary; lines refused
  | 'decompressed_limit' // stopped at --max-decompressed-bytes: partial result
  | 'changed'; // size or content changed while being read

/** A dictionary-encoded string column: `values[ids[i]]`, or null where `ids[i] === -1`. */
export interface DictColumn {
  readonly ids: Int32Array;
  readonly values: readonly string[];
}

/** Client field kind, per row. */
export const IP_KIND_HOSTNAME = 0;
export const IP_KIND_V4 = 4;
export const IP_KIND_V6 = 6;

/**
 * One batch of parsed records as columns. Maps one-to-one onto an Arrow
 * RecordBatch: typed arrays become primitive vectors, DictColumns become
 * Dictionary<Utf8, Int32> vectors. Each batch has its own dictionaries (memory
 * stays bounded however many distinct values the input has).
 * Typed arrays may be longer than `length` (growth by doubling): read only [0, length).
 */
export interface RecordBatch {
  readonly length: number;
  /** UTC epoch milliseconds. */
  readonly ts: Float64Array;
  /** HTTP status, 0 when the format has none. */
  readonly status: Uint16Array;
  /** Response body bytes ($body_bytes_sent, %b); NaN for '-' or absent. */
  readonly bytesSent: Float64Array;
  /** Request duration in ms ($request_time, %D, %T); NaN when absent. */
  readonly durationMs: Float64Array;
  /** Upstream response time in ms (sum over upstreams); NaN when absent. */
  readonly upstreamMs: Float64Array;
  /** Canonical client address (IPv4-mapped IPv6 → IPv4, zone id stripped) or host name. */
  readonly ip: DictColumn;
  /** IP_KIND_V4, IP_KIND_V6 or IP_KIND_HOSTNAME per row. */
  readonly ipKind: Uint8Array;
  readonly method: DictColumn;
  /** Path part of the request target, without the query string. */
  readonly path: DictColumn;
  /** Query string without the '?', null when none. */
  readonly query: DictColumn;
  readonly protocol: DictColumn;
  readonly referer: DictColumn;
  readonly userAgent: DictColumn;
  readonly vhost: DictColumn;
  readonly user: DictColumn;
  /** Raw X-Forwarded-For value when the format has it. */
  readonly forwardedFor: DictColumn;
  /** Format variables alf has no column for (named by the variable, e.g. `ssl_protocol`). */
  readonly extra: ReadonlyMap<string, DictColumn>;
  /** Index of the input (position in the caller's input list). */
  readonly input: Uint16Array;
  /** 1-based line number within the (decompressed) input. */
  readonly line: Float64Array;
  /** Byte offset of the line's first byte within the decompressed input. */
  readonly byteOffset: Float64Array;
}

/** A line that was not parsed: citable by input, line and byte offset. */
export interface Reject {
  readonly input: number;
  readonly line: number;
  readonly byteOffset: number;
  readonly reason: RejectReason;
  /** What went wrong, in words (e.g. "status `abc` is not a number"). */
  readonly detail: string;
  /** The start of the raw line (capped, decoded leniently); escape before display. */
  readonly excerpt: string;
}

/** What the parser yields: records plus the rejects among the same lines. */
export interface ParsedChunk {
  readonly records: RecordBatch;
  readonly rejects: readonly Reject[];
}

/** Exact line accounting for one input or a sum of inputs. linesRead = parsed + rejected. */
export interface Accounting {
  linesRead: number;
  parsed: number;
  rejected: number;
  byReason: Record<RejectReason, number>;
  /** Bytes after decompression. */
  bytesRead: number;
}

/** A format, compiled once at start-up into a specialised line parser. */
export interface FormatSpec {
  /** Preset id (`combined`, `nginx_main`, …) or `nginx:<log_format>` / `apache:<LogFormat>` / `json`. */
  readonly id: string;
  readonly description: string;
  /** The format string this spec was compiled from, when there is one. */
  readonly source?: string;
  /** Real or representative lines the format must parse (tests parse them all). */
  readonly sampleLines: readonly string[];
  /** True when timestamps carry no offset and `tz` applies. */
  readonly needsTz: boolean;
}

/**
 * String columns a caller may leave unfilled (`ParseOptions.columns`); `extra`
 * stands for every format-specific extra column. `ip` is always filled (the
 * client is validated anyway), and so are the numeric columns.
 */
export type StringColumn =
  | 'method' | 'path' | 'query' | 'protocol' | 'referer' | 'userAgent' | 'vhost' | 'user' | 'forwardedFor' | 'extra';

export const STRING_COLUMNS: readonly StringColumn[] = [
  'method', 'path', 'query', 'protocol', 'referer', 'userAgent', 'vhost', 'user', 'forwardedFor', 'extra',
];

export interface ParseOptions {
  /** Preset name, nginx log_format or Apache LogFormat string; undefined = auto-detect. */
  readonly format?: string | undefined;
  /** IANA zone or ±HH:MM for formats without offsets (default UTC). */
  readonly tz?: string | undefined;
  /** Maximum line length in bytes (default 1 MiB). */
  readonly maxLineBytes?: number | undefined;
  /** Rows per batch (default 8192). */
  readonly batchRows?: number | undefined;
  /** Index of this input, copied into every row's `input` column. */
  readonly inputIndex?: number | undefined;
  /**
   * String columns to fill (default: all). The others come out null on every
   * row (ids -1, no dictionary values), and the parser skips their interning:
   * a pass that needs only time, client, status and bytes passes `[]`. Lines
   * are parsed, rejected and counted exactly as with every column.
   */
  readonly columns?: readonly StringColumn[] | undefined;
  /**
   * Time ranges `[fromMs, toMs)` (UTC epoch ms) whose rows get every string
   * column: a row whose time lies in one of them is filled as with no
   * `columns`, any other row as `columns` says (the columns it leaves out come
   * out null on that row, and are not interned). A pass that needs the strings
   * of a few time windows only (burst windows) passes them here with
   * `columns: []`. Dictionaries then hold the values of the rows in the ranges.
   * Without `columns` this changes nothing.
   */
  readonly allColumnsWithin?: readonly (readonly [number, number])[] | undefined;
  /**
   * Only the rows whose time lies in these ranges `[fromMs, toMs)` are
   * wanted (with every string column; or, when `allColumnsWithin` is given
   * too, every string column for the wanted rows in those ranges and the
   * others as `columns` says). A line whose time is read and found outside every range is
   * skipped as soon as it is: neither a record nor a reject, whatever the rest
   * of it holds. Every other line is parsed and rejected as usual, so the
   * records are exactly those of a full parse that lie in the ranges, but the
   * rejects only some, and `accounting` counts every line in `linesRead`
   * and `bytesRead`, the skipped ones in neither `parsed` nor `rejected`.
   * For a pass that needs only a few time windows of the input once another
   * pass has counted and rejected its lines.
   */
  readonly rowsWithin?: readonly (readonly [number, number])[] | undefined;
}

/**
 * Framing output (bytes → lines): a run of whole lines cut from one input.
 * `text` is the same bytes decoded as latin1, so a string index is a byte index
 * and line parsers can scan with indexOf/charCodeAt; fields holding bytes ≥ 0x80
 * are re-decoded as UTF-8 from `bytes`. Lines end with '\n' (a trailing '\r' is
 * part of the line and stripped by the line parser), except possibly the input's
 * very last line.
 */
export interface LineBlock {
  readonly kind: 'lines';
  readonly bytes: Uint8Array;
  readonly text: string;
  /** Line number of the block's first line (1-based). */
  readonly firstLine: number;
  /** Byte offset of bytes[0] within the decompressed input. */
  readonly baseOffset: number;
  /** Number of lines in the block. */
  readonly lineCount: number;
  /**
   * `bytes` is a view of a decoder's buffer that is filled again once the consumer asks for the
   * next chunk (`FrameOptions.lendBlocks`): copy whatever is kept past that (`keepBlock`).
   */
  readonly lent?: boolean;
}

/** A line longer than the cap: skipped to the next newline, never buffered whole. */
export interface SkippedLine {
  readonly kind: 'too_long';
  readonly line: number;
  readonly byteOffset: number;
  /** Length in bytes without the newline. */
  readonly length: number;
  /** The line's first bytes, for the reject excerpt. */
  readonly head: Uint8Array;
}

export type FramedChunk = LineBlock | SkippedLine;

/** How an input was decoded; filled in while streaming, final when the stream ends. */
export interface DecodeReport {
  compression: 'none' | 'gzip';
  /** gzip members seen. */
  members: number;
  /** Bytes read from the source (compressed). */
  bytesIn: number;
  /** Bytes after decompression. */
  bytesOut: number;
  flags: InputFlag[];
  /** Human-readable notes on flags (where the damage is). */
  notes: string[];
}
