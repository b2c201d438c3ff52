/**
 * Decoded bytes → runs of whole lines. Chunks may end anywhere (inside a UTF-8
 * sequence, between '\r' and '\n'); the partial line at the end of a chunk is
 * carried (copied: only it) into the next. Lines end at '\n' only: '\r' stays in
 * the line (a lone '\r' is not a line break). Blocks are subarrays of the input
 * chunks when a chunk holds enough lines; small chunks are gathered up to
 * `targetBlockBytes` and joined once. A line longer than `maxLineBytes` is
 * skipped to the next newline without being buffered (at most the cap is held)
 * and reported as a SkippedLine. A UTF-8 byte-order mark at byte 0 is skipped;
 * byte offsets still count it. Line numbers and byte offsets are exact.
 *
 * Blocks may be views of the source's chunks, so a source must not rewrite a
 * chunk after yielding it (streams from node:fs and decodeInput never do).
 * A run of lines of at least `BIG_RUN_BYTES` (128 KiB, or twice the target when
 * that is smaller) becomes a block of its own, a view (no copy); smaller runs
 * are joined into blocks of about `targetBlockBytes` (one copy; none when a
 * run reaches the target alone, as the runs cut from a file read do).
 *
 * A decoded gzip piece (decodeInput) is only borrowed: whatever is kept of it
 * (a short run, a carried partial line) is copied, and when no block is a view
 * of it, it goes back to its decoder (`releaseChunk`) to be filled again. So
 * skipping a 1 GiB line, or 100M empty lines, allocates nothing per piece.
 *
 * With `lendBlocks` the blocks of a borrowed piece are views of it, not copies: each is marked
 * `lent`, a piece ends its last block (no block spans two pieces), and the piece goes back to its
 * decoder only when the consumer asks for the chunk after its last block. The parser reads a
 * block's bytes before it asks for the next one (copying them into its WebAssembly memory), so
 * the 5M-line gzip corpus is no longer copied once more in 96 KiB pieces on the parsing thread.
 */
import { isLeasedChunk, releaseChunk } from './decode-input.ts';
import type { FramedChunk, LineBlock, SkippedLine } from './types.ts';

export interface FrameOptions {
  /** Longest line kept, in bytes without the newline (default 1 MiB). */
  maxLineBytes?: number;
  /** Block size aimed at (default 96 KiB, see DEFAULT_TARGET_BLOCK_BYTES). Blocks are cut at line ends. */
  targetBlockBytes?: number;
  /** Most lines in one block (default 65,536): a megabyte of empty or tiny lines must not become a million rejects at once. */
  maxBlockLines?: number;
  /**
   * Blocks of a borrowed (decoder-leased) piece are lent views, valid until the consumer asks for
   * the next chunk, instead of copies (default false: every block stays valid for good).
   */
  lendBlocks?: boolean;
}

export const DEFAULT_MAX_LINE_BYTES: number = 1 << 20;
/**
 * 96 KiB: a block's latin1 text then stays under V8's largest regular heap object (128 KiB), so
 * it is allocated in the young generation. Node makes a latin1 string of 128 KiB up to ~1 MB
 * (`EXTERN_APEX`) in V8's large-object space, a fresh mapping each: decoding the 5M-line corpus
 * in 256 KiB pieces ran at ~950 MB/s, in 96 KiB ones at ~7,500 MB/s (and 15% of pass 1's CPU
 * went to it). Blocks are cut at the first line end past this size, so longer lines still make
 * larger blocks.
 */
export const DEFAULT_TARGET_BLOCK_BYTES: number = 96 * 1024;
/** With a target up to this, a block joined from smaller pieces stops before it would pass it (see DEFAULT_TARGET_BLOCK_BYTES). */
const MAX_JOINED_BLOCK_BYTES = 120 * 1024;
/** 100M empty lines in 1 MiB blocks peaked at 891 MiB RSS (a million reject objects per block). */
export const DEFAULT_MAX_BLOCK_LINES: number = 1 << 16;
/** Bytes of a skipped line kept for its reject excerpt. */
export const SKIPPED_HEAD_BYTES = 200;
/** A run of whole lines this long is a block of its own, a view of its chunk (256 KiB reads and gzip pieces are never copied). */
export const BIG_RUN_BYTES: number = 128 * 1024;

const NL = 10;

export async function* frameLines(
  src: AsyncIterable<Uint8Array>,
  opts: FrameOptions = {},
): AsyncGenerator<FramedChunk, void, undefined> {
  const framer = new LineFramer(opts);
  const lend = opts.lendBlocks === true;
  const out: FramedChunk[] = [];
  for await (const chunk of src) {
    const borrowed = isLeasedChunk(chunk);
    const kept = framer.push(chunk, out, borrowed);
    // a lent piece goes back once the consumer is done with its blocks: when it asks for more
    if (borrowed && !kept && !lend) releaseChunk(chunk);
    if (out.length > 0) {
      for (const framed of out) yield framed;
      out.length = 0;
    }
    if (borrowed && !kept && lend) releaseChunk(chunk);
  }
  framer.end(out);
  for (const framed of out) yield framed;
}

/**
 * A block of whole lines whose latin1 text is made when first asked for: the WebAssembly fast
 * path reads the bytes, and only the lines it leaves to the JavaScript parsers need the text.
 */
class FramedBlock implements LineBlock {
  readonly kind = 'lines' as const;
  readonly bytes: Uint8Array;
  readonly firstLine: number;
  readonly baseOffset: number;
  readonly lineCount: number;
  private made: string | null = null;

  readonly lent: boolean;

  constructor(bytes: Uint8Array, firstLine: number, baseOffset: number, lineCount: number, lent = false) {
    this.bytes = bytes;
    this.firstLine = firstLine;
    this.baseOffset = baseOffset;
    this.lineCount = lineCount;
    this.lent = lent;
  }

  get text(): string {
    if (this.made === null) this.made = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('latin1');
    return this.made;
  }
}

/** The framing state machine behind `frameLines`, for callers that hold the bytes already. */
export class LineFramer {
  private readonly maxLine: number;
  private readonly target: number;
  private readonly maxBlockLines: number;
  private readonly bigRun: number;

  /** The buffer of the chunk being pushed when it is only borrowed (copy what is kept of it), and whether a view of it was kept. */
  private lent: ArrayBufferLike | null = null;
  private kept = false;
  /** `FrameOptions.lendBlocks`, and whether a pending block is a view of the borrowed chunk being pushed. */
  private readonly lendBlocks: boolean;
  private pendingLent = false;

  /** Number of the next line to assign. */
  private nextLine = 1;
  /** Offset of the first byte not yet assigned to a line (start of the carried line). */
  private consumed = 0;

  /** Bytes seen before there were 3 to check for a byte-order mark. */
  private start: Buffer | null = Buffer.alloc(0);

  /** The partial line at the end of the last chunk, copied. */
  private carry: Buffer[] = [];
  private carryLen = 0;

  /** Skipping an over-long line: its length so far and first bytes. */
  private skipping = false;
  private skipLen = 0;
  private head: Buffer = Buffer.alloc(0);
  private headLen = 0;

  /** Whole lines gathered for the next block. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingLines = 0;
  private pendingFirstLine = 1;
  private pendingOffset = 0;

  constructor(opts: FrameOptions = {}) {
    this.maxLine = Math.max(0, Math.floor(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES));
    this.target = Math.max(1, Math.floor(opts.targetBlockBytes ?? DEFAULT_TARGET_BLOCK_BYTES));
    this.maxBlockLines = Math.max(1, Math.floor(opts.maxBlockLines ?? DEFAULT_MAX_BLOCK_LINES));
    this.bigRun = Math.min(BIG_RUN_BYTES, this.target * 2);
    this.lendBlocks = opts.lendBlocks === true;
  }

  /**
   * Frames one chunk; appends what is complete to `out`. A `borrowed` chunk
   * is taken back by the caller after this call unless the answer is true (a
   * block in `out` is a view of it): everything else kept of it is copied.
   */
  push(chunk: Uint8Array, out: FramedChunk[], borrowed = false): boolean {
    if (chunk.length === 0) return false;
    let buf = asBuffer(chunk);
    this.lent = borrowed ? buf.buffer : null;
    this.kept = false;
    try {
      if (this.start !== null) {
        const seen: Buffer = this.start.length === 0 ? buf : Buffer.concat([this.start, buf]);
        if (seen.length < 3) {
          this.start = seen === buf && borrowed ? Buffer.from(seen) : seen;
          return false;
        }
        this.start = null;
        buf = seen;
        if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
          this.consumed = 3;
          buf = buf.subarray(3);
        }
      }
      this.frame(buf, out);
      // lent views end with their piece: the piece's last block is not joined with the next piece's lines
      if (this.pendingLent) this.flush(out);
      return this.kept;
    } finally {
      this.lent = null;
    }
  }

  /** End of input: the last line (even without a newline) and the last block. */
  end(out: FramedChunk[]): void {
    if (this.start !== null) {
      const seen = this.start;
      this.start = null;
      if (seen.length > 0) this.frame(seen, out);
    }
    if (this.skipping) {
      this.emitSkipped(out, this.skipLen, false);
    } else if (this.carryLen > 0) {
      const line = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry, this.carryLen);
      this.carry = [];
      this.carryLen = 0;
      this.addLines(line, 1, out);
    }
    this.flush(out);
  }

  private frame(buf: Buffer, out: FramedChunk[]): void {
    const len = buf.length;
    let p = 0;
    while (p < len) {
      if (this.skipping) {
        const nl = buf.indexOf(NL, p);
        const end = nl < 0 ? len : nl;
        this.addHead(buf, p, end);
        this.skipLen += end - p;
        if (nl < 0) return;
        this.emitSkipped(out, this.skipLen, true);
        p = nl + 1;
        continue;
      }
      if (this.carryLen > 0) {
        const nl = buf.indexOf(NL, p);
        const end = nl < 0 ? len : nl;
        if (this.carryLen + (end - p) > this.maxLine) {
          this.startSkip();
          for (const piece of this.carry) this.addHead(piece, 0, piece.length);
          this.skipLen = this.carryLen;
          this.carry = [];
          this.carryLen = 0;
          continue; // the skipping branch takes it from p
        }
        if (nl < 0) {
          this.carry.push(this.keep(buf, p, len));
          this.carryLen += len - p;
          return;
        }
        const lineLen = this.carryLen + nl + 1 - p;
        this.carry.push(buf.subarray(p, nl + 1));
        const line = Buffer.concat(this.carry, lineLen);
        this.carry = [];
        this.carryLen = 0;
        this.addLines(line, 1, out);
        p = nl + 1;
        continue;
      }
      const last = buf.lastIndexOf(NL);
      if (last < p) {
        // The rest is the start of a line.
        if (len - p > this.maxLine) {
          this.startSkip();
          this.addHead(buf, p, len);
          this.skipLen = len - p;
        } else {
          this.carry.push(this.keep(buf, p, len));
          this.carryLen = len - p;
        }
        return;
      }
      p = this.scanLines(buf, p, last, out);
    }
  }

  /** Whole lines buf[p ..= last] (last is a newline): counted, checked, cut into blocks. */
  private scanLines(buf: Buffer, p: number, last: number, out: FramedChunk[]): number {
    const max = this.maxLine;
    const target = this.target;
    let segStart = p;
    let lines = 0;
    let q = p;
    while (q <= last) {
      // An empty line skips the native call: runs of them (a hostile input) stay fast.
      const nl = buf[q] === NL ? q : buf.indexOf(NL, q);
      if (nl - q > max) {
        if (lines > 0) this.addLines(buf.subarray(segStart, q), lines, out);
        lines = 0;
        this.startSkip();
        this.addHead(buf, q, nl);
        this.emitSkipped(out, nl - q, true);
        segStart = nl + 1;
      } else {
        lines++;
        if (nl + 1 - segStart >= target || lines >= this.maxBlockLines) {
          this.addLines(buf.subarray(segStart, nl + 1), lines, out);
          segStart = nl + 1;
          lines = 0;
        }
      }
      q = nl + 1;
    }
    if (lines > 0) this.addLines(buf.subarray(segStart, last + 1), lines, out);
    return last + 1;
  }

  /** Whole lines starting at `consumed`. A big run becomes its own block (no copy). */
  private addLines(seg: Buffer, lines: number, out: FramedChunk[]): void {
    const big = seg.length >= this.bigRun;
    if (this.lent !== null && seg.buffer === this.lent) {
      if (this.lendBlocks) this.pendingLent = true;
      else if (big) this.kept = true;
      else seg = Buffer.from(seg);
    }
    if (this.pendingBytes > 0 && (big || (this.target <= MAX_JOINED_BLOCK_BYTES && this.pendingBytes + seg.length > MAX_JOINED_BLOCK_BYTES))) this.flush(out);
    if (this.pendingBytes === 0) {
      this.pendingFirstLine = this.nextLine;
      this.pendingOffset = this.consumed;
    }
    this.pending.push(seg);
    this.pendingBytes += seg.length;
    this.pendingLines += lines;
    this.nextLine += lines;
    this.consumed += seg.length;
    if (big || this.pendingBytes >= this.target || this.pendingLines >= this.maxBlockLines) this.flush(out);
  }

  private flush(out: FramedChunk[]): void {
    if (this.pendingBytes === 0) return;
    const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const block: LineBlock = new FramedBlock(bytes, this.pendingFirstLine, this.pendingOffset, this.pendingLines, this.lent !== null && bytes.buffer === this.lent);
    out.push(block);
    this.pendingLent = false;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingLines = 0;
  }

  private startSkip(): void {
    this.skipping = true;
    this.skipLen = 0;
    this.head = Buffer.allocUnsafe(SKIPPED_HEAD_BYTES);
    this.headLen = 0;
  }

  private addHead(buf: Buffer, from: number, to: number): void {
    if (this.headLen >= SKIPPED_HEAD_BYTES) return;
    const n = Math.min(SKIPPED_HEAD_BYTES - this.headLen, to - from);
    buf.copy(this.head, this.headLen, from, from + n);
    this.headLen += n;
  }

  /** The over-long line at `consumed` ends (newline or end of input). */
  private emitSkipped(out: FramedChunk[], length: number, newline: boolean): void {
    this.flush(out);
    const skipped: SkippedLine = {
      kind: 'too_long',
      line: this.nextLine,
      byteOffset: this.consumed,
      length,
      head: this.head.subarray(0, this.headLen),
    };
    out.push(skipped);
    this.nextLine++;
    this.consumed += length + (newline ? 1 : 0);
    this.skipping = false;
    this.skipLen = 0;
    this.head = Buffer.alloc(0);
    this.headLen = 0;
  }

  /**
   * A piece of a partial line, kept until its line ends: copied when small (the
   * usual tail of a chunk) or borrowed, a view when large (a long line spanning
   * chunks). So at most the cap plus one chunk is held, and a 1 GiB line costs
   * no copies.
   */
  private keep(buf: Buffer, from: number, to: number): Buffer {
    if (to - from > COPY_CARRY_BYTES && buf.buffer !== this.lent) return buf.subarray(from, to);
    const c = Buffer.allocUnsafe(to - from);
    buf.copy(c, 0, from, to);
    return c;
  }
}

/** Bytes up to this size carried from a chunk are copied, so the chunk can be freed. */
const COPY_CARRY_BYTES = 64 * 1024;

/** A block that outlives its lent bytes (`LineBlock.lent`): the same block over a copy of them. */
export function keepBlock(block: LineBlock): LineBlock {
  if (block.lent !== true) return block;
  return new FramedBlock(Buffer.from(block.bytes), block.firstLine, block.baseOffset, block.lineCount);
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
