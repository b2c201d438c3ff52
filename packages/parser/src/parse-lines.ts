/**
 * Sync entry, for tests and small inputs: the whole input as one line block.
 */
import { Buffer } from 'node:buffer';
import { ParseSession } from './parse-session.ts';
import type { DetectedFormat } from './parse-session.ts';
import type { Accounting, LineBlock, ParsedChunk, ParseOptions } from './types.ts';
import { encodeUtf8 } from './utf8-text.ts';

export interface ParseLinesResult {
  readonly chunks: ParsedChunk[];
  readonly accounting: Accounting;
  readonly format: DetectedFormat;
}

/** Cut bytes into one LineBlock (the framing contract, without chunking). */
export function blockOf(bytes: Uint8Array, firstLine = 1, baseOffset = 0): LineBlock {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  let lines = 0;
  for (let p = text.indexOf('\n'); p >= 0; p = text.indexOf('\n', p + 1)) lines++;
  if (text.length > 0 && text.charCodeAt(text.length - 1) !== 10) lines++;
  return { kind: 'lines', bytes, text, firstLine, baseOffset, lineCount: lines };
}

/**
 * Parse a string (lines separated by '\n'), an array of lines, or raw bytes.
 * A UTF-8 byte-order mark at the start is skipped.
 */
export function parseLines(lines: string | readonly string[] | Uint8Array, opts: ParseOptions = {}): ParseLinesResult {
  let bytes: Uint8Array;
  if (typeof lines === 'string') bytes = encodeUtf8(lines);
  else if (lines instanceof Uint8Array) bytes = lines;
  else bytes = encodeUtf8(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  let base = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    bytes = bytes.subarray(3);
    base = 3;
  }
  const session = new ParseSession(opts);
  const chunks: ParsedChunk[] = [];
  if (bytes.length > 0) chunks.push(...session.push(blockOf(bytes, 1, base)));
  chunks.push(...session.end());
  session.accounting.bytesRead += base;
  return { chunks, accounting: session.accounting, format: session.format ?? { id: 'none', matched: 0, sampled: 0 } };
}
