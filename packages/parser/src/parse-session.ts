/**
 * One input's parse: framed chunks in, ParsedChunks out, exact accounting.
 * Without `--format` the first lines (up to 1000 or 64 KB) are held back,
 * every detectable preset is tried on them and the best one is used for all.
 */
import { Buffer, isAscii } from 'node:buffer';
import { BatchBuilder, excerptOf } from './batch-builder.ts';
import { keepBlock } from './frame-lines.ts';
import { ValueCaches } from './value-cache.ts';
import { TimeRanges } from './time-ranges.ts';
import { STOP_CLEAR, STOP_END, STOP_HIGH, STOP_LINE } from './wasm-combined.ts';
import type { WasmCombined } from './wasm-combined.ts';
import { compileFormat, detectionCandidates } from './compile-format.ts';
import type { CompiledFormat } from './compile-format.ts';
import { AlfError } from './errors.ts';
import type { FastRowParser, LineCtx, LineParser } from './line-parser.ts';
import { resolveTimeZone } from './time-zone.ts';
import type { Accounting, FramedChunk, LineBlock, ParsedChunk, ParseOptions, RejectReason, SkippedLine } from './types.ts';
import { REJECT_REASONS } from './types.ts';

export interface DetectedFormat {
  readonly id: string;
  /** Sample lines the chosen format parsed. */
  readonly matched: number;
  /** Non-blank sample lines tried. */
  readonly sampled: number;
}

const SAMPLE_LINES = 1000;
let nextBlockId = 1;
const NO_HIGH = 0x7fffffff;
const SAMPLE_BYTES = 64 * 1024;
/**
 * 8,192 rows (~2 MB of columns): the parse-only bench over 5M lines peaked at 187 MB RSS and ran
 * 10% faster than with 65,536-row batches (253 MB), whose typed arrays and dictionaries, dropped
 * every ~15 MB of input, piled up as garbage between collections. `alf analyze` has used 8,192
 * since December 2026 for the same reason.
 */
const DEFAULT_BATCH_ROWS = 8192;
const DEFAULT_MAX_LINE = 1 << 20;

export function emptyAccounting(): Accounting {
  const byReason = {} as Record<RejectReason, number>;
  for (const r of REJECT_REASONS) byReason[r] = 0;
  return { linesRead: 0, parsed: 0, rejected: 0, byReason, bytesRead: 0 };
}

function newCtx(b: BatchBuilder): LineCtx {
  const bytes = new Uint8Array(0);
  return {
    text: '', bytes, buf: Buffer.from(bytes.buffer), dv: new DataView(bytes.buffer), lineHigh: false, b, start: 0, end: 0, pos: 0, stop: false,
    reason: 'field_count', detail: '', fieldsSeen: 0, tsFrac: 0, blockId: 0, listSeen: false, skipped: false,
  };
}

/**
 * Index of the first byte ≥ 0x80 at or after `from`, or NO_HIGH: native isAscii
 * over windows that double in size, then halving the window that has one
 * (a regex over the latin1 text measured ~2 ns a byte; this reads each byte about twice, natively).
 */
export function nextHighByte(bytes: Uint8Array, from: number): number {
  const n = bytes.length;
  let lo = from;
  let size = 1024;
  while (lo < n) {
    let hi = Math.min(n, lo + size);
    if (!isAscii(bytes.subarray(lo, hi))) {
      while (hi - lo > 64) {
        const mid = (lo + hi) >>> 1;
        if (isAscii(bytes.subarray(lo, mid))) lo = mid;
        else hi = mid;
      }
      for (let i = lo; i < hi; i++) if ((bytes[i] as number) >= 0x80) return i;
      return NO_HIGH; // not reached: [lo, hi) holds the byte
    }
    lo = hi;
    size *= 2;
  }
  return NO_HIGH;
}

/** Iterate the lines of a block: cb(start, endTrimmed, nl). */
function forEachLine(text: string, cb: (start: number, end: number, nl: number) => boolean | void): void {
  const n = text.length;
  let pos = 0;
  while (pos < n) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = n;
    let end = nl;
    while (end > pos) {
      const c = text.charCodeAt(end - 1);
      if (c !== 13 && c !== 32 && c !== 9) break;
      end--;
    }
    if (cb(pos, end, nl) === false) return;
    pos = nl + 1;
  }
}

/**
 * Kubernetes CRI log wrapper: `2022-01-28T16:04:05.413656027Z stdout F <line>`.
 * Returns where the wrapped line starts, or `pos` when the line has no wrapper.
 */
export function criPrefixEnd(text: string, pos: number, end: number): number {
  if (text.charCodeAt(pos + 4) !== 45 || text.charCodeAt(pos + 10) !== 84 || text.charCodeAt(pos + 7) !== 45) return pos;
  let p = pos + 19;
  const limit = Math.min(end, pos + 40);
  while (p < limit && text.charCodeAt(p) !== 32) p++;
  if (p >= limit) return pos;
  const stream = text.slice(p + 1, p + 8);
  if (stream !== 'stdout ' && stream !== 'stderr ') return pos;
  const tag = text.charCodeAt(p + 8);
  if ((tag !== 70 && tag !== 80) || text.charCodeAt(p + 9) !== 32) return pos;
  return p + 10;
}

/** Whether the first non-blank line of a block carries the CRI wrapper. */
function firstLineIsCri(text: string): boolean {
  let cri = false;
  forEachLine(text, (s, e) => {
    if (e === s) return true;
    cri = criPrefixEnd(text, s, e) > s;
    return false;
  });
  return cri;
}

interface Score { ok: number; full: number; fields: number }

function scoreFormat(f: CompiledFormat, blocks: readonly LineBlock[], limit: number, cri: boolean): Score {
  const p = f.parser;
  const b = new BatchBuilder(16, p.extraNames, 0, new ValueCaches(256, 1024));
  const c = newCtx(b);
  const s: Score = { ok: 0, full: 0, fields: 0 };
  let seen = 0;
  for (const blk of blocks) {
    c.text = blk.text;
    c.bytes = blk.bytes;
    c.buf = Buffer.from(blk.bytes.buffer, blk.bytes.byteOffset, blk.bytes.byteLength);
    c.dv = new DataView(blk.bytes.buffer, blk.bytes.byteOffset, blk.bytes.byteLength);
    c.blockId = nextBlockId++;
    const ascii = isAscii(blk.bytes);
    forEachLine(blk.text, (start, end) => {
      if (end === start) return true;
      if (seen++ >= limit) return false;
      c.start = cri ? criPrefixEnd(blk.text, start, end) : start;
      c.end = end;
      c.lineHigh = !ascii && !isAscii(blk.bytes.subarray(start, end));
      b.beginRow();
      if (p.parse(c)) {
        s.ok++;
        s.fields += c.fieldsSeen;
        if (!c.stop && c.pos >= c.end) s.full++;
      }
      b.discardRow(p.used);
      return true;
    });
  }
  return s;
}

const ERROR_LOG = /^(\[(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d |\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} \[|\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? \[)/;

/** Reject detail, with a hint for comment and error-log lines (only on the reject path). */
function explain(text: string, pos: number, detail: string): string {
  if (text.charCodeAt(pos) === 35) return `comment line (starts with #); ${detail}`;
  if (ERROR_LOG.test(text.slice(pos, pos + 40))) return `looks like an error-log line, not an access-log line; ${detail}`;
  return detail;
}

/** Internal switches of a session (tests compare the fast row parsers against the generic one). */
export interface SessionTuning {
  /** false: every line goes through the generic parser (default true: a format's fast row parser when it has one). */
  readonly fastPath?: boolean | undefined;
  /** false: the combined family's fast path runs in JavaScript only, never through the WebAssembly module (default true). */
  readonly wasm?: boolean | undefined;
}

/**
 * Fast row parsers with a WebAssembly path, one per format and time zone in a thread, shared by the
 * thread's sessions: their tables (and the text of their values) stay warm from one input range
 * of `alf analyze` to the next instead of filling again for each. Sharing is safe: the tables key
 * what they hand out by batch, and a session coming back to an older batch (interleaved parses)
 * is told everything that batch holds (WasmCombined.prepare, InternTable's owner tokens).
 */
const fastParsers = new Map<string, FastRowParser>();

function sharedFast(f: CompiledFormat): FastRowParser | undefined {
  const fast = f.parser.fast;
  if (fast === undefined || fast.wasm === undefined) return fast;
  const key = `${f.spec.id}\u0000${f.timeZone.id}`;
  const known = fastParsers.get(key);
  if (known !== undefined) return known;
  if (fastParsers.size >= 8) fastParsers.clear();
  fastParsers.set(key, fast);
  return fast;
}

export class ParseSession {
  readonly accounting: Accounting = emptyAccounting();
  format: DetectedFormat | null = null;
  compiled: CompiledFormat | null = null;
  private readonly opts: ParseOptions;
  private readonly batchRows: number;
  private readonly maxLine: number;
  private readonly inputIndex: number;
  private parser: LineParser | null = null;
  private fast: FastRowParser | undefined = undefined;
  private readonly fastPath: boolean;
  private readonly wasmOn: boolean;
  /** Rows the WebAssembly fast path wrote (tests check it is taken). */
  wasmRows = 0;
  private b: BatchBuilder | null = null;
  private ctx: LineCtx | null = null;
  private held: FramedChunk[] = [];
  private heldLines = 0;
  private heldBytes = 0;
  private out: ParsedChunk[] = [];
  private readonly caches: ValueCaches = new ValueCaches();
  /** `ParseOptions.allColumnsWithin`, or `rowsWithin` alone, for every batch. */
  private readonly within: TimeRanges | null;
  /** `ParseOptions.rowsWithin`: the rows wanted at all. */
  private readonly wanted: TimeRanges | null;
  /** Lines wrapped in a Kubernetes CRI prefix: -1 not known yet, 0 no, 1 yes (decided on the first line). */
  private cri = -1;

  constructor(opts: ParseOptions, tuning: SessionTuning = {}) {
    this.opts = opts;
    this.fastPath = tuning.fastPath !== false;
    this.wasmOn = tuning.wasm !== false;
    this.batchRows = Math.max(1, opts.batchRows ?? DEFAULT_BATCH_ROWS);
    this.maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE;
    this.inputIndex = opts.inputIndex ?? 0;
    this.wanted = opts.rowsWithin === undefined ? null : new TimeRanges(opts.rowsWithin);
    this.within = opts.allColumnsWithin !== undefined ? new TimeRanges(opts.allColumnsWithin) : this.wanted;
    resolveTimeZone(opts.tz); // fail early on a bad --tz
    if (opts.format !== undefined) this.use(compileFormat(opts.format, { tz: opts.tz }), null);
  }

  private use(f: CompiledFormat, detected: DetectedFormat | null): void {
    this.compiled = f;
    this.parser = f.parser;
    this.fast = this.fastPath ? sharedFast(f) : undefined;
    this.format = detected ?? { id: f.spec.id, matched: 0, sampled: 0 };
    this.b = new BatchBuilder(Math.min(this.batchRows, 4096), f.parser.extraNames, this.inputIndex, this.caches, this.opts.columns, this.within, this.wanted);
    this.ctx = newCtx(this.b);
  }

  /** Feed one framed chunk; returns the batches completed so far. */
  push(chunk: FramedChunk): ParsedChunk[] {
    if (this.parser === null) {
      // held past the next chunk: a lent block is copied
      this.held.push(chunk.kind === 'lines' ? keepBlock(chunk) : chunk);
      if (chunk.kind === 'lines') {
        this.heldLines += chunk.lineCount;
        this.heldBytes += chunk.bytes.length;
      }
      if (this.heldLines >= SAMPLE_LINES || this.heldBytes >= SAMPLE_BYTES) this.detect();
    } else this.consume(chunk);
    return this.take();
  }

  /**
   * Lines refused as a whole (UTF-16 input): counted as `encoding` rejects, listed
   * as one reject that says how many lines it stands for.
   */
  refuse(lines: number, detail: string): void {
    if (lines <= 0) return;
    if (this.parser === null && this.held.length === 0) this.format = { id: 'none', matched: 0, sampled: 0 };
    if (this.b === null) this.b = new BatchBuilder(16, [], this.inputIndex, this.caches, this.opts.columns, this.within, this.wanted);
    const acc = this.accounting;
    acc.linesRead += lines;
    acc.rejected += lines;
    acc.byReason.encoding += lines;
    this.b.reject('encoding', `${detail} (${lines} line${lines === 1 ? '' : 's'} refused)`, 1, 0, '');
  }

  /** End of input: parse what is held, flush the last batch. */
  end(): ParsedChunk[] {
    if (this.parser === null) {
      if (this.held.length === 0) {
        // empty (or refused) input: nothing to detect, nothing to parse
        this.format ??= { id: 'none', matched: 0, sampled: 0 };
        if (this.b !== null) this.out.push(this.b.finish());
        return this.take();
      }
      this.detect();
    }
    this.flush();
    return this.take();
  }

  private take(): ParsedChunk[] {
    const o = this.out;
    this.out = [];
    return o;
  }

  private detect(): void {
    const blocks = this.held.filter((c): c is LineBlock => c.kind === 'lines');
    if (this.cri < 0 && blocks[0] !== undefined) this.cri = firstLineIsCri(blocks[0].text) ? 1 : 0;
    const sample: string[] = [];
    for (const blk of blocks) {
      forEachLine(blk.text, (s, e) => {
        const from = this.cri === 1 ? criPrefixEnd(blk.text, s, e) : s;
        if (e > s && sample.length < SAMPLE_LINES) sample.push(blk.text.slice(from, e));
        return sample.length < SAMPLE_LINES;
      });
    }
    const tz = resolveTimeZone(this.opts.tz);
    let best: CompiledFormat | null = null;
    let bestScore: Score = { ok: 0, full: 0, fields: 0 };
    for (const cand of detectionCandidates(tz, sample)) {
      const s = scoreFormat(cand, blocks, SAMPLE_LINES, this.cri === 1);
      if (s.ok > bestScore.ok || (s.ok === bestScore.ok && (s.full > bestScore.full ||
        (s.full === bestScore.full && s.fields > bestScore.fields)))) {
        best = cand;
        bestScore = s;
      }
    }
    if (best === null || bestScore.ok === 0) {
      const first = (sample[0] ?? '').slice(0, 120);
      throw new AlfError('ALF_FORMAT_UNDETECTED',
        `no known format fits the first ${sample.length} lines (first line: ${JSON.stringify(first)}); ` +
        'pass --format with a preset (see `alf formats`), an nginx log_format or an Apache LogFormat string',
        { sampled: sample.length, firstLine: first });
    }
    this.use(best, { id: best.spec.id, matched: bestScore.ok, sampled: sample.length });
    const held = this.held;
    this.held = [];
    for (const c of held) this.consume(c);
  }

  private consume(chunk: FramedChunk): void {
    if (chunk.kind === 'too_long') this.skipped(chunk);
    else this.block(chunk);
  }

  private flush(): void {
    const b = this.b as BatchBuilder;
    if (b.pending === 0) return;
    this.out.push(b.finish());
    // the next batch starts as large as this one was (no growth copies on a big input), small inputs stay small
    const rows = Math.min(this.batchRows, Math.max(4096, b.length));
    this.b = new BatchBuilder(rows, (this.parser as LineParser).extraNames, this.inputIndex, this.caches, this.opts.columns, this.within, this.wanted);
    (this.ctx as LineCtx).b = this.b;
  }

  private skipped(s: SkippedLine): void {
    const acc = this.accounting;
    acc.linesRead++;
    acc.rejected++;
    acc.byReason.line_too_long++;
    acc.bytesRead += s.length + 1;
    (this.b as BatchBuilder).reject('line_too_long', `line is ${s.length} bytes, above the ${this.maxLine}-byte cap`,
      s.line, s.byteOffset, excerptOf(s.head, 0, s.head.length));
    if ((this.b as BatchBuilder).pending >= this.batchRows) this.flush();
  }

  /** The generic parser: stage, then commit or drop the row. */
  private parseRow(parser: LineParser, b: BatchBuilder, c: LineCtx, line: number, byteOffset: number): boolean {
    b.beginRow(parser.used);
    if (parser.parse(c)) {
      if (b.wanted !== null && !b.wanted.has(b.ts[b.length] as number)) {
        b.discardRow(parser.used);
        c.skipped = true;
        return true;
      }
      b.commit(c, parser.used, line, byteOffset);
      return true;
    }
    b.discardRow(parser.used);
    return false;
  }

  private block(blk: LineBlock): void {
    const acc = this.accounting;
    const fast = this.fast;
    const c = this.ctx as LineCtx;
    const bytes = blk.bytes;
    c.bytes = bytes;
    c.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    c.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    c.blockId = nextBlockId++;
    if (this.cri < 0) this.cri = firstLineIsCri(blk.text) ? 1 : 0;
    const cri = this.cri === 1;
    acc.bytesRead += bytes.length;
    const wasm = this.wasmOn && !cri && fast !== undefined && fast.wasm !== undefined ? fast.wasm() : null;
    if (wasm !== null && wasm.accepts(this.b as BatchBuilder)) {
      c.text = ''; // (set from the block's text for the lines left to JavaScript: made only then)
      this.wasmBlock(blk, wasm);
      return;
    }
    const text = blk.text;
    c.text = text;
    const ascii = isAscii(bytes);
    // next byte ≥ 0x80 at or after the current line (native isAscii over growing windows, never repeated)
    let nextHigh = ascii ? NO_HIGH : -1;
    const batchRows = this.batchRows;
    let line = blk.firstLine;
    const n = text.length;
    let pos = 0;
    while (pos < n) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = n;
      if (nextHigh < pos) nextHigh = nextHighByte(bytes, pos);
      acc.linesRead++;
      this.line(blk, pos, nl, line, nextHigh < nl, cri);
      if ((this.b as BatchBuilder).pending >= batchRows) this.flush();
      pos = nl + 1;
      line++;
    }
  }

  /**
   * A block through the WebAssembly fast path: its rows come in runs, copied from the module's
   * columns; the lines it stops at are parsed here one by one, in order, exactly as `block` parses
   * them, and the values they add to the batch's dictionaries are bound into the module.
   */
  private wasmBlock(blk: LineBlock, w: WasmCombined): void {
    const acc = this.accounting;
    w.load(blk.bytes, blk.firstLine, blk.baseOffset, this.maxLine);
    for (;;) {
      let b = this.b as BatchBuilder;
      if (!w.prepare(b)) {
        this.freshBatch(w);
        continue;
      }
      const n = w.scan(this.batchRows - b.pending);
      w.take(b, n);
      acc.linesRead += w.lines;
      acc.parsed += n;
      this.wasmRows += n;
      const stop = w.stopKind;
      if (stop === STOP_LINE || stop === STOP_HIGH) {
        const before = w.sizesOf(b);
        acc.linesRead++;
        w.hook(b);
        try {
          // the line as a block of its own: its latin1 text alone is made, not the whole block's
          const one = this.lineBlock(blk, w.stopStart, w.stopNl, w.stopLine);
          this.line(one, 0, one.bytes.length, w.stopLine, stop === STOP_HIGH, false);
        } finally {
          w.unhook(b);
        }
        w.skipLine();
        b = this.b as BatchBuilder;
        if (!w.bindNew(b, before)) this.freshBatch(w);
      } else if (stop === STOP_CLEAR) this.freshBatch(w);
      if ((this.b as BatchBuilder).pending >= this.batchRows) this.flush();
      if (stop === STOP_END) return;
    }
  }

  /**
   * Line [start, nl) of `blk` (number `line`) as a one-line block, set up in the line context as
   * `block` sets up a block: for a line the module leaves, whose block's text is never made
   * (~96 KiB of latin1 for one line, about every other block on the bench corpus).
   */
  private lineBlock(blk: LineBlock, start: number, nl: number, line: number): LineBlock {
    const bytes = blk.bytes.subarray(start, nl);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const one: LineBlock = { kind: 'lines', bytes, text: buf.toString('latin1'), firstLine: line, baseOffset: blk.baseOffset + start, lineCount: 1 };
    const c = this.ctx as LineCtx;
    c.bytes = bytes;
    c.buf = buf;
    c.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    c.blockId = nextBlockId++;
    c.text = one.text;
    return one;
  }

  /** The module's tables are full: a new batch (the current one flushed, or dropped when it holds nothing), then empty tables. */
  private freshBatch(w: WasmCombined): void {
    if ((this.b as BatchBuilder).pending > 0) this.flush();
    else this.renewBatch();
    w.clear();
  }

  /** Replaces the batch, which holds no row nor reject (its dictionaries may hold values no row uses). */
  private renewBatch(): void {
    const rows = (this.b as BatchBuilder).capacity;
    this.b = new BatchBuilder(rows, (this.parser as LineParser).extraNames, this.inputIndex, this.caches, this.opts.columns, this.within, this.wanted);
    (this.ctx as LineCtx).b = this.b;
  }

  /** One line [pos, nl) of the current block (`high`: it holds a byte ≥ 0x80, so only the generic parser may take it). */
  private line(blk: LineBlock, pos: number, nl: number, line: number, high: boolean, cri: boolean): void {
    const acc = this.accounting;
    const text = blk.text;
    const b = this.b as BatchBuilder;
    const base = blk.baseOffset;
    let end = nl;
    while (end > pos) {
      const ch = text.charCodeAt(end - 1);
      if (ch !== 13 && ch !== 32 && ch !== 9) break;
      end--;
    }
    if (end === pos) {
      acc.rejected++;
      acc.byReason.empty++;
      b.reject('empty', 'blank line', line, base + pos, excerptOf(blk.bytes, pos, nl));
    } else if (nl - pos > this.maxLine) {
      acc.rejected++;
      acc.byReason.line_too_long++;
      b.reject('line_too_long', `line is ${nl - pos} bytes, above the ${this.maxLine}-byte cap`, line, base + pos, excerptOf(blk.bytes, pos, nl));
    } else {
      const c = this.ctx as LineCtx;
      const fast = this.fast;
      c.start = cri ? criPrefixEnd(text, pos, end) : pos;
      c.end = end;
      c.lineHigh = high;
      if ((fast !== undefined && !high && fast.row(c, line, base + pos)) || this.parseRow(this.parser as LineParser, b, c, line, base + pos)) {
        if (c.skipped) c.skipped = false;
        else acc.parsed++;
      } else {
        acc.rejected++;
        acc.byReason[c.reason]++;
        b.reject(c.reason, explain(text, pos, c.detail), line, base + pos, excerptOf(blk.bytes, pos, nl));
      }
    }
  }
}
