/**
 * A gzip input's decompressed bytes, written to the run's temporary directory as pass 1 decodes
 * them (`alf analyze` with worker threads), so that the later passes read a plain file cut into
 * byte ranges on every thread, and skip the ranges they need nothing from, instead of inflating
 * and scanning the whole input again on one thread per pass.
 *
 * Pass 1 itself still reads the input as one sequential stream (gzip cannot be entered in the
 * middle): the spill is a copy of exactly what it framed and parsed, so line numbers and byte
 * offsets (decompressed, as for any gzip input) are the same from either. The caller uses the
 * spill only when the input decoded cleanly (no flag, no note) and the segments below add up to
 * pass 1's accounting; the pack still names and hashes the input itself.
 *
 * The writes go through libuv's thread pool (positional, a few pieces in flight, copies in reused
 * buffers), so the parsing thread only copies: writing synchronously cost it ~1.5 s per GB.
 *
 * Bounded: at most `MAX_RATIO` times the compressed size (at least `MIN_CAP_BYTES`) and half the
 * free space of the temporary directory when it starts; dropped as soon as that file system has
 * less than 1 GiB or 5% of its size free (checked every 64 MiB, as other spills may be growing).
 * Past any of these, or on a write error (a full disk), the spill is deleted and the later passes
 * read the input itself, as before: never an error.
 *
 * Segments (LineSegments): every `MARK_BYTES` (or less: an eighth of the smallest range) a new
 * segment starts at a record's line start; each counts its parsed lines, rejects by reason and
 * record time span. A later pass cuts the spill at segment
 * starts: each range then has its line base (no recount) and pass 1's read of it (accounting and
 * span), so a range the attribution needs nothing from is skipped, as for a plain file's ranges.
 */
import { closeSync, openSync, statfsSync, statSync, unlinkSync, write } from 'node:fs';
import { dirname } from 'node:path';
import type { DecodeReport, ParsedChunk, Reject, RejectReason } from '@alf/parser';

/** Most decompressed bytes spilled per compressed byte (logs compress 5–20×; a gzip bomb 1000×). */
export const MAX_RATIO: number = 100;
/** The cap is never below this (a small input may compress unusually well). */
export const MIN_CAP_BYTES: number = 256 * 1024 * 1024;
/** Least distance between segment starts. */
export const MARK_BYTES: number = 4 * 1024 * 1024;
/** Free space checked again after this many bytes written. */
const SPACE_CHECK_BYTES = 64 * 1024 * 1024;
/** The spill is dropped when the file system has less free than this or a twentieth of its size. */
const MIN_FREE_BYTES = 1024 * 1024 * 1024;
/** Pieces being written at once. */
const IN_FLIGHT = 8;

/** Pass 1's read of the lines from `offset` (a line start; line number `line`) to the next segment. */
export interface SpillSegment {
  readonly offset: number;
  readonly line: number;
  parsed: number;
  readonly byReason: Partial<Record<RejectReason, number>>;
  firstMs: number | null;
  lastMs: number | null;
}

/** A complete spill: its path, size, and segments (in order, the first at offset 0, line 1). */
export interface DecodedSpillResult {
  readonly path: string;
  readonly bytes: number;
  readonly segments: readonly SpillSegment[];
}

const newSegment = (offset: number, line: number): SpillSegment => ({ offset, line, parsed: 0, byReason: {}, firstMs: null, lastMs: null });

/**
 * Pass 1's read of a byte stream in segments: every `markBytes` (at least) a new segment starts at
 * the line start of a parsed chunk's first record, and each segment counts its parsed lines,
 * rejects by reason and record time span. Offsets and line numbers are those of the stream read
 * (a range's own, first line 1). A later pass can cut the stream at segment starts and know each
 * piece's line base and pass-1 read without counting again (see planFromSegments).
 */
export class LineSegments {
  readonly segments: SpillSegment[] = [newSegment(0, 1)];
  private readonly markBytes: number;
  private nextMark: number;

  constructor(markBytes: number = MARK_BYTES) {
    this.markBytes = Math.max(1, markBytes);
    this.nextMark = this.markBytes;
  }

  /** Each parsed chunk, in order. */
  add(chunk: ParsedChunk): void {
    const { records, rejects } = chunk;
    let i = 0;
    if (records.length > 0 && records.byteOffset[0]! >= this.nextMark) {
      const line = records.line[0]!;
      // Rejected lines before the chunk's first record belong to the segment before.
      for (; i < rejects.length && rejects[i]!.line < line; i++) this.reject(rejects[i]!);
      this.segments.push(newSegment(records.byteOffset[0]!, line));
      this.nextMark = records.byteOffset[0]! + this.markBytes;
    }
    for (; i < rejects.length; i++) this.reject(rejects[i]!);
    const s = this.segments[this.segments.length - 1]!;
    s.parsed += records.length;
    for (let j = 0; j < records.length; j++) {
      const t = records.ts[j]!;
      if (s.firstMs === null || t < s.firstMs) s.firstMs = t;
      if (s.lastMs === null || t > s.lastMs) s.lastMs = t;
    }
  }

  private reject(r: Reject): void {
    const s = this.segments[this.segments.length - 1]!;
    s.byReason[r.reason] = (s.byReason[r.reason] ?? 0) + 1;
  }
}

/** The decompressed copy of one input, fed by pass 1 (`piece` per decoded piece, `add` per parsed chunk). */
export class DecodedSpill {
  private fd: number | null = null;
  private state: 'waiting' | 'writing' | 'off' = 'waiting';
  private position = 0;
  private cap = 0;
  private inFlight = 0;
  private failed = false;
  private readonly free: Buffer[] = [];
  private onWritten: (() => void)[] = [];
  private dropping: Promise<void> | null = null;
  private readonly capBytes: number | undefined;
  private nextSpaceCheck = SPACE_CHECK_BYTES;
  private readonly marks: LineSegments;

  /**
   * `path`: where to write (created, never overwritten); `inputPath`: the compressed input (its size
   * sets the cap). Options: `markBytes` (segment distance, default MARK_BYTES: pass less when the
   * ranges are smaller), `capBytes` (instead of the ratio rule; the free-space rule still applies).
   */
  constructor(private readonly path: string, private readonly inputPath: string, o: { readonly markBytes?: number; readonly capBytes?: number } = {}) {
    this.marks = new LineSegments(o.markBytes ?? MARK_BYTES);
    this.capBytes = o.capBytes;
  }

  /** Every decoded piece, in order (`ParseStreamOptions.onDecoded`); the next piece waits while too many are in flight. */
  readonly piece = (piece: Uint8Array, report: Readonly<DecodeReport>): Promise<void> | undefined => {
    if (this.state === 'off') return undefined;
    if (this.state === 'waiting' && !this.open(report)) return undefined;
    if (this.failed || this.position + piece.length > this.cap || (this.position >= this.nextSpaceCheck && !this.roomLeft())) {
      this.drop();
      return undefined;
    }
    const slot = this.free.pop();
    const copy = slot !== undefined && slot.length >= piece.length ? slot : Buffer.allocUnsafeSlow(Math.max(piece.length, slot?.length ?? 0));
    copy.set(piece);
    const at = this.position;
    this.position += piece.length;
    this.inFlight++;
    write(this.fd!, copy, 0, piece.length, at, (error, n) => {
      this.inFlight--;
      if (error || n !== piece.length) this.failed = true;
      this.free.push(copy);
      const waiting = this.onWritten;
      this.onWritten = [];
      for (const wake of waiting) wake();
    });
    return this.inFlight >= IN_FLIGHT ? this.written(IN_FLIGHT - 1) : undefined;
  };

  /** Each parsed chunk of pass 1, in order: its lines counted into the segments. */
  add(chunk: ParsedChunk): void {
    if (this.state !== 'off') this.marks.add(chunk);
  }

  /** The spill when the whole input went into it, else null (nothing left on disk). */
  async finish(): Promise<DecodedSpillResult | null> {
    await this.written(0);
    if (this.state !== 'writing' || this.failed) {
      await this.discard();
      return null;
    }
    this.state = 'off';
    this.closeFd();
    return { path: this.path, bytes: this.position, segments: this.marks.segments };
  }

  /** After a failure, or when the spill is not wanted: close and delete (once the writes in flight end). */
  async discard(): Promise<void> {
    if (this.state !== 'off' || this.fd !== null) this.drop();
    await this.dropping;
  }

  /** Resolves when at most `n` writes are in flight. */
  private async written(n: number): Promise<void> {
    while (this.inFlight > n) await new Promise<void>((resolve) => this.onWritten.push(resolve));
  }

  /**
   * Whether the file system still has room to spare (checked every SPACE_CHECK_BYTES written: other
   * spills, of other inputs or runs, may be growing at the same time).
   */
  private roomLeft(): boolean {
    this.nextSpaceCheck = this.position + SPACE_CHECK_BYTES;
    try {
      const fs = statfsSync(dirname(this.path));
      return Number(fs.bavail) * Number(fs.bsize) >= Math.max(MIN_FREE_BYTES, (Number(fs.blocks) * Number(fs.bsize)) / 20);
    } catch {
      return false;
    }
  }

  private open(report: Readonly<DecodeReport>): boolean {
    this.state = 'off';
    if (report.compression !== 'gzip') return false;
    try {
      const fs = statfsSync(dirname(this.path));
      const compressed = statSync(this.inputPath).size;
      this.cap = Math.min((Number(fs.bavail) * Number(fs.bsize)) / 2, this.capBytes ?? Math.max(MIN_CAP_BYTES, MAX_RATIO * compressed));
      this.fd = openSync(this.path, 'wx', 0o600);
    } catch {
      return false;
    }
    this.state = 'writing';
    return true;
  }

  private drop(): void {
    this.state = 'off';
    this.dropping ??= this.written(0).then(() => {
      this.closeFd();
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
    });
  }

  private closeFd(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // nothing to do
    }
    this.fd = null;
  }
}
