/**
 * The one place the CLI meets the parser's stream entry: bytes of one input in,
 * parsed chunks out, then what the parser learnt (accounting, decoding, format).
 *
 * TODO(lead): the parser's `parseStream` had not landed when this was written;
 * this composes its public pieces (decodeInput → frameLines → ParseSession) the
 * same way, and accounts lines refused for encoding (UTF-16 input) as rejected
 * `encoding`. Swap the body of `parseInput` for `parseStream` when it exists.
 */
import { compileFormat, decodeInput, encodingRefusedLines, frameLines, isAlfError, newDecodeReport, ParseSession } from '@alf/parser';
import type { Accounting, DecodeReport, ParsedChunk, ParseOptions } from '@alf/parser';
import type { FormatChoice } from './summary.ts';

export interface InputParse {
  readonly chunks: AsyncIterable<ParsedChunk>;
  /** Final once `chunks` is exhausted. */
  result(): { accounting: Accounting; decode: DecodeReport | undefined; format: FormatChoice | undefined };
}

/** Parses one input's bytes (plain or gzip, found by magic bytes). Throws on a bad format or zone. */
export function parseInput(bytes: AsyncIterable<Uint8Array>, options: ParseOptions): InputParse {
  const decode = newDecodeReport();
  const session = new ParseSession(options);
  async function* chunks(): AsyncGenerator<ParsedChunk, void, undefined> {
    const framed = frameLines(decodeInput(bytes, decode), { maxLineBytes: options.maxLineBytes });
    for await (const chunk of framed) yield* session.push(chunk);
    yield* session.end();
  }
  return {
    chunks: chunks(),
    result: () => {
      const f = session.format;
      const format: FormatChoice | undefined = f === null ? undefined : {
        id: f.id,
        detected: options.format === undefined,
        sampleMatched: f.matched,
        sampleLines: f.sampled,
        tz: session.compiled?.spec.needsTz ? (options.tz ?? 'UTC') : undefined,
      };
      const refused = encodingRefusedLines(decode);
      const accounting: Accounting = { ...session.accounting, byReason: { ...session.accounting.byReason } };
      if (refused > 0) {
        accounting.linesRead += refused;
        accounting.rejected += refused;
        accounting.byReason.encoding += refused;
      }
      return { accounting, decode, format };
    },
  };
}

/**
 * Checks a `--format` value once, before any input is read: undefined when the
 * parser can compile it, else the parser's message (which names the presets
 * and suggests the closest one).
 */
export function formatProblem(format: string): string | undefined {
  try {
    compileFormat(format);
    return undefined;
  } catch (error) {
    if (isAlfError(error)) return error.message.replace(/^--format\b/, '`--format`');
    throw error;
  }
}
