/**
 * The one place the CLI meets the parser's stream entry (`parseStream`): bytes
 * of one input in (plain or gzip, found by magic bytes), parsed chunks out,
 * then what the parser learnt (accounting, decoding, format chosen).
 */
import { compileFormat, emptyAccounting, isAlfError, listFormats, parseStream } from '@alf/parser';
import type { Accounting, DecodeReport, ParsedChunk, ParseStreamOptions } from '@alf/parser';
import type { FormatChoice } from './summary.ts';

export interface InputResultParts {
  readonly accounting: Accounting;
  readonly decode: DecodeReport | undefined;
  readonly format: FormatChoice | undefined;
}

export interface InputParse {
  readonly chunks: AsyncIterable<ParsedChunk>;
  /** Final once `chunks` is exhausted; empty accounting if reading stopped early. */
  result(): InputResultParts;
}

/** True when the format's timestamps carry no offset, so `--tz` applies. */
function formatNeedsTz(id: string, given: string | undefined): boolean {
  try {
    if (given !== undefined) return compileFormat(given).spec.needsTz;
    return listFormats().find((f) => f.id === id)?.needsTz ?? false;
  } catch {
    return false;
  }
}

/** Parses one input's bytes. Throws at once on a bad `--format`/`--tz`; other errors come while iterating. */
export function parseInput(bytes: AsyncIterable<Uint8Array>, options: ParseStreamOptions): InputParse {
  const handle = parseStream(bytes, options);
  return {
    chunks: handle.chunks,
    result: () => {
      let final;
      try {
        final = handle.result();
      } catch {
        return { accounting: emptyAccounting(), decode: undefined, format: undefined };
      }
      const f = final.format;
      const format: FormatChoice = {
        id: f.id,
        detected: options.format === undefined,
        sampleMatched: f.matched,
        sampleLines: f.sampled,
        tz: f.id !== 'none' && formatNeedsTz(f.id, options.format) ? (options.tz ?? 'UTC') : undefined,
      };
      return { accounting: final.accounting, decode: final.decode, format };
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
