/**
 * The parallel passes of `alf analyze` (`--workers N`, N > 1): every input
 * becomes tasks for the worker pool (analyze-task.ts), a large plain file one
 * task per byte range (analyze-ranges.ts), any other input (gzip, small) one
 * task for the whole input. The main thread meanwhile hashes the plain files
 * being cut (SHA-256 of the whole file, as a sequential read gives it) and
 * then merges the partial results exactly: accounting by sum, timeline,
 * attribution and client set through core's snapshots, rejects replayed in
 * order with the line numbers of the ranges before added.
 *
 * The format is auto-detected once per input, from its head, and passed to
 * the tasks of every range after the first; the first range detects it as a
 * sequential read does, and when the two disagree (or a range other than the
 * first reports a decoding flag) the input is read again as one task.
 */
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Attribution, ClientSet } from '@alf/core';
import type { Accounting, DecodeReport, Reject, RejectReason } from '@alf/parser';
import { emptyAccounting } from '@alf/parser';
import type { RejectsCsvSink } from '@alf/report';
import { cutRanges, findCut, plainHead } from './analyze-ranges.ts';
import type { ByteRange } from './analyze-ranges.ts';
import type { AnalyzeTask, AnalyzeTaskResult, Pass1Task, Pass2Result, Pass2Task, ReadCommon, RecordsTask, TaskCommon } from './analyze-task.ts';
import type { InputRead } from './analyze-inputs.ts';
import type { DecodedSpillResult, SpillSegment } from './decoded-spill.ts';
import type { InputResultParts } from './parse-input.ts';
import type { FormatChoice } from './summary.ts';
import { inputError } from './inputs.ts';
import { parseInput } from './parse-input.ts';
import type { ScopeCounts } from './record-scope.ts';

/** Smallest byte range worth a task of its own (ALF_RANGE_BYTES overrides it, for tests). */
const DEFAULT_MIN_RANGE_BYTES = 8 * 1024 * 1024;
const HEAD_BYTES = 256 * 1024;
/** Bytes of the head read to tell whether a file can be cut into ranges (plainHead). */
const PLAIN_HEAD_BYTES = 1100;
const HASH_BUFFER_BYTES = 1024 * 1024;

export function minRangeBytes(): number {
  const v = Number(process.env['ALF_RANGE_BYTES']);
  return Number.isSafeInteger(v) && v > 0 ? v : DEFAULT_MIN_RANGE_BYTES;
}

/** What every task of a run shares. */
export type TaskBase = Omit<TaskCommon, 'path' | 'range' | 'format' | 'inputIndex'>;

/** How one input is split: its ranges (null: one whole-input task) and the format of the ranges after the first. */
export interface InputPlan {
  readonly path: string;
  readonly ranges: readonly ByteRange[] | null;
  readonly rangeFormat: string | undefined;
}

/**
 * The format a sequential read detects, from the head of a plain file; undefined when unsure.
 * (json is never passed on: it compiles against the sample it was detected on, and each range would sample its own lines.)
 */
async function headFormat(path: string, tz: string | undefined, maxLineBytes: number): Promise<string | undefined> {
  const fh = await open(path, 'r');
  let head: Uint8Array;
  try {
    const buf = new Uint8Array(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    head = buf.subarray(0, buf.subarray(0, bytesRead).lastIndexOf(10) + 1);
  } finally {
    await fh.close();
  }
  if (head.length === 0) return undefined;
  try {
    const parse = parseInput((async function* () { yield head; })(), { tz, maxLineBytes });
    for await (const chunk of parse.chunks) void chunk;
    return parse.result().format?.id;
  } catch {
    return undefined;
  }
}

/**
 * Whether `path` can be cut into byte ranges: plain text at its start (plainHead) and a line
 * format, given (`format`), known from an earlier read (`knownFormat`) or detected from its head.
 * That format (the ranges after the first are parsed with it), or undefined: read it whole.
 */
async function rangesFormat(
  path: string, o: { readonly format: string | undefined; readonly tz: string | undefined; readonly maxLineBytes: number; readonly knownFormat?: string | undefined },
): Promise<string | undefined> {
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return undefined;
  let head: Uint8Array;
  try {
    const buf = new Uint8Array(PLAIN_HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  if (!plainHead(head)) return undefined;
  return o.format !== undefined ? o.format
    : o.knownFormat !== undefined ? rangeFormatOf(o.knownFormat) : await headFormat(path, o.tz, o.maxLineBytes);
}

/**
 * Plans one input: byte ranges for a large plain file, else one task.
 * `knownFormat`: the format of the input when already known (a later pass), else detected from its head.
 */
export async function planInput(
  path: string, sizeBytes: number | undefined, parts: number,
  o: { readonly format: string | undefined; readonly tz: string | undefined; readonly maxLineBytes: number; readonly knownFormat?: string | undefined; readonly taper?: number },
): Promise<InputPlan> {
  const whole: InputPlan = { path, ranges: null, rangeFormat: undefined };
  const min = minRangeBytes();
  if (parts <= 1 || sizeBytes === undefined || sizeBytes < 2 * min) return whole;
  const rangeFormat = await rangesFormat(path, o);
  if (rangeFormat === undefined) return whole;
  const ranges = await cutRanges(path, sizeBytes, parts, min, o.taper ?? 0);
  return ranges.length > 1 ? { path, ranges, rangeFormat } : whole;
}

/**
 * Byte ranges of a file that is still being written (the spill of standard input), cut while its
 * bytes arrive, so that pass 1 parses the first ranges on every thread while the rest is still
 * being read: the same decision and cuts as `planInput` would make of the finished file (plain
 * text of a line format, ranges starting right after a newline, see findCut), but ranges of a
 * fixed size (`step`) since the size is not known yet.
 */
export class GrowingRanges {
  readonly ranges: ByteRange[] = [];
  /** The format of the ranges after the first (as `InputPlan.rangeFormat`), once decided. */
  rangeFormat: string | undefined = undefined;
  private state: 'unknown' | 'no' | 'yes' = 'unknown';
  private cut = 0;
  private fh: FileHandle | null = null;
  constructor(
    readonly path: string, private readonly step: number,
    private readonly o: { readonly format: string | undefined; readonly tz: string | undefined; readonly maxLineBytes: number },
  ) {}

  /** `written` bytes of the file are written (in full, from its start): the ranges this cuts. */
  async grow(written: number): Promise<ByteRange[]> {
    if (this.state === 'unknown' && written >= HEAD_BYTES) await this.decide();
    const out: ByteRange[] = [];
    while (this.state === 'yes' && this.cut + this.step < written) {
      this.fh ??= await open(this.path, 'r');
      const at = await findCut(this.fh, this.cut + this.step, written, written, false);
      if (at < 0) break;
      out.push({ start: this.cut, end: at });
      this.cut = at;
    }
    this.ranges.push(...out);
    return out;
  }

  /**
   * The file is complete (`size` bytes): its last range, or null when no range was cut (a small
   * input, not plain text, no line format): plan the file as a whole then (`planInput`).
   */
  finish(size: number): ByteRange | null {
    if (this.ranges.length === 0) return null;
    if (this.cut >= size) return null;
    const last = { start: this.cut, end: size };
    this.ranges.push(last);
    this.cut = size;
    return last;
  }

  async close(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = null;
  }

  /** As planInput: plain text at the start, and a line format (given, or detected from the head). */
  private async decide(): Promise<void> {
    this.rangeFormat = await rangesFormat(this.path, this.o);
    this.state = this.rangeFormat === undefined ? 'no' : 'yes';
  }
}

/** A detected format the ranges after the first may be given (json compiles against its own sample: never passed on). */
export const rangeFormatOf = (id: string | undefined): string | undefined => (id === undefined || id === 'none' || id.trim() === 'json' ? undefined : id);

/** Pass 1's read of one range of planFromSegments: what a later pass returns for a range it skips. */
export type SpillRangeRead = ReadCommon & { readonly firstMs: number | null; readonly lastMs: number | null };

/**
 * Byte ranges of a plain file (an input's own ranges after pass 1, or a gzip input's decompressed
 * copy, decoded-spill.ts) cut at the starts of pass 1's segments (LineSegments), with the lines
 * before each range and pass 1's read of each (summed from its segments, as a range task would
 * report it). Null when the file is too small to cut, `rangeFormat` is unknown, or the segments do
 * not add up to pass 1's accounting of the input (then the caller keeps its plan).
 */
export function planFromSegments(
  file: Pick<DecodedSpillResult, 'path' | 'bytes' | 'segments'>, whole: { readonly accounting: Accounting; readonly format: FormatChoice | undefined },
  parts: number, rangeFormat: string | undefined,
): { plan: InputPlan; bases: number[]; reads: SpillRangeRead[] } | null {
  const { bytes, segments } = file;
  const min = minRangeBytes();
  if (parts <= 1 || rangeFormat === undefined || bytes < 2 * min || whole.format === undefined) return null;
  // Segment indices where ranges start.
  const n = Math.min(parts, Math.floor(bytes / min));
  const starts: number[] = [0];
  let m = 0;
  for (let r = 1; r < n; r++) {
    const want = Math.round((bytes * r) / n);
    while (m < segments.length && segments[m]!.offset < want) m++;
    if (m >= segments.length) break;
    if (m > starts[starts.length - 1]! && segments[m]!.offset < bytes) starts.push(m);
  }
  if (starts.length < 2) return null;
  const ranges: ByteRange[] = [];
  const bases: number[] = [];
  const reads: SpillRangeRead[] = [];
  const total = { lines: 0, parsed: 0 };
  for (const [r, first] of starts.entries()) {
    const last = (starts[r + 1] ?? segments.length) - 1;
    const start = segments[first]!.offset;
    const end = r + 1 < starts.length ? segments[starts[r + 1]!]!.offset : bytes;
    const accounting = emptyAccounting();
    let firstMs: number | null = null;
    let lastMs: number | null = null;
    for (let i = first; i <= last; i++) {
      const s = segments[i]!;
      accounting.parsed += s.parsed;
      for (const [reason, c] of Object.entries(s.byReason)) {
        accounting.byReason[reason as RejectReason] = (accounting.byReason[reason as RejectReason] ?? 0) + c;
        accounting.rejected += c;
      }
      if (s.firstMs !== null && (firstMs === null || s.firstMs < firstMs)) firstMs = s.firstMs;
      if (s.lastMs !== null && (lastMs === null || s.lastMs > lastMs)) lastMs = s.lastMs;
    }
    accounting.linesRead = accounting.parsed + accounting.rejected;
    accounting.bytesRead = end - start;
    // Each range's lines must be what its segments' line numbers say (nothing lost between marks).
    if (segments[first]!.line !== total.lines + 1) return null;
    total.lines += accounting.linesRead;
    total.parsed += accounting.parsed;
    ranges.push({ start, end });
    bases.push(segments[first]!.line - 1);
    const decode: DecodeReport = { compression: 'none', members: 0, bytesIn: end - start, bytesOut: end - start, flags: [], notes: [] };
    const format: FormatChoice = r === 0 ? whole.format : { ...whole.format, detected: false };
    reads.push({ parts: { accounting, decode, format }, sizeBytes: end - start, sha256: '', sizeStable: true, firstMs, lastMs });
  }
  if (total.lines !== whole.accounting.linesRead || total.parsed !== whole.accounting.parsed || ranges[ranges.length - 1]!.end !== bytes) return null;
  return { plan: { path: file.path, ranges, rangeFormat }, bases, reads };
}

/** The segments of a file's ranges (each the range's own offsets and lines) as segments of the whole file. */
export function joinSegments(ranges: readonly ByteRange[], bases: readonly number[], parts: readonly (readonly SpillSegment[])[]): SpillSegment[] {
  const out: SpillSegment[] = [];
  for (const [r, segs] of parts.entries()) {
    for (const s of segs) out.push({ ...s, byReason: { ...s.byReason }, offset: ranges[r]!.start + s.offset, line: bases[r]! + s.line });
  }
  return out;
}

/**
 * What later passes check a decoded spill against: the input's own size and SHA-256 (from pass 1)
 * with the spill's identity, so `recheckFile` finds it unchanged without hashing it (the spill is
 * this run's own file, written from the bytes pass 1 hashed).
 */
export async function decodedStandIn(spillPath: string, input: { readonly sizeBytes: number; readonly sha256: string }): Promise<HashedFile> {
  const identity = await stat(spillPath, { bigint: true }).then(identityOf, () => null);
  return { sizeBytes: input.sizeBytes, sha256: input.sha256, sizeStable: true, identity };
}

/** What is particular to a task of a pass (the rest is TaskCommon). */
export type TaskExtra = Omit<Pass1Task, keyof TaskCommon> | Omit<Pass2Task, keyof TaskCommon> | Omit<RecordsTask, keyof TaskCommon>;

/** The tasks of one input, in order (`extra(r)` for range r). */
export function inputTasks(plan: InputPlan, base: TaskBase, format: string | undefined, inputIndex: number, extra: (r: number) => TaskExtra): AnalyzeTask[] {
  const common = { ...base, path: plan.path, inputIndex };
  const ranges = plan.ranges ?? [null];
  return ranges.map((range, r) => ({ ...common, range, format: r === 0 ? format : plan.rangeFormat, ...extra(r) }));
}

/** What hashing a whole file gave. */
export interface HashedFile {
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly sizeStable: boolean;
  /**
   * The file's identity while it was hashed (device, inode, size, mtime and ctime in ns), or null when it
   * changed during the read or was changed too recently to tell (see `recheckFile`).
   */
  readonly identity: string | null;
}

/**
 * A file whose status changed less than this long before it was hashed gets no identity: the kernel's
 * ctime clock ticks coarsely (a jiffy), so a write in the same tick as the read would leave it unchanged
 * (git's "racy" entries, the same rule).
 */
const RACY_MS = 2000;

/** A file's identity (device, inode, size, mtime and ctime in ns): see `recheckFile`. */
export const identityOf = (st: BigIntStats): string => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;

/**
 * A later pass's check that a file is the one an earlier hash read, without reading it again: when
 * `known` has an identity and the file's identity (device, inode, size, mtime, ctime, in ns) is still
 * that, its bytes are the ones hashed: any write or truncation sets mtime and ctime, and ctime cannot
 * be set by a user. Otherwise the file is hashed again (so a change shows as a different size or SHA-256).
 * Saves a whole-file SHA-256 (~1 CPU-s per GB, on the thread that also merges) per later pass.
 */
export async function recheckFile(path: string, known: HashedFile | undefined, signal?: AbortSignal): Promise<HashedFile> {
  if (known?.identity) {
    const now = await stat(path, { bigint: true }).then(identityOf, () => null);
    if (now === known.identity) return known;
  }
  return hashFile(path, signal);
}

/**
 * Hashes a whole file as a sequential read does (size and SHA-256 of the bytes
 * read), through one reused buffer: the main thread allocates little while the
 * workers parse, so its heap is not collected and fresh buffers would pile up.
 * `trusted`: a file whose writes are all done and known (one the caller wrote itself), whose
 * identity holds however recently it was written. (The spill of standard input needs no hash of
 * its own: it is hashed as it is copied, stdin-spill.ts.)
 */
export async function hashFile(path: string, signal?: AbortSignal, trusted = false): Promise<HashedFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (error) {
    throw inputError(path, error);
  }
  try {
    const before = await fh.stat({ bigint: true });
    const size = Number(before.size);
    const hash = createHash('sha256');
    const buf = new Uint8Array(HASH_BUFFER_BYTES);
    let read = 0;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const { bytesRead } = await fh.read(buf, 0, buf.length, read);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      read += bytesRead;
    }
    const after = identityOf(await fh.stat({ bigint: true }));
    const racy = !trusted && before.ctimeMs + BigInt(RACY_MS) > BigInt(Date.now());
    const identity = size === read && after === identityOf(before) && !racy ? after : null;
    return { sizeBytes: read, sha256: hash.digest('hex'), sizeStable: size === read, identity };
  } catch (error) {
    if (signal?.aborted) throw error;
    throw inputError(path, error);
  } finally {
    await fh.close();
  }
}

/** Adds `a` to `into` (the accounting of several ranges or reads of one input). */
export function addAccounting(into: Accounting, a: Accounting): void {
  into.linesRead += a.linesRead;
  into.parsed += a.parsed;
  into.rejected += a.rejected;
  into.bytesRead += a.bytesRead;
  for (const [reason, c] of Object.entries(a.byReason)) into.byReason[reason as Reject['reason']] = (into.byReason[reason as Reject['reason']] ?? 0) + c;
}

/**
 * The ranges' results as one read of the whole input, or null when they may
 * differ from a sequential read (then the input is read again as one task).
 */
export function mergeReads(results: readonly AnalyzeTaskResult[], hashed: Omit<HashedFile, 'identity'>, rangeFormat: string | undefined): InputRead | null {
  const first = results[0]!;
  const f = first.parts.format;
  if (!f || f.id !== rangeFormat && f.detected) return null;
  const decode0 = first.parts.decode;
  if (!decode0 || decode0.compression !== 'none') return null;
  const accounting: Accounting = { ...first.parts.accounting, byReason: { ...first.parts.accounting.byReason } };
  const decode: DecodeReport = { ...decode0, flags: [...decode0.flags], notes: [...decode0.notes] };
  let bytes = first.sizeBytes;
  for (const r of results.slice(1)) {
    const d = r.parts.decode;
    if (!d || d.compression !== 'none' || d.flags.length > 0 || d.notes.length > 0) return null;
    addAccounting(accounting, r.parts.accounting);
    decode.bytesIn += d.bytesIn;
    decode.bytesOut += d.bytesOut;
    bytes += r.sizeBytes;
  }
  return {
    accounting, decode, format: f,
    sizeBytes: hashed.sizeBytes, sha256: hashed.sha256, sizeStable: hashed.sizeStable && bytes === hashed.sizeBytes,
  };
}

export interface RejectReplay {
  readonly sink: RejectsCsvSink;
  readonly sample: Reject[];
  readonly sampleMax: number;
  /** The input index the rejects get (rejects written by pass 1, before the inputs were put in canonical order). */
  readonly input?: number;
}

/** Replays one task's rejects into rejects.csv, adding `lineBase` to their line numbers; removes the spill file. */
export async function replayRejects(file: string, lineBase: number, o: RejectReplay): Promise<void> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let batch: Reject[] = [];
  for await (const line of lines) {
    if (line === '') continue;
    const r = JSON.parse(line) as Reject;
    const fixed: Reject = lineBase === 0 && o.input === undefined ? r : { ...r, line: r.line + lineBase, input: o.input ?? r.input };
    if (o.sample.length < o.sampleMax) o.sample.push(fixed);
    batch.push(fixed);
    if (batch.length >= 4096) {
      await o.sink.add(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await o.sink.add(batch);
  await rm(file, { force: true });
}

/**
 * Folds pass-2 results into the run's accumulators. The results are given away:
 * their tables and Maps are taken over where the run's are still empty, never
 * copied (the first result folded costs no memory).
 */
export function foldPass2(r: Pass2Result, attribution: Attribution, clients: ClientSet, scoped: ScopeCounts): void {
  if (r.live) {
    attribution.absorb(r.live.attribution);
    clients.merge(r.live.clients);
  }
  if (r.attribution) attribution.mergeSnapshot(r.attribution, true);
  if (r.clients) clients.merge(r.clients);
  scoped.fromForwardedFor += r.scoped.fromForwardedFor;
  scoped.proxyKept += r.scoped.proxyKept;
  scoped.otherVhost += r.scoped.otherVhost;
  scoped.withoutVhost += r.scoped.withoutVhost;
}
