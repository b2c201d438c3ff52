/**
 * What `alf analyze` does (the command's definition is in commands/analyze.ts;
 * this module is loaded only when the command runs, so `--help` stays fast).
 *
 * Pass 1 parses every input once (standard input is copied to a spill file),
 * hashes it and folds its records into the timeline; an input whose bytes were
 * already seen (same SHA-256) is counted once. Inputs are then put in a
 * canonical order (SHA-256, then name) and pass 2 re-reads them in that order,
 * checking that each is unchanged, streaming rejects into rejects.csv and
 * folding records into the attribution (with worker threads, pass 1 already
 * collected the rejects and the client set of the files, and pass 2 parses
 * only the records of the burst windows and their reference periods). With `--from`/`--to` relative to the
 * data (`+2h`, `-30m`) the bounds are known only after pass 1, so the timeline
 * is built by an extra pass. Once the analysis has finished, a records pass
 * (analyze-records.ts) reads the inputs again for records.arrow (`--records`)
 * and the evidence lines of each burst. Every file of the pack except manifest.json is a
 * function of the inputs' bytes and the options: not of paths, order or stdin.
 */
import type { Analysis, AnalysisResult, Attribution, AttributionPlan } from '@alf/core';
import { createAnalysis, resolveOptions } from '@alf/core';
import { ClientSet, Timeline, attributionFromPlan, burstSeries } from '@alf/core';
import { openGeo } from '@alf/geo';
import type { Geo } from '@alf/geo';
import { AlfError, isAlfError } from '@alf/parser';
import type { ParsedChunk, Reject } from '@alf/parser';
import {
  analysisPackCounts, createPack, databaseManifestEntries, isoSeconds, openRejectsCsv, writeAnalysisPack,
} from '@alf/report';
import type { AnalysisPackInput, JsonObject, ManifestInput, PackInputSummary, PackWriter, RejectsCsvSink } from '@alf/report';
import { join, resolve } from 'node:path';
import type { AnalyzeArgs } from './commands/analyze.ts';
import { resolveBound, validateAnalyzeOptions } from './analyze-options.ts';
import type { AnalyzeOptions } from './analyze-options.ts';
import { batchSpan, filterByTime } from './analyze-filter.ts';
import { createTempDir, isStdin, readInput } from './analyze-inputs.ts';
import type { InputRead, InputSource } from './analyze-inputs.ts';
import { writeRecordsAndEvidence } from './analyze-records.ts';
import type { RecordsTaskOutput } from './analyze-records.ts';
import { GrowingRanges, decodedStandIn, foldPass2, hashFile, inputTasks, joinSegments, mergeReads, minRangeBytes, planFromSegments, planInput, rangeFormatOf, recheckFile, replayRejects } from './analyze-parallel.ts';
import type { HashedFile, InputPlan, SpillRangeRead, TaskBase, TaskExtra } from './analyze-parallel.ts';
import type { ByteRange } from './analyze-ranges.ts';
import type { AnalyzeTask, AnalyzeTaskResult, Pass1Collected, Pass1Result, Pass2Result, ReadCommon, RecordsResult } from './analyze-task.ts';
import { RejectSpill, pass2Fill } from './analyze-task.ts';
import { createWorkerPool } from './analyze-workers.ts';
import type { WorkerPool } from './analyze-workers.ts';
import { rm, stat } from 'node:fs/promises';
import { addScopeCounts, createRecordScope, emptyScopeCounts, pass1Columns, scopeLines } from './record-scope.ts';
import { burstLines, defaultPackName, packInputName } from './analyze-summary.ts';
import { say } from './context.ts';
import type { CommandContext } from './context.ts';
import { EXIT } from './exit-codes.ts';
import { STDIN_NAME, checkInputs, openInput } from './inputs.ts';
import { createProgress } from './progress.ts';
import { styleFor } from './style.ts';
import { formatSummary } from './summary.ts';
import type { InputResult } from './summary.ts';
import { terminalSafe } from './terminal-text.ts';
import { spillStdin } from './stdin-spill.ts';
import { MARK_BYTES } from './decoded-spill.ts';
import { parkClients, unparkClients } from './client-park.ts';
import { trace, traceBuffers, traceFiles } from './trace.ts';
import { settle } from './memory.ts';

/** Rejects shown on stderr (all are in rejects.csv). */
const REJECT_SAMPLE = 5;
/** Input flags that make the pack `partial`: part of an input is missing from the analysis, or it changed. */
const CUT_SHORT: readonly string[] = ['truncated', 'decompressed_limit', 'changed'];
/**
 * Lines per record batch of records.arrow (ALF_BATCH_ROWS: tests only): the parser batch of a
 * sequential records pass, and the group by line number that spilled pieces are joined by
 * (analyze-task.ts `writeGroups`), so the file does not depend on threads or ranges. 8,192
 * rather than 65,536: a record batch of a burst window is then ~2 MB instead of ~15 MB, built,
 * copied and hashed while the next is read; on the 5M-line bench the records pass took 2.3
 * instead of 3.4 s (2.7 instead of 4.2 CPU-s) and its RSS stayed 40 MB lower.
 */
const GROUP_ROWS = ((v) => (Number.isSafeInteger(v) && v > 0 ? v : 8192))(Number(process.env['ALF_BATCH_ROWS']));
/**
 * Lines per parser batch everywhere else (never more than a group): a batch of 65,536 rows is ~6 MB of
 * typed arrays, allocated and dropped 150 times a GB on every thread; at 8,192 rows the 5M-line
 * bench peaked at 451 instead of 527 MB (2 threads), with no more CPU.
 */
const BATCH_ROWS = Math.min(GROUP_ROWS, 8192);
/**
 * Byte ranges per thread a large plain file is cut into: a thread that is done takes the next range, so
 * the main thread (which also hashes the inputs and merges) and the workers end together, and the
 * ranges that hold the burst windows (most of pass 2's work) are spread over the threads.
 */
const RANGES_PER_THREAD = ((v) => (Number.isSafeInteger(v) && v > 0 ? v : 4))(Number(process.env['ALF_RANGES_PER_THREAD']));
/**
 * Standard input's spill is cut while it is written into ranges of this many times the smallest range
 * (8 MiB: 32 MiB ranges), parsed by every thread meanwhile (GrowingRanges).
 */
const STDIN_RANGE_STEPS = 4;
/** Ranges per thread of the later passes, cut at pass 1's segments (most are skipped: pass 2 reads those around the windows). */
const LATER_RANGES_PER_THREAD = ((v) => (Number.isSafeInteger(v) && v > 0 ? v : 16))(Number(process.env['ALF_LATER_RANGES_PER_THREAD']));
/** The `input` column is a Uint16. */
const MAX_INPUTS = 65_535;
/**
 * Bytes of exact per-IP count tables (all burst windows together) a pass-2 accumulator keeps in memory; past it
 * they go to sorted runs in the scratch directory (core's IpCounts): one IP among 2^24 single-request clients
 * (`heavy`) held 268 MB of table at the end of pass 2 (837,612 KB peak); with runs past 48 MB 569,244–588,916 KB,
 * past 16 MB 501,072 KB (19 runs, 168 MB on disk). `ALF_COUNTS_TABLE_MB` sets it (tests force runs with a small one).
 */
const COUNTS_TABLE_BYTES = ((v) => (Number.isFinite(v) && v > 0 ? Math.round(v * 1048576) : 16 << 20))(Number(process.env['ALF_COUNTS_TABLE_MB']));

/** A pass-2 plan whose count tables spill to sorted runs in `dir` past COUNTS_TABLE_BYTES. */
function withCountsSpill(plan: AttributionPlan, dir: string): AttributionPlan {
  return { ...plan, options: { ...plan.options, countsSpill: { dir, tableBytes: COUNTS_TABLE_BYTES } } };
}

/** What pass 2 keeps of a pass-1 range read: its accounting and record span (`Pass2Task.skip`). */
/** A pass-1 range's read, as pass 2 returns it for a range it skips. */
type Pass1Read = SpillRangeRead;
const pass1Read = (r: Pass1Result): Pass1Read => ({ parts: r.parts, sizeBytes: r.sizeBytes, sha256: r.sha256, sizeStable: r.sizeStable, firstMs: r.firstMs, lastMs: r.lastMs });
/** Where the rejects a pass-1 range collected wait for pass 2. */
type Pass1Rejects = Pick<Pass1Collected, 'rejects' | 'rejectsFile'>;

/** One distinct input (by content) after pass 1. */
interface Input {
  readonly name: string;
  readonly source: InputSource;
  readonly read: InputRead;
  /** First and last record time of the whole input (before --from/--to). */
  readonly firstMs: number | null;
  readonly lastMs: number | null;
  readonly flags: string[];
  readonly notes: string[];
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Keeps a running first/last over batches. */
class Span {
  firstMs: number | null = null;
  lastMs: number | null = null;
  addBatch(b: ParsedChunk['records']): void {
    const s = batchSpan(b);
    if (s) this.add(s.firstMs, s.lastMs);
  }
  add(first: number | null, last: number | null): void {
    if (first !== null && (this.firstMs === null || first < this.firstMs)) this.firstMs = first;
    if (last !== null && (this.lastMs === null || last > this.lastMs)) this.lastMs = last;
  }
}

function manifestOptions(opts: AnalyzeOptions): JsonObject {
  const resolved = resolveOptions(opts.analysis);
  return {
    format: opts.format ?? null,
    tz: opts.tz ?? null,
    from: opts.from ?? null,
    to: opts.to ?? null,
    sensitivity: opts.sensitivity,
    minRequests: opts['min-requests'] ?? null,
    maxLineBytes: opts['max-line-bytes'],
    maxDecompressedBytes: opts['max-decompressed-bytes'] ?? null,
    maxRejectRatio: opts['max-reject-ratio'],
    records: opts.records,
    trustedProxy: opts['trusted-proxy']?.cidrs ?? null,
    vhost: opts.vhost?.patterns ?? null,
    analysis: { ...resolved, scalesS: [...resolved.scalesS] },
  };
}

async function openPack(dir: string, opts: AnalyzeOptions, ctx: CommandContext): Promise<PackWriter> {
  try {
    return await createPack(dir, {
      tool: { name: 'alf', version: ctx.version },
      argv: ['alf', ...process.argv.slice(2)],
      options: manifestOptions(opts),
      replace: opts.force,
    });
  } catch (error) {
    if (isAlfError(error) && error.context['reason'] === 'previous_pack') {
      throw new AlfError('ALF_OUTPUT_UNWRITABLE', `\`${dir}\` already holds an alf evidence pack: add --force to replace it, or choose another directory with --out`, { ...error.context }, { cause: error });
    }
    throw error;
  }
}

function manifestInput(i: Input): ManifestInput {
  const decode = i.read.decode;
  return {
    path: i.name,
    stdin: isStdin(i.name),
    size: i.read.sizeBytes,
    sha256: i.read.sha256,
    complete: true,
    ...(decode ? { decode: { ...decode, flags: [...i.flags] as typeof decode.flags, notes: [...i.notes] } } : {}),
  };
}

function packInput(i: Input): PackInputSummary {
  const decode = i.read.decode;
  return {
    name: packInputName(i.read.sha256, i.name),
    sizeBytes: i.read.sizeBytes,
    sha256: i.read.sha256,
    format: i.read.format?.id ?? 'none',
    accounting: i.read.accounting,
    decode: decode ? { ...decode, flags: [...i.flags] as typeof decode.flags, notes: [...i.notes] } : null,
    firstMs: i.firstMs,
    lastMs: i.lastMs,
  };
}

function inputResult(i: Input): InputResult {
  return {
    name: i.name, sizeBytes: i.read.sizeBytes, sha256: i.read.sha256, complete: true, accounting: i.read.accounting,
    decode: i.read.decode, format: i.read.format, flags: i.flags, notes: i.notes,
  };
}

/** Flags an input whose bytes differ from what pass 1 read. */
function checkUnchanged(i: Input, again: InputRead, pass: string): void {
  if (again.sha256 === i.read.sha256 && again.sizeBytes === i.read.sizeBytes) return;
  if (!i.flags.includes('changed')) i.flags.push('changed');
  i.notes.push(`changed between reads: ${i.read.sizeBytes} bytes (sha256 ${i.read.sha256.slice(0, 16)}…) in pass 1, ${again.sizeBytes} bytes (sha256 ${again.sha256.slice(0, 16)}…) in ${pass}`);
}

export async function runAnalyze(args: AnalyzeArgs): Promise<number> {
  // --engine clickhouse: the analysis as SQL on a table (clickhouse/analyze-run.ts).
  if (args.engine !== undefined && args.engine !== 'local') return (await import('./clickhouse/analyze-run.ts')).runClickHouseAnalyze(args);
  if (args.url !== undefined || args.table !== undefined || args.columns !== undefined) throw new AlfError('ALF_USAGE', '`--url`, `--table` and `--columns` go with `--engine clickhouse` (add it to analyse a ClickHouse table)');
  const ctx = args.alf;
  const opts = validateAnalyzeOptions(args);
  let files = opts.files;
  if (files.length === 0) {
    if (ctx.stdin.isTTY) {
      throw new AlfError('ALF_USAGE', 'no input: name log files (plain or gzip), or `-` to read standard input, e.g. `alf analyze access.log` or `zcat *.gz | alf analyze -`', { showUsage: true });
    }
    files = [STDIN_NAME];
  }
  if (files.filter(isStdin).length > 1) throw new AlfError('ALF_USAGE', '`-` (standard input) can be given only once');
  if (files.length > MAX_INPUTS) throw new AlfError('ALF_USAGE', `at most ${MAX_INPUTS} inputs per run; got ${files.length}. Concatenate them (e.g. \`cat … | alf analyze -\`)`);
  await checkInputs(files);
  // --vhost and --trusted-proxy: applied to every batch of every pass, before --from/--to; counted in the last pass.
  const scope = createRecordScope(opts['trusted-proxy'], opts.vhost);
  const scoped = emptyScopeCounts();

  // Databases first: a bad --asn-db/--geo-db stops the run before any reading (exit 3).
  const config = ctx.config?.values ?? {};
  const fromConfig = (key: string, value: string | undefined): boolean =>
    value !== undefined && config[key] === value && !process.argv.some((a) => a === `--${key}` || a.startsWith(`--${key}=`));
  const geo: Geo = await openGeo({
    asnDb: fromConfig('asn-db', opts['asn-db']) ? undefined : opts['asn-db'],
    geoDb: fromConfig('geo-db', opts['geo-db']) ? undefined : opts['geo-db'],
    config: {
      asnDb: fromConfig('asn-db', opts['asn-db']) ? opts['asn-db'] : undefined,
      geoDb: fromConfig('geo-db', opts['geo-db']) ? opts['geo-db'] : undefined,
    },
  });
  const temp = createTempDir();
  const progress = createProgress(ctx.stderr, !opts.quiet);
  let pack: PackWriter | undefined;
  let sink: RejectsCsvSink | undefined;
  let inputs: Input[] = [];
  let pool: WorkerPool | undefined;
  try {
    // With --out an unwritable place fails before any input is read.
    if (opts.out !== undefined) pack = await openPack(resolve(opts.out), opts, ctx);
    const relative = opts.fromBound?.kind === 'relative' || opts.toBound?.kind === 'relative';
    const passes = relative ? 3 : 2;
    const label = (name: string, pass: number): string => `${isStdin(name) ? '(standard input)' : name} [pass ${pass}/${passes}]`;
    const maxDecompressedBytes = opts['max-decompressed-bytes'];
    const parseOptions = (inputIndex: number, batchRows = BATCH_ROWS) => ({ format: opts.format, tz: opts.tz, maxLineBytes: opts['max-line-bytes'], maxDecompressedBytes, batchRows, inputIndex });
    if (opts.workers > 1) {
      pool = createWorkerPool(opts.workers, (n) => progress.addLines(n), ctx.signal);
      trace('workers started');
    }
    const planFile = async (path: string, knownFormat: string | undefined): Promise<InputPlan> => {
      const size = await stat(path).then((st) => (st.isFile() ? st.size : undefined), () => undefined);
      // A byte limit is per input, as `alf parse` applies it: such inputs are not cut into ranges.
      return planInput(path, size, maxDecompressedBytes === undefined ? opts.workers * RANGES_PER_THREAD : 1, { format: opts.format, tz: opts.tz, maxLineBytes: opts['max-line-bytes'], knownFormat, taper: opts.workers });
    };
    const taskBase = (from: number | null, to: number | null): TaskBase => ({
      tz: opts.tz, maxLineBytes: opts['max-line-bytes'], maxDecompressedBytes, batchRows: BATCH_ROWS, groupRows: GROUP_ROWS, proxies: opts['trusted-proxy']?.cidrs ?? null, vhosts: opts.vhost?.patterns ?? null,
      fromMs: from, toMs: to, analysis: opts.analysis,
    });
    const wholeRead = (r: AnalyzeTaskResult): InputRead => ({ ...r.parts, sizeBytes: r.sizeBytes, sha256: r.sha256, sizeStable: r.sizeStable });
    /**
     * A later pass over the canonical inputs on the worker pool: all tasks queued
     * at once, each input's results used in order (after checking it is unchanged).
     */
    const inParallel = async (
      on: WorkerPool, pass: string, make: (k: number, plan: InputPlan) => AnalyzeTask[],
      use: (k: number, results: readonly AnalyzeTaskResult[], tasks: readonly AnalyzeTask[], plan: InputPlan) => Promise<void>,
      fixedPlan?: (k: number) => InputPlan | undefined,
      which: readonly number[] = [...inputs.keys()],
      /** Folds each result of input k as it arrives (what it returns is kept for `use`); `reset(k)` drops that fold before a re-run. */
      early?: { each(k: number, i: number, r: AnalyzeTaskResult): AnalyzeTaskResult; reset(k: number): void },
    ): Promise<void> => {
      const jobs: { k: number; plan: InputPlan; tasks: AnalyzeTask[]; results: Promise<AnalyzeTaskResult[]>; hashed: Promise<HashedFile | null> }[] = [];
      for (const k of which) {
        const i = inputs[k]!;
        const plan = fixedPlan?.(k) ?? await planFile(i.source.path, i.read.format?.id);
        const tasks = make(k, plan);
        const results = on.run(tasks, early && ((t, r) => early.each(k, t, r)));
        const hashed = plan.ranges === null ? Promise.resolve(null) : recheckFile(plan.path, hashedInPass1.get(plan.path), ctx.signal);
        results.catch(() => undefined); // awaited below
        hashed.catch(() => undefined);
        jobs.push({ k, plan, tasks, results, hashed });
      }
      if (jobs.length === 0) return;
      progress.startInput(`${inputs.length} input${inputs.length === 1 ? '' : 's'} [${pass}, ${opts.workers} threads]`, undefined, () => 0);
      for (const job of jobs) {
        const { k } = job;
        let { tasks, plan } = job;
        let results = await job.results;
        const hashed = await job.hashed;
        let again = hashed === null ? wholeRead(results[0]!) : mergeReads(results, hashed, plan.rangeFormat);
        if (again === null) {
          plan = { ...plan, ranges: null };
          tasks = make(k, plan);
          early?.reset(k);
          results = await on.run(tasks, early && ((t, r) => early.each(k, t, r)));
          again = wholeRead(results[0]!);
        }
        checkUnchanged(inputs[k]!, again, pass);
        await use(k, results, tasks, plan);
      }
    };

    // Pass 1: read, hash, account; fold the timeline unless the bounds depend on the data.
    const analysis = createAnalysis(opts.analysis);
    let fromMs = relative ? null : resolveBound(opts.fromBound, null, null);
    let toMs = relative ? null : resolveBound(opts.toBound, null, null);
    let outside = 0;
    const analysed = new Span();
    const bySha = new Map<string, Input>();
    const duplicates: { name: string; of: string; sha256: string }[] = [];
    /** Input path → how pass 1 cut it, and the lines before each range (later passes cut it the same way). */
    const pass1Plans = new Map<string, { plan: InputPlan; bases: number[]; reads?: readonly Pass1Read[] }>();
    /** Decompressed copies of gzip inputs the later passes read instead (decoded-spill.ts): plain files. */
    const decodedSpills = new Set<string>();
    /** Input path → its pass-1 hash, with the file's identity: later passes check that instead of hashing again. */
    const hashedInPass1 = new Map<string, HashedFile>();
    // Every client seen (before --from/--to): the normal clients blocklists must not cover.
    let clients = new ClientSet();
    /**
     * Input (SHA-256) → what pass 1 collected for pass 2 by range, and the lines before each range
     * (clients and scope counts are merged at once; the rejects are replayed in canonical order in pass 2).
     */
    const collectedBySha = new Map<string, { readonly parts: readonly Pass1Rejects[]; readonly bases: readonly number[] }>();
    /** Pass 1 of one input, however it was read. */
    const addPass1 = (name: string, read: InputRead, span: Span, local: Analysis | undefined, localSpan: Span, localOutside: number, spillTo: string | undefined,
      collected: { readonly parts: readonly Pass1Collected[]; readonly bases: readonly number[] } | null = null): void => {
      const seen = bySha.get(read.sha256);
      if (seen) {
        duplicates.push({ name, of: seen.name, sha256: read.sha256 });
        // Its copy (standard input's spill, a gzip input's decoded copy) is not read again: free the disk now, not at the end.
        if (spillTo !== undefined) void rm(spillTo, { force: true }).catch(() => undefined);
        return;
      }
      if (collected !== null) {
        // Clients and scope counts are merged now; only where the rejects wait is kept (not the client sets: tens of MB with millions of clients).
        collectedBySha.set(read.sha256, { parts: collected.parts.map((c) => ({ rejects: c.rejects, rejectsFile: c.rejectsFile })), bases: collected.bases });
        for (const c of collected.parts) {
          clients.merge(c.clients);
          addScopeCounts(scoped, c.scoped);
        }
      }
      const flags = [...(read.decode?.flags ?? [])];
      const notes = [...(read.decode?.notes ?? [])];
      if (!read.sizeStable && !flags.includes('changed')) {
        flags.push('changed');
        notes.push('size changed while it was read');
      }
      const input: Input = { name, source: { name, path: spillTo ?? name }, read, firstMs: span.firstMs, lastMs: span.lastMs, flags, notes };
      bySha.set(read.sha256, input);
      if (local) {
        analysis.merge(local);
        outside += localOutside;
        analysed.add(localSpan.firstMs, localSpan.lastMs);
      }
    };
    /** Pass 1 of one input on this thread (without worker threads; standard input with a byte limit: it is read once, here, and spilled). */
    const pass1Here = async (index: number, name: string): Promise<void> => {
      const local = relative ? undefined : createAnalysis(opts.analysis);
      const span = new Span();
      const localSpan = new Span();
      let localOutside = 0;
      const spillTo = isStdin(name) ? join(await temp.path(), 'stdin') : undefined;
      // With worker threads, standard input's clients, scope counts and rejects are collected here too (as the file tasks do).
      const rejectsFile = pool === undefined ? '' : join(await temp.path(), `pass1-rejects-${index}-here.jsonl`);
      const collect = pool === undefined ? null : { clients: new ClientSet(), scoped: emptyScopeCounts(), rejects: await RejectSpill.open(rejectsFile, 0) };
      let read: InputRead;
      try {
        read = await readInput({ name, path: name }, {
          parse: { ...parseOptions(index), columns: pass1Columns(opts['trusted-proxy'] !== undefined, opts.vhost !== undefined) }, ctx, progress, label: label(name, 1), spillTo,
          onChunk: async (chunk) => {
            span.addBatch(chunk.records);
            const records = collect ? scope.apply(chunk.records, collect.scoped) : local ? scope.apply(chunk.records) : chunk.records;
            if (collect) {
              collect.clients.add(records);
              await collect.rejects.add(chunk.rejects);
            }
            if (!local) return;
            const f = filterByTime(records, fromMs, toMs);
            localOutside += f.skipped;
            localSpan.addBatch(f.batch);
            local.add(f.batch);
          },
        });
      } finally {
        await collect?.rejects.close();
      }
      addPass1(name, read, span, local, localSpan, localOutside, spillTo,
        collect ? { parts: [{ clients: collect.clients.snapshot(), scoped: collect.scoped, rejects: collect.rejects.count, rejectsFile }], bases: [0] } : null);
    };
    if (pool === undefined) {
      for (const [index, name] of files.entries()) await pass1Here(index, name);
    } else {
      // Files go to the workers (their tasks all queued at once); standard input is spilled here meanwhile.
      const on = pool;
      const plans = new Map<number, InputPlan>();
      for (const [index, name] of files.entries()) {
        if (isStdin(name)) continue;
        plans.set(index, await planFile(name, undefined));
      }
      const dir = await temp.path();
      let collects = 0;
      // The tasks also collect the clients, scope counts and rejects (pass 2 then reads only the rows it attributes).
      // A whole input that turns out to be gzip is also decompressed into a spill the later passes cut into ranges (decoded-spill.ts).
      const markBytes = Math.min(MARK_BYTES, Math.ceil(minRangeBytes() / 8));
      const pass1Extra = (index: number, whole: boolean): TaskExtra => {
        const n = collects++;
        return {
          kind: 'pass1', fold: !relative, collect: { rejectsFile: join(dir, `pass1-rejects-${index}-${n}.jsonl`) },
          decodedSpill: whole ? { path: join(dir, `decoded-${index}-${n}`), markBytes } : null,
          segmentBytes: whole ? null : markBytes,
        };
      };
      const tasksOf = (index: number, plan: InputPlan): AnalyzeTask[] =>
        inputTasks(plan, taskBase(fromMs, toMs), opts.format, index, () => pass1Extra(index, plan.ranges === null));
      // Each range's clients join the set as the range ends (a union: an input read twice or found a
      // duplicate later adds nothing), not held until its input is done: 5-6 MB a range with millions of clients.
      const noClients = { ipv4: new Uint32Array(0), ipv6: new Uint32Array(0) };
      const foldClients = (_t: number, r: AnalyzeTaskResult): AnalyzeTaskResult => {
        if (r.kind !== 'pass1' || r.collected === null) return r;
        clients.merge(r.collected.clients);
        settle();
        return { ...r, collected: { ...r.collected, clients: { ...r.collected.clients, ...noClients } } };
      };
      const order = [...plans.entries()];
      const running = new Map(order.map(([index, plan]) => [index, on.run(tasksOf(index, plan), foldClients)]));
      const hashes = new Map<number, Promise<HashedFile | null>>(order.map(([index, plan]) => [index, plan.ranges === null ? Promise.resolve(null) : hashFile(plan.path, ctx.signal)]));
      for (const p of [...running.values(), ...hashes.values()]) p.catch(() => undefined); // awaited below
      const pass1Label = `${files.length} input${files.length === 1 ? '' : 's'} [pass 1/${passes}, ${opts.workers} threads]`;
      progress.startInput(pass1Label, undefined, () => 0);
      for (const [index, name] of files.entries()) {
        let plan = plans.get(index);
        let spillTo: string | undefined;
        if (plan === undefined && maxDecompressedBytes === undefined) {
          // Standard input: copied to a spill, then read as a file by every thread (stdin-spill.ts).
          spillTo = join(dir, `stdin-${index}`);
          // Ranges of the spill are cut and parsed on every thread while the rest of standard input is still being copied.
          const growing = new GrowingRanges(spillTo, STDIN_RANGE_STEPS * minRangeBytes(), { format: opts.format, tz: opts.tz, maxLineBytes: opts['max-line-bytes'] });
          const early: Promise<AnalyzeTaskResult[]>[] = [];
          const queue = (range: ByteRange): void => {
            const r = early.length;
            const task = inputTasks({ path: growing.path, ranges: [range], rangeFormat: growing.rangeFormat }, taskBase(fromMs, toMs),
              r === 0 ? opts.format : growing.rangeFormat, index, () => pass1Extra(index, false));
            const result = on.run(task, foldClients);
            result.catch(() => undefined); // awaited below, or the run failed first
            early.push(result);
          };
          let spilled: HashedFile;
          try {
            spilled = await spillStdin(spillTo, ctx, progress, label(name, 1), async (written) => {
              for (const range of await growing.grow(written)) queue(range);
            });
            const last = growing.finish(spilled.sizeBytes);
            if (last) queue(last);
          } finally {
            await growing.close();
          }
          trace(`stdin spilled (${early.length} ranges cut as it was read)`);
          progress.startInput(pass1Label, undefined, () => 0);
          if (early.length > 0) {
            plan = { path: spillTo, ranges: growing.ranges, rangeFormat: growing.rangeFormat };
            running.set(index, Promise.all(early).then((rs) => rs.flat()));
          } else {
            plan = await planFile(spillTo, undefined);
            running.set(index, on.run(tasksOf(index, plan), foldClients));
          }
          // Hashed as it was spilled (the spill is this run's own file: its identity holds however recently it was written).
          hashes.set(index, Promise.resolve(plan.ranges === null ? null : spilled));
        }
        if (plan === undefined) {
          // (with a byte limit, standard input is parsed here as it is read, and only what was read is spilled)
          await pass1Here(index, name);
          continue;
        }
        let results = (await running.get(index)!) as Pass1Result[];
        running.delete(index); // (its promise would hold the results to the end of the pass)
        const hashed = await hashes.get(index)!;
        if (hashed !== null) hashedInPass1.set(plan.path, hashed);
        let read = hashed === null ? wholeRead(results[0]!) : mergeReads(results, hashed, plan.rangeFormat);
        if (read === null) {
          // The ranges might differ from a sequential read: read it whole.
          results = (await on.run(tasksOf(index, { ...plan, ranges: null }), foldClients)) as Pass1Result[];
          read = wholeRead(results[0]!);
        }
        const bases: number[] = [];
        let lines = 0;
        for (const r of results) {
          bases.push(lines);
          lines += r.parts.accounting.linesRead;
        }
        // A gzip input decoded cleanly: the later passes read its decompressed copy in ranges (decoded-spill.ts).
        const decoded = results.length === 1 ? results[0]!.decoded : null;
        const cut = decoded && read.decode?.compression === 'gzip' && read.decode.flags.length === 0 && read.decode.notes.length === 0
          && read.sizeStable && decoded.bytes === read.decode.bytesOut
          ? planFromSegments(decoded, read, opts.workers * LATER_RANGES_PER_THREAD, opts.format ?? rangeFormatOf(read.format?.id))
          : null;
        if (decoded && cut) {
          hashedInPass1.set(decoded.path, await decodedStandIn(decoded.path, read));
          decodedSpills.add(decoded.path);
          trace(`decoded copy of ${name}: ${cut.plan.ranges!.length} ranges for the later passes`);
          pass1Plans.set(decoded.path, { plan: cut.plan, bases: cut.bases, reads: cut.reads });
          if (spillTo !== undefined) await rm(spillTo, { force: true });
          spillTo = decoded.path;
        } else {
          if (decoded) await rm(decoded.path, { force: true });
          // The later passes cut a ranged input finer, at pass 1's segments (planFromSegments): pass 2 reads only the
          // ranges around the burst windows, and a few large ranges there left one thread idle while the other read.
          const finer = results.length > 1 && results.every((r) => r.segments !== null) && plan.ranges !== null
            ? planFromSegments({ path: plan.path, bytes: read.sizeBytes, segments: joinSegments(plan.ranges, bases, results.map((r) => r.segments!)) },
              read, opts.workers * LATER_RANGES_PER_THREAD, plan.rangeFormat)
            : null;
          if (finer) trace(`later ranges of ${name}: ${finer.plan.ranges!.length} (pass 1: ${plan.ranges!.length})`);
          // What pass 2 needs of each range's read (to skip ranges); the snapshots are merged below and let go.
          pass1Plans.set(spillTo ?? name, finer ?? { plan: results.length === 1 ? { ...plan, ranges: null } : plan, bases, reads: results.map(pass1Read) });
        }
        const span = new Span();
        const localSpan = new Span();
        let localOutside = 0;
        const local = relative ? undefined : createAnalysis(opts.analysis);
        for (const r of results) {
          span.add(r.firstMs, r.lastMs);
          localSpan.add(r.localFirstMs, r.localLastMs);
          localOutside += r.localOutside;
          if (local && r.local) local.mergeSnapshot(r.local);
        }
        addPass1(name, read, span, local, localSpan, localOutside, spillTo, { parts: results.map((r) => r.collected!), bases });
        results = [];
      }
    }
    trace('pass 1');
    traceBuffers('held after pass 1', { reads: [...pass1Plans.values()].map((p) => p.reads), clients, analysis, collected: collectedBySha });
    // The client set waits in a file until the pack is written (client-park.ts); later passes collect into a new one.
    const parked = await parkClients(clients, join(await temp.path(), 'clients.bin'));
    clients = new ClientSet();
    // Canonical order: by content, then name (a duplicate keeps the name that sorts first).
    for (const d of duplicates) {
      const kept = bySha.get(d.sha256)!;
      if (cmp(d.name, kept.name) < 0) bySha.set(d.sha256, { ...kept, name: d.name });
    }
    inputs = [...bySha.values()].sort((a, b) => cmp(a.read.sha256, b.read.sha256) || cmp(a.name, b.name));

    if (relative) {
      const all = new Span();
      for (const i of inputs) all.add(i.firstMs, i.lastMs);
      fromMs = resolveBound(opts.fromBound, all.firstMs, all.lastMs);
      toMs = resolveBound(opts.toBound, all.firstMs, all.lastMs);
      if (fromMs !== null && toMs !== null && fromMs >= toMs) {
        throw new AlfError('ALF_USAGE', `\`--from ${opts.from}\` (${isoSeconds(fromMs)}) is not before \`--to ${opts.to}\` (${isoSeconds(toMs)}) for this data (${isoSeconds(all.firstMs ?? 0)} – ${isoSeconds(all.lastMs ?? 0)})`);
      }
      if (pool === undefined) {
        for (const [k, i] of inputs.entries()) {
          const again = await readInput(i.source, {
            parse: parseOptions(k), ctx, progress, label: label(i.name, 2),
            onChunk: (chunk) => {
              const f = filterByTime(scope.apply(chunk.records), fromMs, toMs);
              outside += f.skipped;
              analysed.addBatch(f.batch);
              analysis.add(f.batch);
            },
          });
          checkUnchanged(i, again, 'pass 2');
        }
      } else {
        await inParallel(pool, 'pass 2', (k, plan) => inputTasks(plan, taskBase(fromMs, toMs), opts.format, k, () => ({ kind: 'pass1', fold: true, collect: null })), async (_k, results) => {
          for (const r of results as Pass1Result[]) {
            outside += r.localOutside;
            analysed.add(r.localFirstMs, r.localLastMs);
            if (r.local) analysis.mergeSnapshot(r.local);
          }
        });
      }
    }

    analysis.windows();
    pack ??= await openPack(resolve(defaultPackName(inputs.map((i) => i.name), analysed.firstMs, analysed.lastMs)), opts, ctx);

    // Pass 2 (last): rejects into rejects.csv in canonical order, records into the attribution.
    const rejectSample: Reject[] = [];
    let rejectsTotal = 0;
    /** Input → how the last parallel pass cut it, and the lines before each of its ranges. */
    const lastPlans = new Map<number, { plan: InputPlan; bases: number[] }>();
    /** Input → the spills of its burst-window rows from pass 2, in range order (the records pass then reads no input). */
    const windowSpills = new Map<number, string[]>();
    const rejects = openRejectsCsv(pack, { inputNames: inputs.map((i) => packInputName(i.read.sha256, i.name)) });
    sink = rejects;
    // (`let`: replaced by an empty accumulator once `finish` has the result, see below)
    /**
     * What a worker builds the same accumulator from (the windows' ranges and caps; see core's attributionFromPlan),
     * with the scratch directory where the exact per-IP count tables go past their budget (sorted runs).
     */
    const attributionPlan = withCountsSpill(analysis.attributionPlan(), await temp.path());
    const newAttribution = (): Attribution => attributionFromPlan(attributionPlan);
    let attribution: Attribution = newAttribution();
    // A range of which pass 1 saw no record inside the read ranges is not read again (rowsOnly: nothing else to collect).
    const skipOf = (k: number, plan: InputPlan, r: number, rowsOnly: boolean, readRanges: readonly [number, number][]): ReadCommon | undefined => {
      const p1 = pass1Plans.get(inputs[k]!.source.path);
      const read = rowsOnly && plan.ranges !== null && p1?.plan === plan ? p1.reads?.[r] : undefined;
      if (read === undefined) return undefined;
      const { firstMs, lastMs } = read;
      if (firstMs !== null && lastMs !== null && readRanges.some(([from, to]) => from <= lastMs && to > firstMs)) return undefined;
      return { parts: read.parts, sizeBytes: read.sizeBytes, sha256: read.sha256, sizeStable: read.sizeStable };
    };
    if (pool === undefined) {
      const fill = pass2Fill({ proxies: opts['trusted-proxy']?.cidrs ?? null, vhosts: opts.vhost?.patterns ?? null }, attribution);
      for (const [k, i] of inputs.entries()) {
        const again = await readInput(i.source, {
          parse: { ...parseOptions(k), ...fill }, ctx, progress, label: label(i.name, passes),
          onChunk: async (chunk) => {
            rejectsTotal += chunk.rejects.length;
            for (const r of chunk.rejects) {
              if (rejectSample.length >= REJECT_SAMPLE) break;
              rejectSample.push(r);
            }
            const records = scope.apply(chunk.records, scoped);
            attribution.add(filterByTime(records, fromMs, toMs).batch);
            clients.add(records);
            await rejects.add(chunk.rejects);
          },
        });
        checkUnchanged(i, again, `pass ${passes}`);
      }
    } else {
      // The pass-2 task on this thread takes its attribution from this analysis (its windows are built).
      pool.setInline({ attribution: newAttribution });
      // Pass 2 numbers its ranges' lines; the records pass cuts the inputs the same way.
      const dir = await temp.path();
      let tasks = 0;
      // Rows of the burst windows are spilled for the records pass, unless it needs every record (--records all).
      const windows = analysis.windows().map((w) => [w.startMs, w.endMs + 1000] as const).sort((a, b) => a[0] - b[0]);
      const basesOf = (k: number, plan: InputPlan): readonly number[] | null => {
        if (plan.ranges === null) return [0];
        const p1 = pass1Plans.get(inputs[k]!.source.path);
        return p1 && p1.plan === plan ? p1.bases : null;
      };
      const readRanges = attribution.readRanges();
      // Each task's counts and clients are folded as soon as it ends (into the input's own accumulators, dropped if the
      // input is read again as one task), not held until the input's last task: memory is one merged table, not one per task.
      const early = new Map<number, { attribution: Attribution; clients: ClientSet }>();
      const earlyFold = {
        each(k: number, _t: number, r: AnalyzeTaskResult): AnalyzeTaskResult {
          const p = r as Pass2Result;
          let acc = early.get(k);
          if (acc === undefined) early.set(k, (acc = { attribution: newAttribution(), clients: new ClientSet() }));
          if (p.live) {
            acc.attribution.absorb(p.live.attribution);
            acc.clients.merge(p.live.clients);
          }
          if (p.attribution) acc.attribution.mergeSnapshot(p.attribution, true);
          if (p.clients) acc.clients.merge(p.clients);
          settle();
          return { ...p, attribution: null, clients: null, live: undefined };
        },
        reset(k: number): void {
          early.delete(k);
        },
      };
      // A task handed out starts its per-IP detail sample where the main thread's accumulators are by then (same pack, less detail kept).
      pool.setPrepare((task) => {
        if (task.kind !== 'pass2') return task;
        const limits = attribution.detailLimits();
        for (const acc of early.values()) acc.attribution.detailLimits().forEach((l, w) => { if (l < limits[w]!) limits[w] = l; });
        return { ...task, detailLimits: limits };
      });
      await inParallel(pool, `pass ${passes}`, (k, plan) => inputTasks(plan, taskBase(fromMs, toMs), opts.format, k, (r) => {
        const bases = basesOf(k, plan);
        const n = tasks++;
        const rowsOnly = collectedBySha.has(inputs[k]!.read.sha256);
        return {
          kind: 'pass2', plan: attributionPlan, rejectsFile: join(dir, `rejects-${k}-${n}.jsonl`), rowsOnly, skip: skipOf(k, plan, r, rowsOnly, readRanges),
          windowRows: opts.records === 'all' || windows.length === 0 || bases === null ? null : { spillFile: join(dir, `window-rows-${k}-${n}.bin`), windows, lineBase: bases[r]! },
        };
      }), async (k, results, tasksRun, plan) => {
        let lineBase = 0;
        const bases: number[] = [];
        const replay = { sink: rejects, sample: rejectSample, sampleMax: REJECT_SAMPLE };
        const acc = early.get(k);
        if (acc) {
          attribution.absorb(acc.attribution);
          clients.merge(acc.clients);
          early.delete(k);
        }
        for (const [t, r] of (results as Pass2Result[]).entries()) {
          foldPass2(r, attribution, clients, scoped);
          rejectsTotal += r.rejects;
          await replayRejects((tasksRun[t] as Extract<AnalyzeTask, { kind: 'pass2' }>).rejectsFile, lineBase, replay);
          bases.push(lineBase);
          lineBase += r.parts.accounting.linesRead;
        }
        // Rejects pass 1 collected (the pass-2 tasks then had none), with the lines before each pass-1 range.
        const collected = collectedBySha.get(inputs[k]!.read.sha256);
        if (collected) {
          for (const [t, c] of collected.parts.entries()) {
            rejectsTotal += c.rejects;
            await replayRejects(c.rejectsFile, collected.bases[t]!, { ...replay, input: k });
          }
        }
        lastPlans.set(k, { plan, bases });
        const spills = (results as Pass2Result[]).map((r) => r.windowRows);
        if (spills.every((f): f is string => f !== null)) windowSpills.set(k, spills);
      }, (k) => pass1Plans.get(inputs[k]!.source.path)?.plan, undefined, earlyFold);
      pool.setInline(undefined);
      pool.setPrepare(undefined);
    }
    await rejects.close();
    progress.stop();
    trace('pass 2');
    traceBuffers('held after pass 2', { attribution, clients, analysis });
    traceFiles('count runs after pass 2', await temp.path(), 'counts-');

    // Pass 3, only when a burst window had more IPs than the per-IP detail cap and an
    // attacker fell outside the detail sample: its exact top path/agent and first/last seen.
    let detail = analysis.detailPass(attribution);
    if (detail && pool !== undefined) {
      // On the worker pool, by the ranges of pass 2: each task tracks the same IPs and its detail is merged (sums; exact).
      const into = detail;
      const detailIps = into.trackedIps();
      const readRanges = into.readRanges();
      const dir = await temp.path();
      let tasks = 0;
      pool.setInline({ attribution: () => attributionFromPlan(attributionPlan, detailIps) });
      await inParallel(pool, 'the attacker-detail pass', (k, plan) => inputTasks(plan, taskBase(fromMs, toMs), opts.format, k, (r) => ({
        kind: 'pass2', plan: attributionPlan, detailIps, rejectsFile: join(dir, `detail-rejects-${k}-${tasks++}.jsonl`), rowsOnly: true,
        skip: skipOf(k, plan, r, true, readRanges), windowRows: null,
      })), async (_k, results) => {
        for (const r of results as Pass2Result[]) {
          if (r.live) into.absorb(r.live.attribution);
          if (r.attribution) into.mergeSnapshot(r.attribution, true);
        }
        settle();
      }, (k) => lastPlans.get(k)?.plan);
      pool.setInline(undefined);
      progress.stop();
    } else if (detail) {
      const into = detail;
      for (const [k, i] of inputs.entries()) {
        const again = await readInput(i.source, {
          parse: parseOptions(k), ctx, progress, label: `${isStdin(i.name) ? '(standard input)' : i.name} [attacker detail]`,
          onChunk: (chunk) => { into.add(filterByTime(scope.apply(chunk.records), fromMs, toMs).batch); },
        });
        checkUnchanged(i, again, 'the attacker-detail pass');
      }
      progress.stop();
    }
    trace('detail pass');
    const result: AnalysisResult = analysis.finish(geo, attribution, detail);
    // The pass-2 state (per-IP counts of every window and the detail of up to 100,000 IPs each: ~70 MB
    // of the heap on 10M distinct IPs) is captured by this function's closures: let it go before the records pass.
    attribution = newAttribution();
    detail = null;
    // Forced when collections are on (ALF_GC_SLACK_MB, memory.ts): the slack rule measures growth from the last
    // collection, which still counted the pass-2 state just let go (15M lines, 10M IPs: heap 177-188 MB here).
    settle(true);
    trace('finish');
    traceFiles('count runs after finish', await temp.path(), 'counts-');
    // Records pass (analyze-records.ts): records.arrow and evidence/burst-<id>.log need the final bursts.
    const records = await writeRecordsAndEvidence({
      mode: opts.records, pack, result, inputNames: inputs.map((i) => packInputName(i.read.sha256, i.name)), geo, fromMs, toMs,
      maxLineBytes: opts['max-line-bytes'],
      read: async (k, onChunk) => {
        const i = inputs[k]!;
        const what = `${isStdin(i.name) ? '(standard input)' : i.name} [records and evidence lines]`;
        const inScope = scope.active ? (chunk: ParsedChunk) => onChunk({ ...chunk, records: scope.apply(chunk.records) }) : onChunk;
        // One parser batch per record batch of records.arrow (GROUP_ROWS).
        checkUnchanged(i, await readInput(i.source, { parse: parseOptions(k, GROUP_ROWS), ctx, progress, label: what, onChunk: inScope }), 'the records pass');
      },
      parallel: pool === undefined ? undefined : async (job, consume) => {
        const dir = await temp.path();
        let spills = 0;
        // Inputs whose burst-window rows pass 2 spilled are not read again; the others are, in worker tasks.
        const reread = new Map<number, readonly RecordsTaskOutput[]>();
        await inParallel(pool!, 'the records pass', (k, plan) => inputTasks(plan, taskBase(fromMs, toMs), opts.format, k, (r) => ({
          kind: 'records', job, lineBase: plan.ranges === null ? 0 : lastPlans.get(k)!.bases[r]!,
          spillFile: job.rows ? join(dir, `records-${k}-${spills++}.bin`) : null,
        })), async (k, results) => {
          reread.set(k, results as RecordsResult[]);
        }, (k) => lastPlans.get(k)?.plan, inputs.map((_, k) => k).filter((k) => !windowSpills.has(k)));
        for (const k of inputs.keys()) {
          const spilled = windowSpills.get(k);
          await consume(k, spilled ? spilled.map((f) => ({ fold: null, spillFile: f })) : reread.get(k)!);
        }
      },
      openRaw: async (k) => (await openInput(inputs[k]!.source.path, ctx.stdin, ctx.signal)).bytes,
      plainPath: (k) => {
        const d = inputs[k]!.read.decode;
        return (d && d.compression === 'none' && d.flags.length === 0) || decodedSpills.has(inputs[k]!.source.path) ? inputs[k]!.source.path : null;
      },
    });
    progress.stop();
    await pool?.close();
    pool = undefined;
    const accounting = inputs.reduce((total, i) => {
      const a = i.read.accounting;
      total.linesRead += a.linesRead;
      total.parsed += a.parsed;
      total.rejected += a.rejected;
      total.bytesRead += a.bytesRead;
      for (const [reason, c] of Object.entries(a.byReason)) total.byReason[reason as Reject['reason']] = (total.byReason[reason as Reject['reason']] ?? 0) + c;
      return total;
    }, { linesRead: 0, parsed: 0, rejected: 0, bytesRead: 0, byReason: {} as Record<Reject['reason'], number> });
    const ageWarning = result.firstMs !== null && result.lastMs !== null ? geo.ageWarning(result.firstMs, result.lastMs) : null;
    const n = (x: number): string => x.toLocaleString('en-US');
    const packNotes: string[] = [];
    if (fromMs !== null || toMs !== null) {
      packNotes.push(`${n(outside)} parsed record${outside === 1 ? ' was' : 's were'} outside --from/--to and left out of the analysis.`);
    }
    const dupShas = [...new Set(duplicates.map((d) => d.sha256))].sort();
    for (const sha of dupShas) {
      const times = duplicates.filter((d) => d.sha256 === sha).length + 1;
      packNotes.push(`Input ${packInputName(sha, bySha.get(sha)?.name ?? '-')} was given ${times} times (same bytes); it was counted once.`);
    }
    clients = await unparkClients(parked, clients);
    const input: AnalysisPackInput = {
      result,
      inputs: inputs.map(packInput),
      accounting,
      databases: geo.databases,
      databaseAgeWarning: ageWarning,
      geoStats: geo.stats,
      options: { analysis: resolveOptions(opts.analysis), tz: opts.tz ?? null, fromMs, toMs },
      toolVersion: ctx.version,
      notes: packNotes,
      records: { file: records.recordsFile, rowsByBurst: records.rowsByBurst, evidenceFiles: records.evidenceFiles },
      clients: clients.snapshot(true), // (nothing is added to the set any more: views, not a copy)
      clientAddress: {
        trustedProxies: opts['trusted-proxy']?.cidrs ?? [],
        fromForwardedFor: scoped.fromForwardedFor,
        proxyKept: scoped.proxyKept,
      },
      ...(opts.vhost ? { vhostFilter: { patterns: opts.vhost.patterns, otherVhost: scoped.otherVhost, withoutVhost: scoped.withoutVhost } } : {}),
    };
    // Per-burst zoom charts at 1 s / 10 s resolution from the exact per-second timeline.
    const timeline = Timeline.fromSnapshot(analysis.snapshot().timeline);
    trace('records pass');
    await writeAnalysisPack(pack, input, { burstSeries: result.bursts.map((b) => burstSeries(timeline, b)) });
    trace('pack written');
    const flagged = inputs.filter((i) => i.flags.length > 0);
    const manifestNotes = [
      ...geo.notes,
      ...inputs.map((i) => `${packInputName(i.read.sha256, i.name)} is ${isStdin(i.name) ? 'standard input' : i.name}`),
      ...duplicates.map((d) => `${d.name} has the same bytes as ${d.of} (sha256 ${d.sha256}); counted once`),
      ...(opts.fromBound?.kind === 'relative' || opts.toBound?.kind === 'relative'
        ? [`--from/--to resolved to ${fromMs === null ? 'start' : isoSeconds(fromMs)} – ${toMs === null ? 'end' : isoSeconds(toMs)}`] : []),
    ];
    await pack.finish({
      inputs: inputs.map(manifestInput),
      databases: databaseManifestEntries(geo.databases),
      counts: { ...analysisPackCounts(input, rejects.rows), recordsOutsideTimeRange: outside,
        ...(opts['trusted-proxy'] ? { recordsClientFromForwardedFor: scoped.fromForwardedFor, recordsClientTrustedProxyKept: scoped.proxyKept } : {}),
        ...(opts.vhost ? { recordsOtherVhost: scoped.otherVhost, recordsWithoutVhost: scoped.withoutVhost } : {}),
        duplicateInputs: duplicates.length, recordsArrowRows: records.recordsFile === null ? null : records.recordsRows },
      notes: manifestNotes,
      ...(flagged.some((i) => i.flags.some((f) => CUT_SHORT.includes(f)))
        ? { status: 'partial' as const, statusReason: `an input was cut short or changed while it was analysed (${flagged.map((i) => `${packInputName(i.read.sha256, i.name)}: ${i.flags.join(', ')}`).join('; ')})` }
        : {}),
    });

    // Exit status and the stderr summary.
    const warnings: string[] = [];
    if (flagged.length > 0) warnings.push(`warning: ${flagged.length} input${flagged.length === 1 ? '' : 's'} flagged (${flagged.map((i) => `${terminalSafe(i.name, 80)}: ${i.flags.join(', ')}`).join('; ')}): exit status 1`);
    for (const d of duplicates) warnings.push(`warning: ${terminalSafe(d.name, 80)} has the same bytes as ${terminalSafe(d.of, 80)}; counted once: exit status 1`);
    const ratio = accounting.linesRead > 0 ? accounting.rejected / accounting.linesRead : 0;
    if (ratio > opts['max-reject-ratio']) warnings.push(`warning: ${(ratio * 100).toFixed(2)}% of lines rejected, above --max-reject-ratio ${opts['max-reject-ratio']}: exit status 1`);
    // The database age is worth knowing but is not a fault of this run: a note, not exit status 1.
    const notes = ageWarning ? [`note: ${terminalSafe(ageWarning, 600)}`] : [];
    if (geo.stats.geoErrors > 0) warnings.push(`warning: ${geo.stats.geoErrors} database search(es) failed; the database may be corrupt: exit status 1`);
    const style = styleFor(ctx.stderr);
    const painted = (line: string): string => (line.startsWith('warning:') ? style.warning(line) : line);
    const trailer = [
      ...(fromMs !== null || toMs !== null ? [`time range ${fromMs === null ? 'start' : isoSeconds(fromMs)} – ${toMs === null ? 'end' : isoSeconds(toMs)}: ${n(outside)} records outside left out`] : []),
      ...scopeLines(scope, scoped),
      ...burstLines(result),
      `pack: ${terminalSafe(pack.dir, 400)}`,
      ...notes,
      ...warnings,
    ];
    if (opts.quiet) say(ctx, ...warnings.map(painted));
    else {
      const [head, ...rest] = formatSummary(inputs.map(inputResult), {
        command: 'alf analyze', rejectSample, rejectsTotal, inputNames: inputs.map((i) => (isStdin(i.name) ? '(standard input)' : i.name)), trailer,
      });
      say(ctx, style.strong(head!), ...rest.map(painted));
    }
    return warnings.length > 0 ? EXIT.warnings : EXIT.ok;
  } catch (error) {
    sink?.destroy();
    if (pack) {
      const reason = ctx.signal.aborted ? `interrupted by ${String(ctx.signal.reason)}` : `stopped by an error: ${(error as Error | undefined)?.message ?? String(error)}`;
      await pack.abort(reason, { inputs: inputs.map(manifestInput) }).catch(() => undefined);
    }
    throw error;
  } finally {
    progress.stop();
    await pool?.close();
    await temp.remove();
    geo.close();
  }
}

