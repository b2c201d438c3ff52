/**
 * Writes the analysis evidence pack (issue 4) through a `PackWriter`: the CSV
 * tables of `pack-tables.ts` and `summary.md`, each atomically, large tables
 * streamed. `rejects.csv` is streamed separately while the inputs are parsed:
 *
 * ```ts
 * const pack = await createPack(dir, { tool, argv, options });
 * const rejects = openRejectsCsv(pack, { inputNames });
 * for await (const chunk of parsed) {     // per ParsedChunk
 *   analysis.add(chunk.records);
 *   await rejects.add(chunk.rejects);      // waits only when the file stream is full
 * }
 * await rejects.close();
 * const input: AnalysisPackInput = { result: analysis.finish(), inputs, accounting, databases, … };
 * await writeAnalysisPack(pack, input);
 * await pack.finish({ inputs: manifestInputs, databases: databaseManifestEntries(input.databases), counts: analysisPackCounts(input) });
 * ```
 * On a signal or a fatal error call `rejects.destroy()` then `pack.abort(…)`.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { BurstSeries } from '@alf/core';
import type { GeoDbInfo } from '@alf/geo';
import { REJECT_REASONS, type Reject } from '@alf/parser';
import type { JsonObject } from './manifest.ts';
import type { PackFileEntry, PackFileStream, PackWriter } from './pack-writer.ts';
import {
  asnsCsv, attackersCsvChunks, burstsCsv, countriesCsv, createRejectsCsvEncoder, pathsCsv, prefixesCsv, statusesCsv,
  timelineCsvChunks, userAgentsCsv, type RejectsCsvOptions,
} from './pack-tables.ts';
import { renderSummaryMd } from './summary-md.ts';
import { blocklistAndAbuseFiles } from './abuse-csv.ts';
import { analysisCharts } from './charts/pack-charts.ts';
import type { AnalysisPackInput } from './types.ts';

/** File names of the analysis pack (relative to the pack directory). */
export const ANALYSIS_PACK_FILES: {
  readonly bursts: string; readonly attackers: string; readonly asns: string; readonly countries: string;
  readonly prefixes: string; readonly paths: string; readonly userAgents: string; readonly statuses: string;
  readonly timeline: string; readonly rejects: string; readonly summary: string;
} = {
  bursts: 'bursts.csv',
  attackers: 'attackers.csv',
  asns: 'asns.csv',
  countries: 'countries.csv',
  prefixes: 'prefixes.csv',
  paths: 'paths.csv',
  userAgents: 'user_agents.csv',
  statuses: 'statuses.csv',
  timeline: 'timeline.csv',
  rejects: 'rejects.csv',
  summary: 'summary.md',
};

/** Streams chunks of text into a pack file with backpressure; resolves with the completed entry. */
async function writeChunks(writer: PackWriter, name: string, chunks: Iterable<string>): Promise<PackFileEntry> {
  const stream = writer.writeStream(name);
  const bytes = function* (): Generator<Buffer> {
    for (const c of chunks) if (c.length > 0) yield Buffer.from(c, 'utf8');
  };
  await pipeline(Readable.from(bytes()), stream);
  return stream.entry as PackFileEntry;
}

/**
 * Writes bursts.csv, attackers.csv, asns.csv, countries.csv, prefixes.csv,
 * paths.csv, user_agents.csv, statuses.csv, timeline.csv, summary.md and the
 * SVG charts under charts/ (`analysisChartFiles`) (not
 * rejects.csv: see `openRejectsCsv`; not the manifest: `PackWriter.finish`).
 * Resolves with the entries written, in that order. The first failed write
 * rejects (an `AlfError` from the pack writer); the caller aborts the pack.
 * `charts.burstSeries`: core `burstSeries(timeline, burst)` per burst, for
 * per-second zooms (without it the zoom uses the timeline's buckets).
 */
export async function writeAnalysisPack(
  writer: PackWriter, input: AnalysisPackInput, charts: { readonly burstSeries?: readonly BurstSeries[] } = {},
): Promise<PackFileEntry[]> {
  const r = input.result;
  const f = ANALYSIS_PACK_FILES;
  const out: PackFileEntry[] = [];
  out.push(await writer.writeFile(f.bursts, burstsCsv(r)));
  out.push(await writeChunks(writer, f.attackers, attackersCsvChunks(r.attackers)));
  out.push(await writer.writeFile(f.asns, asnsCsv(r)));
  out.push(await writer.writeFile(f.countries, countriesCsv(r)));
  out.push(await writer.writeFile(f.prefixes, prefixesCsv(r)));
  out.push(await writer.writeFile(f.paths, pathsCsv(r)));
  out.push(await writer.writeFile(f.userAgents, userAgentsCsv(r)));
  out.push(await writer.writeFile(f.statuses, statusesCsv(r)));
  out.push(await writeChunks(writer, f.timeline, timelineCsvChunks(r.timeline)));
  out.push(await writer.writeFile(f.summary, renderSummaryMd(input)));
  for (const [name, content] of blocklistAndAbuseFiles(input)) out.push(await writer.writeFile(name, content));
  for (const c of analysisCharts(r, input.options.analysis.minGapS, charts.burstSeries)) out.push(await writer.writeFile(c.path, c.svg));
  return out;
}

/** rejects.csv being written while the inputs are parsed; see `openRejectsCsv`. */
export interface RejectsCsvSink {
  /**
   * Appends rows for these rejects (in the given order). Resolves at once
   * unless the file stream is full, then when it has drained: await it to keep
   * memory bounded. Rejects with the write error if the file failed.
   */
  add(rejects: readonly Reject[]): Promise<void>;
  /** Rows written so far. */
  readonly rows: number;
  /** Ends the file; resolves with its entry once it is in place under its final name. */
  close(): Promise<PackFileEntry>;
  /** Stops writing and removes the temporary file (for abort paths). Idempotent. */
  destroy(): void;
}

function drained(stream: PackFileStream): Promise<void> {
  if (stream.destroyed) return Promise.reject(stream.errored ?? new Error(`${stream.name} was closed`));
  const ac = new AbortController();
  return Promise.race([
    once(stream, 'drain', { signal: ac.signal }).then(() => undefined),
    once(stream, 'close', { signal: ac.signal }).then(() => {
      throw stream.errored ?? new Error(`${stream.name} was closed`);
    }),
  ]).finally(() => ac.abort());
}

/**
 * Opens rejects.csv (`input, line, byte_offset, reason, excerpt`) in the pack
 * and writes its header. Rows are encoded as they come and never held: the
 * file can take millions of rejects. Input names come from `opts.inputNames`
 * (by `Reject.input`); excerpts are capped and escaped (see
 * `createRejectsCsvEncoder`).
 */
export function openRejectsCsv(writer: PackWriter, opts: RejectsCsvOptions): RejectsCsvSink {
  const enc = createRejectsCsvEncoder(opts);
  const stream = writer.writeStream(ANALYSIS_PACK_FILES.rejects);
  let error: Error | null = null;
  stream.on('error', (e: Error) => {
    error ??= e;
  });
  let rows = 0;
  let closing: Promise<PackFileEntry> | null = null;
  stream.write(enc.header());
  return {
    get rows(): number {
      return rows;
    },
    async add(rejects: readonly Reject[]): Promise<void> {
      if (error) throw error;
      if (closing) throw new Error(`${ANALYSIS_PACK_FILES.rejects}: add() after close()`);
      if (rejects.length === 0) return;
      const ok = stream.write(enc.rows(rejects));
      rows += rejects.length;
      if (!ok) await drained(stream);
      if (error) throw error;
    },
    close(): Promise<PackFileEntry> {
      closing ??= (async (): Promise<PackFileEntry> => {
        if (error) throw error;
        stream.end();
        await finished(stream);
        return stream.entry as PackFileEntry;
      })();
      return closing;
    },
    destroy(): void {
      if (!stream.destroyed) stream.destroy();
    },
  };
}

// ---------------------------------------------------------------------------
// Manifest helpers

/** Counts for `manifest.json` (`PackWriter.finish({ counts })`): lines, rejects by reason, records, bursts, rows. */
export function analysisPackCounts(input: AnalysisPackInput, rejectRows?: number): JsonObject {
  const a = input.accounting;
  const r = input.result;
  const byReason: Record<string, number> = {};
  for (const reason of REJECT_REASONS) if ((a.byReason[reason] ?? 0) > 0) byReason[reason] = a.byReason[reason];
  return {
    linesRead: a.linesRead,
    parsed: a.parsed,
    rejected: a.rejected,
    rejectedByReason: byReason,
    bytesDecompressed: a.bytesRead,
    records: r.records,
    recordsWithoutTime: r.recordsWithoutTime,
    bursts: r.bursts.length,
    attackers: r.attackers.length,
    timelineBucketS: r.timeline.bucketS,
    rejectRows: rejectRows,
  };
}

/** One manifest `databases` entry per database (role, type, build date, SHA-256, size, source, path, attribution, notes). */
export function databaseManifestEntries(dbs: readonly GeoDbInfo[]): JsonObject[] {
  return dbs.map((d) => ({
    role: d.role,
    databaseType: d.databaseType,
    buildDate: d.buildDate,
    sha256: d.sha256,
    sizeBytes: d.sizeBytes,
    source: d.source,
    path: d.path,
    attribution: d.attribution,
    answers: d.answers ? [...d.answers] : undefined,
    builtFrom: d.builtFrom ? d.builtFrom.map((b) => ({ path: b.path, sha256: b.sha256, sizeBytes: b.sizeBytes })) : undefined,
    notes: d.notes ? [...d.notes] : undefined,
  }));
}
