/**
 * One unit of parallel work for `alf analyze` (run in a worker thread by
 * analyze-worker.ts, or inline): parse one input, or one byte range of a plain
 * input, and fold its records into partial state that merges exactly.
 *
 * - pass 1: accounting, decode report, format, first/last record time, and
 *   (unless --from/--to depend on the data) the timeline of the records in
 *   scope and in the time range; with `collect`, also the client set, the
 *   scope counts and the rejects;
 * - pass 2: the attribution for the burst windows of the merged pass-1
 *   timeline (every string column only for the records in the windows and
 *   their reference periods), and, unless pass 1 collected them, the client
 *   set, the scope counts and the rejects; when it did, only the records in
 *   those periods are parsed (`rowsOnly`).
 * Rejects are written to a spill file as JSON lines: the caller replays them
 * in canonical order, adding the line numbers of the ranges before.
 *
 * Byte offsets of rejects are made file-absolute here; line numbers are
 * relative to the range (its first line is 1).
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Analysis, AnalysisOptions, AnalysisSnapshot, Attribution, AttributionPlan, AttributionSnapshot, ClientSetSnapshot } from '@alf/core';
import { ClientSet, attributionFromPlan, createAnalysis, trustedProxies, vhostFilter } from '@alf/core';
import type { ParsedChunk, ParseOptions, ParseStreamOptions, RecordBatch, Reject } from '@alf/parser';
import { readLent } from '@alf/parser';
import type { InputResultParts } from './parse-input.ts';
import { parseInput } from './parse-input.ts';
import { FILE_READ_BYTES, openInput } from './inputs.ts';
import { batchSpan, filterByTime } from './analyze-filter.ts';
import { createRecordScope, emptyScopeCounts, pass1Columns } from './record-scope.ts';
import { heedPressure } from './memory.ts';
import { RecordsFold } from './analyze-records.ts';
import type { RecordsJob, RecordsTaskOutput } from './analyze-records.ts';
import { compactRows, writePiece } from './analyze-pieces.ts';
import { DecodedSpill, LineSegments } from './decoded-spill.ts';
import type { DecodedSpillResult, SpillSegment } from './decoded-spill.ts';
import type { ScopeCounts } from './record-scope.ts';

/** Rejects kept in the result for the stderr sample. */
const REJECT_SAMPLE = 5;

export interface TaskCommon {
  readonly path: string;
  /** Byte range of a plain file; null: the whole input (plain or gzip), hashed here. */
  readonly range: { readonly start: number; readonly end: number } | null;
  readonly format: string | undefined;
  readonly tz: string | undefined;
  readonly maxLineBytes: number;
  /** `--max-decompressed-bytes` (whole inputs only: a limited input is never cut into ranges). */
  readonly maxDecompressedBytes: number | undefined;
  /** Lines per parser batch (records.arrow has one batch per parser batch). */
  readonly batchRows: number;
  /** Lines per record batch of records.arrow: spilled rows are cut into pieces by this group of line numbers. */
  readonly groupRows: number;
  readonly inputIndex: number;
  readonly proxies: readonly string[] | null;
  readonly vhosts: readonly string[] | null;
  readonly fromMs: number | null;
  readonly toMs: number | null;
  readonly analysis: AnalysisOptions;
}

export interface Pass1Task extends TaskCommon {
  readonly kind: 'pass1';
  /** Fold the timeline (false when --from/--to are relative to the data). */
  readonly fold: boolean;
  /**
   * Also collect what pass 2 would otherwise collect from every line: the client set, the scope
   * counts and the rejects (written here as JSON lines); pass 2 then reads only the rows it
   * attributes (`Pass2Task.rowsOnly`). Null: pass 2 collects them.
   */
  readonly collect: { readonly rejectsFile: string } | null;
  /** A whole input: where to write its decompressed bytes when it is gzip (decoded-spill.ts), for the later passes. */
  readonly decodedSpill?: { readonly path: string; readonly markBytes: number } | null;
  /** A byte range: also note pass 1's read of it in segments of about this many bytes (LineSegments), for the later passes' finer ranges. */
  readonly segmentBytes?: number | null;
}

export interface Pass2Task extends TaskCommon {
  readonly kind: 'pass2';
  /**
   * The burst windows' ranges and caps the attribution is built from (`Analysis.attributionPlan`:
   * a few hundred bytes; until December 2026 the whole pass-1 timeline was sent, 18 MB at 10M
   * distinct IPs, and every thread rebuilt the windows from it).
   */
  readonly plan: AttributionPlan;
  /** The attacker-detail pass: the IPs per window to collect the detail of (`Attribution.trackedIps`). */
  readonly detailIps?: readonly (readonly string[])[] | null;
  /**
   * Per window, the detail-sample thresholds the main thread's accumulators had reached when the task
   * was handed out (`Attribution.lowerDetailLimits`): the task keeps no detail the merge would drop.
   */
  readonly detailLimits?: readonly number[];
  /**
   * Pass 1 collected the client set, scope counts and rejects of this range (`Pass1Task.collect`):
   * parse only the rows in the attribution's read ranges, skipping every other line; the result
   * then has no clients, scope counts nor rejects.
   */
  readonly rowsOnly: boolean;
  /**
   * rowsOnly, and pass 1 saw no record of this range inside the attribution's read ranges:
   * nothing to parse. The task reads nothing and gives back pass 1's read of the range
   * (the caller hashes the whole file again, so a change is still seen).
   */
  readonly skip?: ReadCommon | undefined;
  /** Where to write this task's rejects (JSON lines). */
  readonly rejectsFile: string;
  /**
   * The records of the pass-1 burst windows, spilled for the records pass (no
   * re-parse): where, the windows ([startMs, endMs) sorted), and the lines of the
   * input before this range; null when the records pass reads the input again.
   */
  readonly windowRows: { readonly spillFile: string; readonly windows: readonly (readonly [number, number])[]; readonly lineBase: number } | null;
}

export interface RecordsTask extends TaskCommon {
  readonly kind: 'records';
  readonly job: RecordsJob;
  /** Lines of the input before this range (its line numbers are relative to the range). */
  readonly lineBase: number;
  /** Where to spill the rows for records.arrow (RecordPiece), null when the job wants none. */
  readonly spillFile: string | null;
}

export type AnalyzeTask = Pass1Task | Pass2Task | RecordsTask;

export interface ReadCommon {
  readonly parts: InputResultParts;
  /** Bytes read (the range's length, or the whole input's). */
  readonly sizeBytes: number;
  /** SHA-256 of the bytes read (whole inputs; '' for a range). */
  readonly sha256: string;
  /** Whole inputs: false when the size changed while reading. */
  readonly sizeStable: boolean;
}

/** What a pass-1 task collected for pass 2 (`Pass1Task.collect`). */
export interface Pass1Collected {
  readonly clients: ClientSetSnapshot;
  readonly scoped: ScopeCounts;
  readonly rejects: number;
  readonly rejectsFile: string;
}

export interface Pass1Result extends ReadCommon {
  readonly kind: 'pass1';
  readonly collected: Pass1Collected | null;
  readonly firstMs: number | null;
  readonly lastMs: number | null;
  readonly local: AnalysisSnapshot | null;
  readonly localOutside: number;
  readonly localFirstMs: number | null;
  readonly localLastMs: number | null;
  /** The decompressed copy asked for by `decodedSpill`, when the whole input went into it. */
  readonly decoded: DecodedSpillResult | null;
  /** The segments asked for by `segmentBytes` (offsets and line numbers of the range). */
  readonly segments: readonly SpillSegment[] | null;
}

export interface Pass2Result extends ReadCommon {
  readonly kind: 'pass2';
  /** Null when the task ran on the caller's thread (TaskInline): then `live` holds its accumulators. */
  readonly attribution: AttributionSnapshot | null;
  readonly clients: ClientSetSnapshot | null;
  readonly live?: { readonly attribution: Attribution; readonly clients: ClientSet } | undefined;
  readonly scoped: ScopeCounts;
  readonly rejects: number;
  readonly rejectSample: readonly Reject[];
  /** The spill of the burst-window rows (RecordPiece, not yet selected), when asked for. */
  readonly windowRows: string | null;
}

export interface RecordsResult extends ReadCommon, RecordsTaskOutput {
  readonly kind: 'records';
}

export type AnalyzeTaskResult = Pass1Result | Pass2Result | RecordsResult;

class Span {
  firstMs: number | null = null;
  lastMs: number | null = null;
  add(first: number | null, last: number | null): void {
    if (first !== null && (this.firstMs === null || first < this.firstMs)) this.firstMs = first;
    if (last !== null && (this.lastMs === null || last > this.lastMs)) this.lastMs = last;
  }
}

interface Source {
  readonly bytes: AsyncIterable<Uint8Array>;
  sizeBytes(): number;
  sha256(): string;
  sizeStable(): boolean;
}

async function openSource(t: TaskCommon): Promise<Source> {
  if (t.range === null) {
    const input = await openInput(t.path);
    return { bytes: input.bytes, sizeBytes: () => input.bytesRead(), sha256: () => input.sha256(), sizeStable: () => input.sizeBytes === undefined || input.sizeBytes === input.bytesRead() };
  }
  // A range is not hashed: the caller hashes the whole file once, as a sequential read would.
  const { start, end } = t.range;
  let read = 0;
  async function* bytes(): AsyncGenerator<Uint8Array, void, undefined> {
    if (end <= start) return;
    const fh = await open(t.path, 'r');
    try {
      // chunks the parser hands back are read into again (readLent)
      for await (const chunk of readLent(fh, { start, end, chunkBytes: FILE_READ_BYTES })) {
        read += chunk.byteLength;
        yield chunk;
      }
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
  return { bytes: bytes(), sizeBytes: () => read, sha256: () => '', sizeStable: () => true };
}

/** Which string columns to fill (default: all). */
type Fill = Pick<ParseOptions, 'columns' | 'allColumnsWithin' | 'rowsWithin'>;

/** Parses the task's bytes, calling `onChunk` per chunk. */
async function read(
  t: TaskCommon, onChunk: (chunk: ParsedChunk) => void | Promise<void>, onProgress?: (lines: number) => void, aborted?: () => boolean, fill: Fill = {},
  onDecoded?: ParseStreamOptions['onDecoded'],
): Promise<ReadCommon> {
  const src = await openSource(t);
  const parse = parseInput(src.bytes, { format: t.format, tz: t.tz, maxLineBytes: t.maxLineBytes, maxDecompressedBytes: t.maxDecompressedBytes, batchRows: t.batchRows, inputIndex: t.inputIndex, ...fill, onDecoded });
  for await (const chunk of parse.chunks) {
    if (aborted?.()) throw new Error('stopped by a signal');
    onProgress?.(chunk.records.length + chunk.rejects.length);
    await onChunk(chunk);
  }
  return { parts: parse.result(), sizeBytes: src.sizeBytes(), sha256: src.sha256(), sizeStable: src.sizeStable() };
}

function scopeOf(t: TaskCommon): ReturnType<typeof createRecordScope> {
  return createRecordScope(t.proxies ? trustedProxies(t.proxies) : undefined, t.vhosts ? vhostFilter(t.vhosts) : undefined);
}

/** Runs one task to its end. */
/**
 * For a pass-2 task run on the caller's thread: a fresh attribution for the
 * caller's burst windows (the task then neither rebuilds the windows from the
 * timeline nor returns snapshots; the caller merges its live accumulators).
 */
export interface TaskInline {
  attribution(): Attribution;
}

export async function runTask(t: AnalyzeTask, onProgress?: (lines: number) => void, aborted?: () => boolean, inline?: TaskInline): Promise<AnalyzeTaskResult> {
  const scope = scopeOf(t);
  if (t.kind === 'pass1') {
    const local = t.fold ? createAnalysis(t.analysis) : null;
    const span = new Span();
    const localSpan = new Span();
    let localOutside = 0;
    const collect = t.collect === null ? null : { clients: new ClientSet(), scoped: emptyScopeCounts(), rejects: await RejectSpill.open(t.collect.rejectsFile, t.range?.start ?? 0) };
    const decoded = t.decodedSpill && t.range === null && t.maxDecompressedBytes === undefined ? new DecodedSpill(t.decodedSpill.path, t.path, { markBytes: t.decodedSpill.markBytes }) : null;
    const segments = t.segmentBytes && t.range !== null ? new LineSegments(t.segmentBytes) : null;
    try {
      const r = await read(t, async (chunk) => {
        decoded?.add(chunk);
        segments?.add(chunk);
        const s = batchSpan(chunk.records);
        if (s) span.add(s.firstMs, s.lastMs);
        const records = collect ? scope.apply(chunk.records, collect.scoped) : local ? scope.apply(chunk.records) : chunk.records;
        if (collect) {
          collect.clients.add(records);
          await collect.rejects.add(chunk.rejects);
        }
        if (!local) return;
        const f = filterByTime(records, t.fromMs, t.toMs);
        localOutside += f.skipped;
        const ls = batchSpan(f.batch);
        if (ls) localSpan.add(ls.firstMs, ls.lastMs);
        local.add(f.batch);
      }, onProgress, aborted, { columns: pass1Columns(t.proxies !== null, t.vhosts !== null) }, decoded?.piece);
      return {
        kind: 'pass1', ...r, firstMs: span.firstMs, lastMs: span.lastMs, local: local ? local.snapshot() : null,
        localOutside, localFirstMs: localSpan.firstMs, localLastMs: localSpan.lastMs, decoded: decoded ? await decoded.finish() : null, segments: segments?.segments ?? null,
        collected: collect ? { clients: collect.clients.snapshot(), scoped: collect.scoped, rejects: collect.rejects.count, rejectsFile: t.collect!.rejectsFile } : null,
      };
    } finally {
      await decoded?.discard();
      await collect?.rejects.close();
    }
  }
  if (t.kind === 'records') return recordsTask(t, onProgress, aborted);
  if (t.skip !== undefined) {
    // Nothing of this range is read; its (empty) reject and window-row spills still exist for the caller.
    await (await RejectSpill.open(t.rejectsFile, 0)).close();
    if (t.windowRows) await (await open(t.windowRows.spillFile, 'w', 0o600)).close();
    return {
      kind: 'pass2', ...t.skip, attribution: null, clients: null, live: undefined, scoped: emptyScopeCounts(), rejects: 0, rejectSample: [],
      windowRows: t.windowRows?.spillFile ?? null,
    };
  }
  let attribution: Attribution;
  if (inline) attribution = inline.attribution();
  else attribution = attributionFromPlan(t.plan, t.detailIps);
  if (t.detailLimits) attribution.lowerDetailLimits(t.detailLimits);
  const clients = new ClientSet();
  const scoped = emptyScopeCounts();
  const base = t.range?.start ?? 0;
  const out = await RejectSpill.open(t.rejectsFile, base);
  const spill = t.windowRows ? await open(t.windowRows.spillFile, 'w', 0o600) : null;
  try {
    const r = await read(t, async (chunk) => {
      // rowsOnly: pass 1 collected the rejects, scope counts and clients; every row here is in a read range
      if (!t.rowsOnly) await out.add(chunk.rejects);
      const records = t.rowsOnly ? scope.apply(chunk.records) : scope.apply(chunk.records, scoped);
      const inRange = filterByTime(records, t.fromMs, t.toMs).batch;
      attribution.add(inRange);
      heedPressure((records.path.values.length + records.userAgent.values.length) / Math.max(1, records.length));
      if (!t.rowsOnly) clients.add(records);
      if (spill) await spillWindowRows(spill, inRange, t.windowRows!, t.groupRows, base);
    }, onProgress, aborted, t.rowsOnly ? pass2RowsFill(t, attribution) : pass2Fill(t, attribution));
    return {
      kind: 'pass2', ...r, attribution: inline ? null : attribution.snapshot(true), clients: inline ? null : clients.snapshot(),
      live: inline ? { attribution, clients } : undefined, scoped, rejects: out.count, rejectSample: out.sample,
      windowRows: t.windowRows?.spillFile ?? null,
    };
  } finally {
    await out.close();
    await spill?.close();
  }
}

/** A task's rejects as JSON lines (byte offsets made file-absolute), and the first few for the stderr sample. */
export class RejectSpill {
  count = 0;
  readonly sample: Reject[] = [];
  private readonly fh: FileHandle;
  private readonly byteBase: number;

  private constructor(fh: FileHandle, byteBase: number) {
    this.fh = fh;
    this.byteBase = byteBase;
  }

  static async open(file: string, byteBase: number): Promise<RejectSpill> {
    return new RejectSpill(await open(file, 'w', 0o600), byteBase);
  }

  async add(rejects: readonly Reject[]): Promise<void> {
    if (rejects.length === 0) return;
    const lines: string[] = [];
    for (const x of rejects) {
      const fixed: Reject = this.byteBase === 0 ? x : { ...x, byteOffset: x.byteOffset + this.byteBase };
      if (this.sample.length < REJECT_SAMPLE) this.sample.push(fixed);
      lines.push(JSON.stringify(fixed));
    }
    this.count += rejects.length;
    await this.fh.write(`${lines.join('\n')}\n`);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/**
 * Pass 2 needs every string column only of the records the attribution reads (burst windows and
 * their reference periods, which hold the spilled window rows); of the others the client, time and
 * status, and the columns of the record scope.
 */
export function pass2Fill(t: Pick<TaskCommon, 'proxies' | 'vhosts'>, attribution: Attribution): Fill {
  return { columns: pass1Columns(t.proxies !== null, t.vhosts !== null), allColumnsWithin: attribution.readRanges() };
}

/**
 * Pass 2 after pass 1 collected the rest (`Pass2Task.rowsOnly`): only the records the attribution
 * reads, every string column inside a window, and in the reference periods only the query (and the
 * columns of the record scope): a reference record counts a request, an error or a random query of
 * its client, and its path, referer and agent would be interned for nothing (in the `urls` hostile
 * log, 5M of the 7.8M records pass 2 parses).
 */
export function pass2RowsFill(t: Pick<TaskCommon, 'proxies' | 'vhosts'>, attribution: Attribution): Fill {
  return { rowsWithin: attribution.readRanges(), allColumnsWithin: attribution.fullRanges(), columns: [...pass1Columns(t.proxies !== null, t.vhosts !== null), 'query'] };
}

/** Spills the rows of `batch` inside a window, one piece per parser batch of the whole input (by global line number). */
async function spillWindowRows(fh: FileHandle, batch: RecordBatch, w: NonNullable<Pass2Task['windowRows']>, groupRows: number, byteBase: number): Promise<void> {
  const n = batch.length;
  if (n === 0 || w.windows.length === 0) return;
  const rows = new Int32Array(n);
  let count = 0;
  const ws = w.windows;
  for (let i = 0; i < n; i++) {
    const ts = batch.ts[i]!;
    let lo = 0;
    let hi = ws.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ts < ws[mid]![0]) hi = mid - 1;
      else if (ts >= ws[mid]![1]) lo = mid + 1;
      else {
        rows[count++] = i;
        break;
      }
    }
  }
  await writeGroups(fh, batch, rows, count, null, w.lineBase, byteBase, groupRows);
}

/** Writes rows[0..count) of `batch` as pieces, one per group of `groupRows` lines of the whole input. */
async function writeGroups(fh: FileHandle, batch: RecordBatch, rows: Int32Array, count: number, burstIds: Int32Array | null, lineBase: number, byteBase: number, groupRows: number): Promise<void> {
  let from = 0;
  while (from < count) {
    const group = Math.floor((batch.line[rows[from]!]! + lineBase - 1) / groupRows);
    const groupEnd = (group + 1) * groupRows; // last line of the group
    let to = from + 1;
    while (to < count && batch.line[rows[to]!]! + lineBase <= groupEnd) to++;
    const part = rows.subarray(from, to);
    await writePiece(fh, { group, batch: compactRows(batch, part, part.length, lineBase, byteBase), burstIds: burstIds ? burstIds.slice(from, to) : new Int32Array(0) });
    from = to;
  }
}

/** The records pass over one range: burst rows counted and sampled; rows for records.arrow spilled by parser batch. */
async function recordsTask(t: RecordsTask, onProgress?: (lines: number) => void, aborted?: () => boolean): Promise<RecordsResult> {
  const scope = scopeOf(t);
  const fold = new RecordsFold(t.job);
  const byteBase = t.range?.start ?? 0;
  const out = t.spillFile === null ? null : await open(t.spillFile, 'w', 0o600);
  try {
    const r = await read(t, async (chunk) => {
      const batch = filterByTime(scope.apply(chunk.records), t.fromMs, t.toMs).batch;
      if (batch.length === 0) return;
      const { rows, burstIds, count } = fold.select(batch, t.inputIndex, t.lineBase, byteBase);
      if (!out || count === 0) return;
      await writeGroups(out, batch, rows, count, burstIds, t.lineBase, byteBase, t.groupRows);
    }, onProgress, aborted);
    return { kind: 'records', ...r, fold: fold.parts(), spillFile: t.spillFile };
  } finally {
    await out?.close();
  }
}
