/**
 * Streaming gzip (RFC 1952) reader: members, headers and trailers parsed here,
 * deflate data inflated by RawInflater, CRC32 and ISIZE checked with
 * `zlib.crc32`. Reads multi-member files to the end, accepts NUL padding after
 * a member, and on damage keeps every byte decoded before it:
 *   - input ends inside a member            → `truncated`
 *   - bytes after a member that are not one → `trailing_garbage`
 *   - CRC32/ISIZE/header CRC mismatch, or corrupt deflate data → `crc_error`
 * Output comes out in full buffers of `outBytes` (the last one may be shorter);
 * a yielded buffer is never written again, so consumers may keep it, unless
 * they hand it back with `recycle` once done with it (then the decoder fills
 * it again instead of allocating: a 1 GiB line or a bomb churns no memory).
 * With the `acquire` option the buffers come from the caller instead (the
 * inflate worker's ring of shared slots), who decides when one is reused.
 */
import zlib from 'node:zlib';
import type { DecodeReport, InputFlag } from './types.ts';
import { RawInflater } from './gzip-inflate-raw.ts';

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;

// Reader states.
const MAGIC = 0; // at a member boundary: expecting 1f 8b 08, NUL padding, or the end
const PADDING = 1; // inside NUL padding after a member
const HEADER = 2; // fixed 10-byte header
const EXTRA_LEN = 3;
const EXTRA = 4;
const NAME = 5;
const COMMENT = 6;
const HEADER_CRC = 7;
const BODY = 8; // deflate data
const TRAILER = 9; // CRC32 + ISIZE
const GARBAGE = 10; // not gzip: counted, ignored
const FAILED = 11; // corrupt deflate data: the rest is unreadable

const STATE_WHERE = ['', '', 'header', 'header', 'header', 'header (file name)', 'header (comment)', 'header', 'deflate data', 'trailer', '', ''];

/** Notes kept per flag; the rest are summed up in one more note at the end. */
const NOTES_PER_FLAG = 10;

/** Default size of the output buffers: small enough that the few in flight stay far under the 1 MiB line cap. */
export const DEFAULT_OUT_BYTES: number = 256 * 1024;

/** Bytes per inflate call: bounds what a corrupt-data error can take with it. */
const CALL_OUT_BYTES = 64 * 1024;

export interface GzipDecoderOptions {
  /** Size of the output buffers (default 256 KiB). */
  outBytes?: number;
  /**
   * Where output buffers come from (each `outBytes` long). Called only after
   * the previous buffer was yielded, so a ring of slots can hand out the next
   * one. Default: a buffer handed back with `recycle`, else a new one.
   */
  acquire?: () => Buffer;
}

/** Output buffers handed back and kept for reuse, at most. */
const MAX_FREE = 8;

/** No output buffer taken yet (one is taken when the first byte is inflated). */
const EMPTY: Buffer = Buffer.alloc(0);

export class GzipDecoder {
  private readonly report: DecodeReport;
  private readonly outBytes: number;
  private readonly inflater = new RawInflater();

  private state = MAGIC;
  /** Compressed offset of the current chunk's first byte. */
  private chunkOffset = 0;
  /** Small fixed-size fields (magic, header, XLEN, header CRC, trailer) are gathered here. */
  private readonly field = Buffer.alloc(10);
  private fieldFill = 0;
  private flags = 0;
  private extraLeft = 0;
  private headerCrc = 0;

  private memberStart = 0;
  private memberCrc = 0;
  private memberBytes = 0;
  private garbageStart = -1;
  private garbageBytes = 0;
  private garbageWhy = '';
  private readonly noted = new Map<InputFlag, number>();

  private out: Buffer = EMPTY;
  private outPos = 0;
  private outStart = 0;
  /** Output buffers handed back by the consumer (`recycle`). */
  private readonly free: Buffer[] = [];
  private readonly acquire: () => Buffer;

  constructor(report: DecodeReport, opts: GzipDecoderOptions = {}) {
    this.report = report;
    this.outBytes = Math.max(1024, opts.outBytes ?? DEFAULT_OUT_BYTES);
    // never from Buffer's shared pool: a yielded buffer is a whole ArrayBuffer, so it can be handed back and filled again
    this.acquire = opts.acquire ?? ((): Buffer => this.free.pop() ?? Buffer.allocUnsafeSlow(this.outBytes));
  }

  /**
   * Hands back a buffer this decoder yielded, once nothing reads it any more:
   * it is filled again. Anything else (a partial view, another size) is ignored.
   */
  recycle(buf: Uint8Array): void {
    if (buf.byteOffset !== 0 || buf.buffer.byteLength !== this.outBytes || this.free.length >= MAX_FREE) return;
    this.free.push(Buffer.from(buf.buffer, 0, this.outBytes));
  }

  /** Feeds one chunk of compressed bytes; yields full output buffers. */
  *write(chunk: Buffer): Generator<Buffer, void, undefined> {
    const len = chunk.length;
    let p = 0;
    while (p < len) {
      switch (this.state) {
        case MAGIC: {
          const b = chunk[p]!;
          if (this.fieldFill === 0 && b === 0) {
            this.state = PADDING;
            break;
          }
          const want = this.fieldFill === 0 ? 0x1f : this.fieldFill === 1 ? 0x8b : 0x08;
          if (b !== want) {
            this.startGarbage(this.chunkOffset + p - this.fieldFill, this.chunkOffset + p, `byte 0x${hex(b, 2)} where a gzip member or NUL padding was expected`);
            break;
          }
          this.field[this.fieldFill++] = b;
          p++;
          if (this.fieldFill === 3) {
            this.memberStart = this.chunkOffset + p - 3;
            this.report.members++;
            this.state = HEADER;
          }
          break;
        }
        case PADDING: {
          while (p < len && chunk[p] === 0) p++;
          if (p < len) this.state = MAGIC;
          break;
        }
        case HEADER: {
          p = this.gather(chunk, p, 10);
          if (this.fieldFill < 10) break;
          this.flags = this.field[3]!;
          this.fieldFill = 0;
          if (this.flags & FRESERVED) {
            this.report.members--;
            this.startGarbage(this.memberStart, this.chunkOffset + p, `gzip header with reserved flag bits 0x${this.flags.toString(16)}`);
            break;
          }
          this.headerCrc = zlib.crc32(this.field);
          this.afterHeaderField(HEADER);
          break;
        }
        case EXTRA_LEN: {
          const start = p;
          p = this.gather(chunk, p, 2);
          this.headerCrc = zlib.crc32(chunk.subarray(start, p), this.headerCrc);
          if (this.fieldFill < 2) break;
          this.extraLeft = this.field.readUInt16LE(0);
          this.fieldFill = 0;
          this.state = EXTRA;
          break;
        }
        case EXTRA: {
          const n = Math.min(this.extraLeft, len - p);
          this.headerCrc = zlib.crc32(chunk.subarray(p, p + n), this.headerCrc);
          p += n;
          this.extraLeft -= n;
          if (this.extraLeft === 0) this.afterHeaderField(EXTRA);
          break;
        }
        case NAME:
        case COMMENT: {
          const nul = chunk.indexOf(0, p);
          const end = nul < 0 ? len : nul + 1;
          this.headerCrc = zlib.crc32(chunk.subarray(p, end), this.headerCrc);
          p = end;
          if (nul >= 0) this.afterHeaderField(this.state);
          break;
        }
        case HEADER_CRC: {
          p = this.gather(chunk, p, 2);
          if (this.fieldFill < 2) break;
          const stored = this.field.readUInt16LE(0);
          const computed = this.headerCrc & 0xffff;
          this.fieldFill = 0;
          if (stored !== computed) {
            this.flag('crc_error', `crc_error: gzip member ${this.report.members} (compressed offset ${this.memberStart}): header CRC16 stored 0x${hex(stored, 4)}, computed 0x${hex(computed, 4)}; data decoded anyway`);
          }
          this.startBody();
          break;
        }
        case BODY: {
          p = yield* this.inflateFrom(chunk, p);
          break;
        }
        case TRAILER: {
          p = this.gather(chunk, p, 8);
          if (this.fieldFill < 8) break;
          this.fieldFill = 0;
          this.checkTrailer();
          this.inflater.reset();
          this.state = MAGIC;
          break;
        }
        case GARBAGE:
        case FAILED: {
          if (this.state === GARBAGE) this.garbageBytes += len - p;
          p = len;
          break;
        }
      }
    }
    this.chunkOffset += len;
  }

  /** Ends the input: yields what is left and sets the flags for an unfinished member. */
  *end(): Generator<Buffer, void, undefined> {
    if (this.outPos > this.outStart) {
      const rest = this.out.subarray(this.outStart, this.outPos);
      this.outStart = this.outPos;
      yield rest;
    }
    const s = this.state;
    if (s === MAGIC && this.fieldFill > 0) {
      this.flag('truncated', `truncated: input ends ${this.fieldFill} byte(s) into what looks like gzip member ${this.report.members + 1} (compressed offset ${this.chunkOffset - this.fieldFill})`);
    } else if (s >= HEADER && s <= TRAILER) {
      this.flag('truncated', `truncated: input ends inside gzip member ${this.report.members} (started at compressed offset ${this.memberStart}), in its ${STATE_WHERE[s]}, at compressed offset ${this.chunkOffset}; ${this.memberBytes} bytes of this member decoded and kept`);
    } else if (s === GARBAGE) {
      this.flag('trailing_garbage', `trailing_garbage: ${this.garbageBytes} bytes from compressed offset ${this.garbageStart} (after gzip member ${this.report.members}) are not a gzip member (${this.garbageWhy}); ignored`);
    }
    for (const [flag, n] of this.noted) {
      if (n > NOTES_PER_FLAG) this.report.notes.push(`${flag}: ${n - NOTES_PER_FLAG} more like the above, not listed (${n} in all)`);
    }
    this.state = FAILED;
    this.inflater.close();
  }

  /** Releases the native inflater early (when the reader stops before the end). */
  close(): void {
    this.inflater.close();
  }

  /** Garbage runs from `offset`; bytes before `pos` (the reader's position) were already taken. */
  private startGarbage(offset: number, pos: number, why: string): void {
    this.state = GARBAGE;
    this.garbageStart = offset;
    this.garbageWhy = why;
    this.garbageBytes = pos - offset;
    this.fieldFill = 0;
  }

  /** Copies up to `need - fieldFill` bytes into `field`; returns the new position. */
  private gather(chunk: Buffer, p: number, need: number): number {
    const n = Math.min(need - this.fieldFill, chunk.length - p);
    chunk.copy(this.field, this.fieldFill, p, p + n);
    this.fieldFill += n;
    return p + n;
  }

  /** Moves to the next optional header field after `done` (or to the body). */
  private afterHeaderField(done: number): void {
    const f = this.flags;
    if (done < EXTRA_LEN && f & FEXTRA) this.state = EXTRA_LEN;
    else if (done < NAME && f & FNAME) this.state = NAME;
    else if (done < COMMENT && f & FCOMMENT) this.state = COMMENT;
    else if (done < HEADER_CRC && f & FHCRC) this.state = HEADER_CRC;
    else this.startBody();
  }

  private startBody(): void {
    this.state = BODY;
    this.memberCrc = 0;
    this.memberBytes = 0;
  }

  /** Inflates from chunk[p]; returns the position after what the inflater consumed. */
  private *inflateFrom(chunk: Buffer, p: number): Generator<Buffer, number, undefined> {
    const len = chunk.length;
    for (;;) {
      if (this.outPos === this.out.length) {
        // the full buffer goes out first: a consumer done with it may hand it back before the next one is taken
        const full = this.out.subarray(this.outStart, this.outPos);
        this.out = EMPTY;
        this.outPos = 0;
        this.outStart = 0;
        if (full.length > 0) yield full;
        this.out = this.acquire();
      }
      const outLen = Math.min(CALL_OUT_BYTES, this.out.length - this.outPos);
      const ended = this.inflater.inflate(chunk, p, len - p, this.out, this.outPos, outLen);
      if (this.inflater.error !== null) {
        this.flag('crc_error', `crc_error: corrupt deflate data in gzip member ${this.report.members} (started at compressed offset ${this.memberStart}), near compressed offset ${this.chunkOffset + p}: ${this.inflater.error}; up to ${CALL_OUT_BYTES} decoded bytes before it may be lost; ${this.memberBytes} bytes of this member kept; the rest of the input is unreadable`);
        this.state = FAILED;
        return len;
      }
      const produced = this.inflater.produced;
      if (produced > 0) {
        this.memberCrc = zlib.crc32(this.out.subarray(this.outPos, this.outPos + produced), this.memberCrc);
        this.memberBytes += produced;
        this.outPos += produced;
      }
      p += this.inflater.consumed;
      if (ended) {
        this.state = TRAILER;
        return p;
      }
      // Output space left over means all input was taken (or the stream ended
      // exactly at the chunk's end, which the next call shows).
      if (produced < outLen) return p;
    }
  }

  private checkTrailer(): void {
    const storedCrc = this.field.readUInt32LE(0);
    const storedSize = this.field.readUInt32LE(4);
    const crc = this.memberCrc >>> 0;
    const size = this.memberBytes % 0x1_0000_0000;
    if (storedCrc !== crc || storedSize !== size) {
      const what: string[] = [];
      if (storedCrc !== crc) what.push(`CRC32 stored 0x${hex(storedCrc, 8)}, computed 0x${hex(crc, 8)}`);
      if (storedSize !== size) what.push(`ISIZE stored ${storedSize}, decoded ${size} (mod 2^32)`);
      this.flag('crc_error', `crc_error: gzip member ${this.report.members} (started at compressed offset ${this.memberStart}): ${what.join('; ')}; its ${this.memberBytes} decoded bytes were kept`);
    }
  }

  /** Notes per flag are capped: a hostile file can have millions of bad members. */
  private flag(flag: InputFlag, note: string): void {
    if (!this.report.flags.includes(flag)) this.report.flags.push(flag);
    const n = (this.noted.get(flag) ?? 0) + 1;
    this.noted.set(flag, n);
    if (n <= NOTES_PER_FLAG) this.report.notes.push(note);
  }
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
