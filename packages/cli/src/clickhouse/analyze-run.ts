/**
 * `alf analyze --engine clickhouse --url URL --table T [--columns MAP]`: the
 * analysis pushed down to ClickHouse. Exact GROUP BY queries (core's
 * sql/queries.ts) give the per-second timeline and, per burst window, the
 * per-IP counts inside it and in its reference periods; core's state builders
 * (sql/build-state.ts) turn those small results into the same pass-1/pass-2
 * states a local run folds, and detection, attribution, clustering, verdicts
 * and the pack writer run locally as in `alf analyze`.
 *
 * What the table cannot give is said in the pack: no rejects (the loader
 * reports them), no raw evidence lines or records.arrow (no raw-line column),
 * no blocklists (the set of every client is not fetched).
 * Any failed query (a shard down, an error part-way through a response) stops
 * the run: the pack is marked interrupted with the reason and no numbers.
 */
import { z } from 'zod';
import {
  ALF_COLUMNS, buildAnalysisSnapshot, buildAttributionSnapshot, buildDetailWindow, buildIpDetail, buildWindowState, burstSeries, createAnalysis, detailIpsPerWindow,
  detailPassIps, fetchLimit, hashLevelsQuery, insideAgentsQuery, insideIpsQuery, insidePathsQuery, insideSampledOutQuery, insideStatusesQuery, IpCountsBuilder,
  ipCountsQuery, ipSketchQuery, parseColumnMapping, quoteTable, referencePeriods, referenceTotalsQuery, refererHostsQuery, refererTotalQuery, resolveColumns,
  resolveOptions, Timeline, timelineQuery, totalsQuery,
} from '@alf/core';
import type { AnalysisResult, IpDetailRows, IpSelection, IpWindowStats, SqlColumns, SqlQuery, SqlRow, SqlWindowRange } from '@alf/core';
import { openGeo } from '@alf/geo';
import type { Geo } from '@alf/geo';
import { AlfError, isAlfError } from '@alf/parser';
import { analysisPackCounts, createPack, databaseManifestEntries, isoSeconds, writeAnalysisPack } from '@alf/report';
import type { AnalysisPackInput, JsonObject, PackWriter } from '@alf/report';
import { resolve } from 'node:path';
import type { AnalyzeArgs } from '../commands/analyze.ts';
import { validateAnalyzeOptions } from '../analyze-options.ts';
import type { AnalyzeOptions } from '../analyze-options.ts';
import { burstLines, defaultPackName } from '../analyze-summary.ts';
import { say } from '../context.ts';
import type { CommandContext } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { styleFor } from '../style.ts';
import { terminalSafe } from '../terminal-text.ts';
import { ClickHouseError, createClickHouseClient, JsonCompactLines } from './http.ts';
import type { ClickHouseClient } from './http.ts';

/** Per-IP path and user-agent caps of the attribution (core's defaults for a local run). */
const MAX_USER_AGENTS_PER_IP = 4;
const MAX_REFERER_HOSTS = 10_000;

export const ENGINES = ['local', 'clickhouse'] as const;

function engineSchema() {
  return z.object({
    url: z.string({ error: '`--engine clickhouse` needs `--url`, the ClickHouse HTTP interface (e.g. --url http://localhost:8123)' }),
    table: z.string({ error: '`--engine clickhouse` needs `--table`, the table to analyse (e.g. --table logs)' }),
    columns: z.string({ error: '`--columns` takes FIELD=COLUMN pairs, e.g. --columns ts=timestamp,ip=client_ip' }).optional(),
  });
}

/** Test hook: called before each query is sent (e.g. to stop a shard part-way through a run). */
export type BeforeQuery = (q: SqlQuery, index: number) => void | Promise<void>;
let beforeQuery: BeforeQuery | null = null;
export function setBeforeQuery(f: BeforeQuery | null): void {
  beforeQuery = f;
}

/** Notes for summary.md and the manifest: what this engine does not provide. */
export function engineNotes(table: string, url: string, derived: readonly string[]): string[] {
  return [
    `Analysed in ClickHouse (${url}, table ${table}) with exact GROUP BY queries; detection, attribution and verdicts ran locally on their results.`,
    'No evidence lines and no records.arrow: the table has no raw log lines (its input and line columns cite them).',
    'No rejects.csv: rejected lines are not in the table (`alf load clickhouse` reports them when loading).',
    'No blocklists and no abuse.csv: the set of every client address is not fetched from the table.',
    ...(derived.length > 0 ? [`Computed in SQL from the base columns (same rules, ASCII): ${derived.join(', ')}.`] : []),
  ];
}

async function run(client: ClickHouseClient, q: SqlQuery, counter: { n: number }): Promise<SqlRow[]> {
  if (beforeQuery) await beforeQuery(q, counter.n);
  counter.n++;
  const res = await client.query(q.sql);
  if (res.columns.length !== q.columns.length || res.columns.some((c, i) => c !== q.columns[i])) {
    throw new AlfError('ALF_INPUT_UNREADABLE', `ClickHouse returned columns ${res.columns.join(', ')} for ${q.name}; expected ${q.columns.join(', ')}`, { reason: 'clickhouse' });
  }
  return res.rows as SqlRow[];
}

/** A row of ipCountsQuery as JSONCompact writes it: `["client", inside, ref]`. */
const COUNTS_ROW = /^\s*\[("(?:[^"\\]|\\.)*"),\s*(\d+),\s*(\d+)\],?$/;

/**
 * ipCountsQuery's result read as a stream into core's typed-array counts (millions of rows
 * for a window of a large botnet: no object per row, nothing but the arrays is kept).
 */
async function runCounts(client: ClickHouseClient, q: SqlQuery, counter: { n: number }): Promise<IpCountsBuilder> {
  if (beforeQuery) await beforeQuery(q, counter.n);
  counter.n++;
  const counts = new IpCountsBuilder();
  const reader = new JsonCompactLines(client.url, q.columns, (line) => {
    const m = COUNTS_ROW.exec(line);
    if (m === null) throw new ClickHouseError(`ClickHouse at ${client.url} sent a broken row for ${q.name}: ${terminalSafe(line, 120)}`, 200);
    const text = m[1]!;
    counts.add(text.includes('\\') ? (JSON.parse(text) as string) : text.slice(1, -1), Number(m[2]), Number(m[3]));
  });
  await client.queryLines(q.sql, (line) => reader.line(line));
  reader.end();
  return counts;
}

/** Client texts of an IP list in chunks of at most ~64 KB of SQL (under max_query_size, 256 KiB by default). */
function ipChunks(ips: Iterable<string>): string[][] {
  const out: string[][] = [];
  let chunk: string[] = [];
  let chars = 0;
  for (const ip of ips) {
    if (chunk.length > 0 && chars + ip.length > 64_000) {
      out.push(chunk);
      chunk = [];
      chars = 0;
    }
    chunk.push(ip);
    chars += 2 * ip.length + 4;
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}

/** The whole analysis from the table: pass-1, pass-2 (and detail-pass) states built from query results, then core's finish. */
export async function analyzeTable(client: ClickHouseClient, table: string, c: SqlColumns, opts: AnalyzeOptions['analysis'], geo: Geo): Promise<{ result: AnalysisResult; timeline: Timeline; queries: number }> {
  const counter = { n: 0 };
  const t = quoteTable(table);
  const [totals] = await run(client, totalsQuery(t, c), counter);
  const snap = buildAnalysisSnapshot(totals!, await run(client, timelineQuery(t, c), counter), await run(client, ipSketchQuery(t, c), counter));
  const analysis = createAnalysis(opts);
  analysis.mergeSnapshot(snap);
  const resolved = resolveOptions(opts);
  const windows = analysis.windows();
  const ranges: SqlWindowRange[] = windows.map((w) => ({
    insideFromMs: w.startMs, insideToMs: w.endMs + 1000, ...referencePeriods(w, snap.timeline.minMs, snap.timeline.maxMs),
  }));
  const detailRows = async (k: number, sel: IpSelection): Promise<IpDetailRows> => ({
    ips: await run(client, insideIpsQuery(t, c, ranges, k, sel), counter),
    statuses: await run(client, insideStatusesQuery(t, c, ranges, k, sel), counter),
    paths: await run(client, insidePathsQuery(t, c, ranges, k, sel, resolved.maxPathsPerIp), counter),
    agents: await run(client, insideAgentsQuery(t, c, ranges, k, sel, MAX_USER_AGENTS_PER_IP), counter),
  });
  // One window at a time is folded into the attribution (the other windows empty in its
  // snapshot), so only one window's fetched counts are held besides the attribution's tables.
  const empty = (): ReturnType<typeof buildDetailWindow>[] => ranges.map((r) => buildDetailWindow(r, new Map()));
  const attribution = analysis.attribution();
  const perWindow = detailIpsPerWindow(resolved, windows.length);
  for (let k = 0; k < ranges.length; k++) {
    // Exact counts of every client; per-IP detail for at most the attribution's cap, chosen
    // by hash as core samples (its own cap applies again on merge).
    const counts = await runCounts(client, ipCountsQuery(t, c, ranges, k), counter);
    const limit = counts.insideClients <= perWindow ? 2 ** 32 : fetchLimit(await run(client, hashLevelsQuery(t, c, ranges, k, 'inside'), counter), perWindow);
    const windowsSnap = empty();
    windowsSnap[k] = buildWindowState(ranges[k]!, {
      ...(await detailRows(k, limit)),
      counts: counts.snapshot(),
      limit,
      sampledOut: (await run(client, insideSampledOutQuery(t, c, ranges, k, limit), counter))[0]!,
      refererHosts: await run(client, refererHostsQuery(t, c, ranges, k, MAX_REFERER_HOSTS), counter),
      refererTotal: (await run(client, refererTotalQuery(t, c, ranges, k), counter))[0]!,
      referenceTotals: (await run(client, referenceTotalsQuery(t, c, ranges, k), counter))[0]!,
    });
    attribution.mergeSnapshot(buildAttributionSnapshot(windowsSnap));
  }
  // Pass 3 when core asks for it (a window past the detail cap): exact detail of the IPs it
  // names (attackers outside the hash sample, light new IPs), queried by IP list.
  const detail = analysis.detailPass(attribution);
  if (detail !== null) {
    const wanted = detailPassIps(detail);
    const windowsSnap = empty();
    for (let k = 0; k < ranges.length; k++) {
      const heavy = new Map<string, IpWindowStats>();
      for (const chunk of ipChunks([...wanted[k]!].sort())) buildIpDetail(await detailRows(k, chunk), heavy);
      windowsSnap[k] = buildDetailWindow(ranges[k]!, heavy);
    }
    detail.mergeSnapshot(buildAttributionSnapshot(windowsSnap));
  }
  return { result: analysis.finish(geo, attribution, detail), timeline: Timeline.fromSnapshot(analysis.snapshot().timeline), queries: counter.n };
}

function manifestOptions(opts: AnalyzeOptions, engine: { url: string; table: string; columns: string | undefined }): JsonObject {
  const resolved = resolveOptions(opts.analysis);
  return {
    engine: 'clickhouse', url: engine.url, table: engine.table, columns: engine.columns ?? null,
    sensitivity: opts.sensitivity, minRequests: opts['min-requests'] ?? null,
    analysis: { ...resolved, scalesS: [...resolved.scalesS] },
  };
}

/** A password in a `--url` (`http://user:secret@host`) is not written to the manifest. */
export function redactUrl(arg: string): string {
  return arg.replace(/^(--url=)?(https?:\/\/[^/:@\s]*):[^@/\s]*@/i, '$1$2:***@');
}

const NOT_WITH_ENGINE = ['from', 'to', 'trusted-proxy', 'vhost', 'format', 'tz'] as const;

export async function runClickHouseAnalyze(args: AnalyzeArgs & { readonly url?: unknown; readonly table?: unknown; readonly columns?: unknown }): Promise<number> {
  const ctx: CommandContext = args.alf;
  const opts = validateAnalyzeOptions({ ...args, files: [] });
  const engine = engineSchema().safeParse({ url: args.url, table: args.table, columns: args.columns });
  if (!engine.success) throw new AlfError('ALF_USAGE', engine.error.issues.map((i) => i.message).join('; '));
  if ((args.files ?? []).length > 0) throw new AlfError('ALF_USAGE', `\`--engine clickhouse\` reads the table, not files; got ${args.files!.length} file name(s). Load them first with \`alf load clickhouse\``);
  for (const flag of NOT_WITH_ENGINE) {
    if (args[flag] !== undefined) throw new AlfError('ALF_USAGE', `\`--${flag}\` is not supported with \`--engine clickhouse\` (apply it when loading, or analyse a table that holds only the records you want)`);
  }
  if (opts.records === 'all') throw new AlfError('ALF_USAGE', '`--records all` is not supported with `--engine clickhouse` (records.arrow needs the raw records; query the table instead)');
  let mapping;
  try {
    mapping = parseColumnMapping(engine.data.columns ?? '');
  } catch (e) {
    throw new AlfError('ALF_USAGE', (e as Error).message);
  }
  const client = createClickHouseClient(engine.data.url);
  const geo: Geo = await openGeo({ asnDb: opts['asn-db'], geoDb: opts['geo-db'] });
  let pack: PackWriter | undefined;
  const openPack = async (dir: string): Promise<PackWriter> => {
    try {
      return await createPack(dir, {
        tool: { name: 'alf', version: ctx.version }, argv: ['alf', ...process.argv.slice(2).map(redactUrl)],
        options: manifestOptions(opts, { url: client.url, table: engine.data.table, columns: engine.data.columns }), replace: opts.force,
      });
    } catch (error) {
      if (isAlfError(error) && error.context['reason'] === 'previous_pack') {
        throw new AlfError('ALF_OUTPUT_UNWRITABLE', `\`${dir}\` already holds an alf evidence pack: add --force to replace it, or choose another directory with --out`, { ...error.context }, { cause: error });
      }
      throw error;
    }
  };
  try {
    if (opts.out !== undefined) pack = await openPack(resolve(opts.out));
    const described = await client.query(`DESCRIBE TABLE ${quoteTable(engine.data.table)}`);
    let columns: SqlColumns = ALF_COLUMNS;
    let derived: string[] = [];
    try {
      const r = resolveColumns(described.rows.map((row) => String(row[0])), mapping);
      columns = r.columns;
      derived = r.derived;
    } catch (e) {
      throw new AlfError('ALF_USAGE', `table ${terminalSafe(engine.data.table, 200)}: ${(e as Error).message}`);
    }
    const { result, timeline, queries } = await analyzeTable(client, engine.data.table, columns, opts.analysis, geo);
    pack ??= await openPack(resolve(defaultPackName([engine.data.table], result.firstMs, result.lastMs)));
    const notes = engineNotes(engine.data.table, client.url, derived);
    const records = result.records + result.recordsWithoutTime;
    const input: AnalysisPackInput = {
      result,
      inputs: [],
      source: `ClickHouse ${client.url}, table ${engine.data.table}`,
      accounting: { linesRead: records, parsed: records, rejected: 0, bytesRead: 0, byReason: {} as AnalysisPackInput['accounting']['byReason'] },
      databases: geo.databases,
      databaseAgeWarning: result.firstMs !== null && result.lastMs !== null ? geo.ageWarning(result.firstMs, result.lastMs) : null,
      geoStats: geo.stats,
      options: { analysis: resolveOptions(opts.analysis), tz: null, fromMs: null, toMs: null },
      toolVersion: ctx.version,
      notes,
      records: { file: null, rowsByBurst: new Map(), evidenceFiles: new Map() },
      clients: null,
    };
    await writeAnalysisPack(pack, input, { burstSeries: result.bursts.map((b) => burstSeries(timeline, b)) });
    await pack.finish({
      inputs: [],
      databases: databaseManifestEntries(geo.databases),
      counts: { ...analysisPackCounts(input), clickhouseQueries: queries },
      notes,
    });
    const style = styleFor(ctx.stderr);
    if (!opts.quiet) {
      say(ctx, style.strong(`alf analyze --engine clickhouse: ${terminalSafe(engine.data.table, 200)} at ${client.url}: ${records.toLocaleString('en-US')} records, ${queries} queries`),
        ...(result.firstMs !== null && result.lastMs !== null ? [`records ${isoSeconds(result.firstMs)} – ${isoSeconds(result.lastMs)}`] : []),
        ...burstLines(result), `pack: ${terminalSafe(pack.dir, 400)}`);
    }
    return EXIT.ok;
  } catch (error) {
    if (pack) {
      const reason = ctx.signal.aborted ? `interrupted by ${String(ctx.signal.reason)}` : `stopped by an error: ${(error as Error | undefined)?.message ?? String(error)}`;
      await pack.abort(reason, { inputs: [] }).catch(() => undefined);
    }
    throw error;
  } finally {
    client.close();
    geo.close();
  }
}
