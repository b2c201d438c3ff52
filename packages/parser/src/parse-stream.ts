/**
 * Stream entry: bytes of one input → decodeInput (gzip by magic bytes) →
 * frameLines (blocks of whole lines) → the compiled line parser → batches.
 * The handle is itself async-iterable; `result()` gives the final accounting,
 * decode report and format once iteration has finished.
 */
import { decodeInput, encodingRefusedLines, newDecodeReport } from './decode-input.ts';
import type { DecodeOptions } from './decode-input.ts';
import { frameLines } from './frame-lines.ts';
import { ParseSession } from './parse-session.ts';
import type { DetectedFormat } from './parse-session.ts';
import type { Accounting, DecodeReport, ParsedChunk, ParseOptions } from './types.ts';

export interface ParseStreamOptions extends ParseOptions {
  /** Stop after this many decompressed bytes (input flagged `decompressed_limit`). */
  readonly maxDecompressedBytes?: number | undefined;
  /** Inflate gzip on a second thread while parsing (default true; inline when no worker can be started). */
  readonly inflateThread?: boolean | undefined;
  /**
   * Called with every piece of the decoded byte stream (after gunzip, before framing), in order,
   * with the decode report so far (its `compression` is known from the first piece on). The piece
   * may be reused once the call returns, so copy it there; a promise returned holds back the next
   * piece until it settles (backpressure).
   */
  readonly onDecoded?: ((piece: Uint8Array, report: Readonly<DecodeReport>) => void | Promise<void> | undefined) | undefined;
}

export interface ParseStreamResult {
  readonly accounting: Accounting;
  readonly decode: DecodeReport;
  readonly format: DetectedFormat;
}

export interface ParseStreamHandle extends AsyncIterable<ParsedChunk> {
  /** The batches, in input order (iterate once). */
  readonly chunks: AsyncIterable<ParsedChunk>;
  /** Final accounting, decode report and format; throws if called before the chunks are exhausted. */
  result(): ParseStreamResult;
}

/** The same pieces (the same objects: a leased gzip piece stays returnable), each shown to `see` first. */
async function* tap(src: AsyncIterable<Uint8Array>, see: NonNullable<ParseStreamOptions['onDecoded']>, report: DecodeReport): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const piece of src) {
    const wait = see(piece, report);
    yield piece;
    if (wait) await wait;
  }
}

/**
 * Parse one input stream. Errors (ALF_FORMAT_*, ALF_TZ_INVALID) surface when
 * iterating, except an invalid `--format`/`--tz`, which throws here at once.
 */
export function parseStream(src: AsyncIterable<Uint8Array>, opts: ParseStreamOptions = {}): ParseStreamHandle {
  const session = new ParseSession(opts);
  const decode = newDecodeReport();
  let done = false;
  const decodeOpts: DecodeOptions = {};
  if (opts.maxDecompressedBytes !== undefined) decodeOpts.maxDecompressedBytes = opts.maxDecompressedBytes;
  if (opts.inflateThread !== undefined) decodeOpts.inflateThread = opts.inflateThread;
  async function* run(): AsyncGenerator<ParsedChunk, void, undefined> {
    const decoded = decodeInput(src, decode, decodeOpts);
    const framed = frameLines(opts.onDecoded ? tap(decoded, opts.onDecoded, decode) : decoded, { maxLineBytes: opts.maxLineBytes ?? 1 << 20, lendBlocks: true });
    for await (const chunk of framed) {
      const out = session.push(chunk);
      for (const c of out) yield c;
    }
    const refused = encodingRefusedLines(decode);
    if (refused > 0) session.refuse(refused, decode.notes.find((n) => n.startsWith('encoding')) ?? 'input is not ASCII-compatible text');
    for (const c of session.end()) yield c;
    session.accounting.bytesRead = decode.bytesOut;
    done = true;
  }
  const chunks = run();
  return {
    chunks,
    [Symbol.asyncIterator]: () => chunks,
    result(): ParseStreamResult {
      if (!done) throw new Error('parseStream: result() called before the chunks were read to the end');
      return { accounting: session.accounting, decode, format: session.format ?? { id: 'none', matched: 0, sampled: 0 } };
    },
  };
}
