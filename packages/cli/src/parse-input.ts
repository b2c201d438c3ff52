/**
 * The one place the CLI meets the parser's stream entry: bytes of one input in,
 * parsed chunks out, then what the parser learnt (accounting, decoding, format).
 */
import { AlfError } from '@alf/parser';
import type { Accounting, DecodeReport, ParsedChunk, ParseOptions } from '@alf/parser';
import type { FormatChoice } from './summary.ts';

export interface InputParse {
  readonly chunks: AsyncIterable<ParsedChunk>;
  /** Final once `chunks` is exhausted. */
  result(): { accounting: Accounting; decode: DecodeReport | undefined; format: FormatChoice | undefined };
}

export function parseInput(_bytes: AsyncIterable<Uint8Array>, _options: ParseOptions): InputParse {
  // TODO: wire parseStream from @alf/parser once it lands.
  throw new AlfError('ALF_INTERNAL', 'the parser stream entry is not available yet');
}

/** Names `--format` accepts besides pasted format strings (empty: the parser decides). */
export function formatPresetNames(): readonly string[] {
  return [];
}
