/**
 * Bytes of one input → decoded bytes. gzip is found by its magic bytes
 * (1f 8b 08), never by file name; anything else passes through unchanged (the
 * same chunk objects, no copy). Fills a DecodeReport as it goes: compression,
 * members, bytes in and out, flags and notes saying where the damage is.
 *
 * UTF-16 input (byte-order mark FF FE / FE FF, or NUL in every other byte of
 * the first KB) is refused: flag `encoding`, nothing yielded, and its lines are
 * counted so the caller can account them as rejected `encoding`
 * (`encodingRefusedLines(report)`). A UTF-8 byte-order mark is noted and
 * passed on: `frameLines` skips it while keeping byte offsets exact.
 *
 * A yielded chunk is never rewritten, unless its consumer hands it back with
 * `releaseChunk` once it holds no view of it: then the gzip decoder (inline, or
 * on the inflate thread through its ring of shared slots) fills that buffer
 * again instead of allocating one. On the inflate thread a piece must be
 * released before the next one is read, or it is the consumer's for good (its
 * slot gets a new buffer).
 * `frameLines` does so for every decoded piece it keeps nothing of (an
 * over-long line being skipped, runs of short lines it copies), so a 1 GiB
 * line or a bomb goes through the same few 256 KiB buffers.
 */
import type { DecodeReport, InputFlag } from './types.ts';
import { GzipDecoder } from './gzip-decoder.ts';
import { openGzipThread } from './gzip-thread.ts';
import type { GzipThreadStream } from './gzip-thread.ts';

export interface DecodeOptions {
  /** Stop after this many decompressed bytes (flag `decompressed_limit`). Default: no limit. */
  maxDecompressedBytes?: number;
  /** Inflate gzip on a second thread while the caller parses (default true; falls back to inline when no worker starts). */
  inflateThread?: boolean;
}

export function newDecodeReport(): DecodeReport {
  return { compression: 'none', members: 0, bytesIn: 0, bytesOut: 0, flags: [], notes: [] };
}

const SNIFF_BYTES = 1024;

/** Decoded pieces lent to the consumer, by buffer: how each goes back to its decoder. */
const leases = new WeakMap<ArrayBufferLike, (piece: Uint8Array) => void>();

/** Marks a whole-buffer piece as returnable through `releaseChunk`. */
function lease(piece: Buffer, back: (piece: Uint8Array) => void): Buffer {
  if (piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength) leases.set(piece.buffer, back);
  return piece;
}

/**
 * Lends a whole buffer `piece` to the stream's consumer (as decoded gzip pieces are lent): `back`
 * gets it when the consumer hands it back with `releaseChunk`, to be filled again. For a source
 * that reads into a few buffers going round instead of a fresh one per read.
 */
export function lendChunk(piece: Buffer, back: (piece: Uint8Array) => void): Buffer {
  return lease(piece, back);
}

/** Whether `chunk` is a decoded piece `releaseChunk` would hand back to its decoder. */
export function isLeasedChunk(chunk: Uint8Array): boolean {
  return leases.has(chunk.buffer);
}

/**
 * Hands a chunk yielded by `decodeInput` back for reuse; the caller (and
 * everything it passed the chunk to) must hold no view of it any more. A chunk
 * that is not a decoded piece is left alone.
 */
export function releaseChunk(chunk: Uint8Array): void {
  const back = leases.get(chunk.buffer);
  if (back === undefined) return;
  leases.delete(chunk.buffer);
  back(chunk);
}
const REFUSED_NOTE = /; (\d+) lines? refused$/;

/**
 * Lines of an input refused for its encoding (UTF-16), from the report's
 * `encoding` note; 0 when the input was not refused.
 */
export function encodingRefusedLines(report: DecodeReport): number {
  if (!report.flags.includes('encoding')) return 0;
  for (const note of report.notes) {
    const m = note.startsWith('encoding:') ? REFUSED_NOTE.exec(note) : null;
    if (m) return Number(m[1]);
  }
  return 0;
}

export async function* decodeInput(
  src: AsyncIterable<Uint8Array>,
  report: DecodeReport,
  opts: DecodeOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const stage = new OutputStage(report, opts.maxDecompressedBytes ?? Number.POSITIVE_INFINITY);
  const it = src[Symbol.asyncIterator]();
  let exhausted = false;
  let decoder: GzipDecoder | null = null;
  let thread: GzipThreadStream | null = null;
  let head: Buffer | null = null; // first bytes, until there are 3 to sniff
  let sniffed = false;
  try {
    for (;;) {
      const r = await it.next();
      if (r.done === true) {
        exhausted = true;
        break;
      }
      const raw = r.value;
      if (raw.length === 0) continue;
      report.bytesIn += raw.length;
      let chunk = asBuffer(raw);
      if (!sniffed) {
        head = head === null ? chunk : Buffer.concat([head, chunk]);
        if (head.length < 3) continue;
        chunk = head;
        head = null;
        sniffed = true;
        if (chunk[0] === 0x1f && chunk[1] === 0x8b && chunk[2] === 0x08) {
          report.compression = 'gzip';
          if (opts.inflateThread !== false) thread = await openGzipThread(report);
          if (thread === null) decoder = new GzipDecoder(report);
        }
      }
      if (thread !== null) {
        // the rest of the input goes through the inflate thread
        thread.write(chunk);
        const t = thread;
        const feed = async (): Promise<boolean> => {
          if (exhausted) return false;
          for (;;) {
            const n = await it.next();
            if (n.done === true) {
              exhausted = true;
              t.end();
              return true;
            }
            if (n.value.length === 0) continue;
            report.bytesIn += n.value.length;
            t.write(n.value);
            return true;
          }
        };
        const back = (p: Uint8Array): void => t.release(p);
        for (;;) {
          const piece = t.poll() ?? (await t.next(feed));
          if (piece === null) break;
          const out = stage.push(lease(asBuffer(piece), back));
          if (out !== null) yield out;
          if (stage.stopped) break;
        }
        break;
      }
      if (decoder === null) {
        const out = stage.push(chunk);
        if (out !== null) yield out;
      } else {
        const d = decoder;
        const back = (p: Uint8Array): void => d.recycle(p);
        for (const piece of decoder.write(chunk)) {
          const out = stage.push(lease(piece, back));
          if (out !== null) yield out;
          if (stage.stopped) break;
        }
      }
      if (stage.stopped) break;
    }
    if (!stage.stopped && head !== null) {
      const out = stage.push(head);
      if (out !== null) yield out;
    }
    if (!stage.stopped && decoder !== null) {
      for (const piece of decoder.end()) {
        const out = stage.push(piece);
        if (out !== null) yield out;
        if (stage.stopped) break;
      }
    }
    const out = stage.end();
    if (out !== null) yield out;
  } finally {
    decoder?.close();
    thread?.close();
    if (!exhausted) await it.return?.();
  }
}

/**
 * Decoded bytes → what is yielded: applies the byte limit, sniffs the encoding
 * on the first KB (holding it back until then), counts bytesOut.
 */
class OutputStage {
  stopped = false;
  private readonly report: DecodeReport;
  private readonly limit: number;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private sniffed = false;
  private utf16: Utf16LineCounter | null = null;
  private encodingNote = -1;

  constructor(report: DecodeReport, limit: number) {
    this.report = report;
    this.limit = limit;
  }

  push(chunk: Buffer): Buffer | null {
    if (this.stopped || chunk.length === 0) return null;
    const room = this.limit - this.report.bytesOut;
    if (chunk.length > room) {
      this.stopped = true;
      this.flag('decompressed_limit', `decompressed_limit: stopped after ${this.limit} decompressed bytes (--max-decompressed-bytes); the rest of the input was not read, results are partial`);
      if (room <= 0) return null;
      chunk = chunk.subarray(0, room);
    }
    this.report.bytesOut += chunk.length;
    if (this.utf16 !== null) {
      this.utf16.add(chunk);
      return null;
    }
    if (this.sniffed) return chunk;
    if (this.heldBytes === 0 && chunk.length >= SNIFF_BYTES) return this.sniff(chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes < SNIFF_BYTES) return null;
    return this.flushHeld();
  }

  /** End of input: releases what was held for sniffing; finishes the encoding note. */
  end(): Buffer | null {
    const out = this.flushHeld();
    if (this.utf16 !== null && this.encodingNote >= 0) {
      const lines = this.utf16.lines();
      this.report.notes[this.encodingNote] += `; ${lines} ${lines === 1 ? 'line' : 'lines'} refused`;
      this.utf16 = null;
    }
    return out;
  }

  private flushHeld(): Buffer | null {
    if (this.heldBytes === 0) return null;
    const all = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    return this.sniff(all);
  }

  private sniff(first: Buffer): Buffer | null {
    this.sniffed = true;
    const enc = detectUtf16(first);
    if (enc !== null) {
      this.flag('encoding', `encoding: input is ${enc.name} (${enc.why}), not ASCII-compatible text; nothing parsed`);
      this.encodingNote = this.report.notes.length - 1;
      this.utf16 = new Utf16LineCounter(enc.bigEndian);
      this.utf16.add(first);
      return null;
    }
    if (first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf) {
      this.report.notes.push('UTF-8 byte-order mark EF BB BF at byte 0: not part of line 1 (frameLines skips it; byte offsets still count it)');
    }
    return first;
  }

  private flag(flag: InputFlag, note: string): void {
    if (!this.report.flags.includes(flag)) this.report.flags.push(flag);
    this.report.notes.push(note);
  }
}

interface Utf16Guess {
  name: 'UTF-16LE' | 'UTF-16BE';
  bigEndian: boolean;
  why: string;
}

/** UTF-16 by byte-order mark, or by NUL in (nearly) every other byte of the first KB. */
function detectUtf16(first: Uint8Array): Utf16Guess | null {
  if (first.length >= 2) {
    if (first[0] === 0xff && first[1] === 0xfe) return { name: 'UTF-16LE', bigEndian: false, why: 'byte-order mark FF FE' };
    if (first[0] === 0xfe && first[1] === 0xff) return { name: 'UTF-16BE', bigEndian: true, why: 'byte-order mark FE FF' };
  }
  const pairs = Math.min(first.length, SNIFF_BYTES) >> 1;
  if (pairs < 2) return null;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < pairs; i++) {
    if (first[2 * i] === 0) evenNul++;
    if (first[2 * i + 1] === 0) oddNul++;
  }
  const many = pairs * 0.9;
  const few = pairs * 0.1;
  const why = `NUL in every other byte of the first ${pairs * 2} bytes`;
  if (oddNul >= many && evenNul <= few) return { name: 'UTF-16LE', bigEndian: false, why };
  if (evenNul >= many && oddNul <= few) return { name: 'UTF-16BE', bigEndian: true, why };
  return null;
}

/** Counts the lines of UTF-16 text (code unit U+000A ends a line; a last line without one counts). */
class Utf16LineCounter {
  private readonly bigEndian: boolean;
  private newlines = 0;
  private units = 0;
  private lastUnit = -1;
  private pendingByte = -1;
  private bomSeen = false;

  constructor(bigEndian: boolean) {
    this.bigEndian = bigEndian;
  }

  add(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    if (this.pendingByte >= 0 && n > 0) {
      this.unit(this.pendingByte, chunk[0]!);
      this.pendingByte = -1;
      i = 1;
    }
    for (; i + 1 < n; i += 2) this.unit(chunk[i]!, chunk[i + 1]!);
    if (i < n) this.pendingByte = chunk[i]!;
  }

  lines(): number {
    const content = this.units - (this.bomSeen ? 1 : 0) + (this.pendingByte >= 0 ? 1 : 0);
    if (content <= 0) return 0;
    const unterminated = this.pendingByte >= 0 || this.lastUnit !== 0x0a;
    return this.newlines + (unterminated ? 1 : 0);
  }

  private unit(b0: number, b1: number): void {
    const u = this.bigEndian ? (b0 << 8) | b1 : (b1 << 8) | b0;
    if (this.units === 0 && u === 0xfeff) this.bomSeen = true;
    this.units++;
    if (u === 0x0a) this.newlines++;
    this.lastUnit = u;
  }
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
