/**
 * What `alf load clickhouse` does: parse and enrich every input locally (the
 * parser and geo code of `alf parse`/`alf analyze`), encode the records as TSV
 * batches of ~100k rows and insert them over HTTP, two batches in flight.
 *
 * Retries: a batch whose insert fails on a connection error or a server error
 * is retried with backoff (0.5 s doubling, 6 tries). An insert can fail after
 * the server stored it, and plain MergeTree has no insert deduplication on
 * 18.16 (`insert_deduplicate` is for Replicated tables), so every row carries
 * the run's `load_id` and its `batch` number: before resending, alf counts the
 * batch's rows in the table; all there → accepted, none → resend, some → stop
 * with an error naming the batch (never a silent duplicate). Inserts into a
 * Distributed table use `insert_distributed_sync=1`, so an acknowledged batch
 * is on its shards.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { batchCountSql, createLocalTableSql, insertSql, ipHash, pathAsset, queryRandom, refererTraits } from '@alf/core';
import { openGeo } from '@alf/geo';
import type { Geo } from '@alf/geo';
import { AlfError } from '@alf/parser';
import type { RecordBatch, Reject } from '@alf/parser';
import type { LoadArgs } from '../commands/load.ts';
import { readInput, isStdin } from '../analyze-inputs.ts';
import { say } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { STDIN_NAME, checkInputs } from '../inputs.ts';
import { byteSizeOption, formatOption, oneOf, tzOption, validateOptions } from '../options.ts';
import { formatProblem } from '../parse-input.ts';
import { createProgress } from '../progress.ts';
import { formatSummary } from '../summary.ts';
import type { InputResult } from '../summary.ts';
import { terminalSafe } from '../terminal-text.ts';
import { ClickHouseError, createClickHouseClient } from './http.ts';
import type { ClickHouseClient } from './http.ts';

const REJECT_SAMPLE = 5;
const TRIES = 6;

function loadSchema() {
  return z.object({
    target: oneOf('load target', ['clickhouse'] as const),
    files: z.array(z.string()).default([]),
    url: z.string({ error: '`--url` is required: the ClickHouse HTTP interface, e.g. --url http://localhost:8123' }),
    table: z.string({ error: '`--table` is required: the table to insert into, e.g. --table logs' })
      .regex(/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/, '`--table` must be a name or db.name of letters, digits and _'),
    create: z.boolean({ error: '`--create` takes no value' }).default(false),
    format: formatOption(formatProblem).optional(),
    tz: tzOption.optional(),
    'asn-db': z.string().optional(),
    'geo-db': z.string().optional(),
    'max-line-bytes': byteSizeOption('--max-line-bytes', 256, 1024 ** 3).default(1024 ** 2),
    'batch-rows': z.coerce.number({ error: '`--batch-rows` must be a number' }).int().min(1).max(10_000_000).default(100_000),
    quiet: z.boolean({ error: '`--quiet` takes no value' }).default(false),
  });
}

/** TSV escaping of ClickHouse's TabSeparated format. */
function tsv(s: string): string {
  if (!/[\\\t\n\r\0\b\f]/.test(s)) return s;
  return s.replace(/[\\\t\n\r\0\b\f]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\0' ? '\\0' : c === '\b' ? '\\b' : '\\f'));
}

/** Per-batch memo of a dictionary column's encoded values. */
function encoded<T>(values: readonly string[], f: (v: string) => T): (id: number, none: T) => T {
  const memo: (T | undefined)[] = new Array(values.length);
  return (id, none) => {
    if (id < 0) return none;
    let v = memo[id];
    if (v === undefined) v = memo[id] = f(values[id]!);
    return v;
  };
}

/** The TSV rows of one record batch (columns in ALF_TABLE_COLUMNS order up to byte_offset; `tail` adds load_id and batch). */
export function encodeBatch(b: RecordBatch, geo: Geo, inputName: string, tail: string): string[] {
  const ipText = encoded(b.ip.values, tsv);
  const ipInfo = encoded(b.ip.values, (v) => {
    const g = geo.lookup(v);
    return `${ipHash(v)}\t${tsv(g.aggPrefix ?? '')}\t${g.asn ?? 0}\t${tsv(g.asOrg ?? '')}\t${tsv(g.country ?? '')}`;
  });
  const method = encoded(b.method.values, tsv);
  const path = encoded(b.path.values, tsv);
  const asset = encoded(b.path.values, pathAsset);
  const query = encoded(b.query.values, tsv);
  const random = encoded(b.query.values, queryRandom);
  const protocol = encoded(b.protocol.values, tsv);
  const referer = encoded(b.referer.values, tsv);
  const refTraits = encoded(b.referer.values, (v) => {
    const t = refererTraits(v);
    return `${t.refClass}\t${tsv(t.refHost)}`;
  });
  const ua = encoded(b.userAgent.values, tsv);
  const vhost = encoded(b.vhost.values, tsv);
  const input = tsv(inputName);
  const rows: string[] = new Array(b.length);
  for (let i = 0; i < b.length; i++) {
    const t = b.ts[i]!;
    const ok = Number.isFinite(t);
    const ipId = b.ip.ids[i]!;
    const pathId = b.path.ids[i]!;
    const queryId = b.query.ids[i]!;
    const refId = b.referer.ids[i]!;
    const bytes = b.bytesSent[i]!;
    const dur = b.durationMs[i]!;
    rows[i] = `${ok ? Math.floor(t) : 0}\t${ok ? 1 : 0}\t${ipText(ipId, '')}\t${b.ipKind[i]!}\t${ipInfo(ipId, '0\t\t0\t\t')}\t`
      + `${method(b.method.ids[i]!, '')}\t${path(pathId, '')}\t${query(queryId, '')}\t${protocol(b.protocol.ids[i]!, '')}\t${b.status[i]!}\t`
      + `${Number.isFinite(bytes) ? Math.floor(bytes) : -1}\t${Number.isFinite(dur) ? dur : -1}\t${referer(refId, '')}\t${ua(b.userAgent.ids[i]!, '')}\t${vhost(b.vhost.ids[i]!, '')}\t`
      + `${asset(pathId, 0)}\t${random(queryId, 0)}\t${refTraits(refId, '0\t')}\t${input}\t${b.line[i]!}\t${b.byteOffset[i]!}\t${tail}\n`;
  }
  return rows;
}

/** Connection errors, 5xx statuses other than a plain query/data error, and ClickHouse's network/overload codes are retried. */
export function retryable(e: unknown): boolean {
  if (!(e instanceof ClickHouseError)) return false;
  if (e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504) return true;
  const code = /Code: (\d+)/.exec(e.message)?.[1];
  return e.status >= 500 && code !== undefined && [159, 202, 209, 210, 252, 279, 280, 285, 319, 425].includes(Number(code));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Inserts one batch; on a retryable failure checks what landed, then resends or stops. */
async function insertBatch(client: ClickHouseClient, table: string, loadId: string, batch: number, rows: number, body: Buffer, onRetry: (msg: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.insert(insertSql(table), body, { insert_distributed_sync: '1' });
      return;
    } catch (e) {
      if (!retryable(e) || attempt >= TRIES) throw e;
      const wait = 500 * 2 ** (attempt - 1);
      onRetry(`batch ${batch} (${rows} rows): ${(e as Error).message}; retrying in ${wait} ms`);
      await sleep(wait);
      let landed: number | null = null;
      for (let check = attempt; landed === null; check++) {
        try {
          const r = await client.query(batchCountSql(table, loadId, batch));
          landed = Number(r.rows[0]?.[0] ?? 0);
        } catch (ce) {
          if (!retryable(ce) || check >= TRIES) throw ce;
          await sleep(500 * 2 ** (check - 1));
        }
      }
      if (landed === rows) return;
      if (landed !== 0) {
        throw new ClickHouseError(`batch ${batch} of load ${loadId} is partly in ${table} (${landed} of ${rows} rows) after a failed insert; delete it (ALTER TABLE ${table} DELETE WHERE load_id = '${loadId}') and load again`, 0);
      }
    }
  }
}

export async function runLoad(args: LoadArgs): Promise<number> {
  const ctx = args.alf;
  const opts = validateOptions(loadSchema(), args);
  let files = opts.files;
  if (files.length === 0) {
    if (ctx.stdin.isTTY) throw new AlfError('ALF_USAGE', 'no input: name log files (plain or gzip), or `-` to read standard input', { showUsage: true });
    files = [STDIN_NAME];
  }
  if (files.filter(isStdin).length > 1) throw new AlfError('ALF_USAGE', '`-` (standard input) can be given only once');
  await checkInputs(files);
  const client = createClickHouseClient(opts.url);
  const geo = await openGeo({ asnDb: opts['asn-db'], geoDb: opts['geo-db'] });
  const progress = createProgress(ctx.stderr, !opts.quiet);
  const loadId = randomUUID();
  let batchNo = 0;
  let rowsSent = 0;
  let rowsAccepted = 0;
  const retries: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  let pending: string[] = [];
  let pendingRows = 0;
  const flush = async (): Promise<void> => {
    if (pendingRows === 0) return;
    const body = Buffer.from(pending.join(''), 'utf8');
    const rows = pendingRows;
    const n = batchNo++;
    pending = [];
    pendingRows = 0;
    while (inFlight.size >= 2) await Promise.race(inFlight);
    if (failure !== null) throw failure;
    rowsSent += rows;
    const p: Promise<void> = insertBatch(client, opts.table, loadId, n, rows, body, (m) => retries.push(m))
      .then(() => { rowsAccepted += rows; }, (e: unknown) => { failure ??= e; })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  const results: InputResult[] = [];
  const rejectSample: Reject[] = [];
  let rejectsTotal = 0;
  try {
    if (opts.create) await client.exec(createLocalTableSql(opts.table));
    for (const [index, name] of files.entries()) {
      const read = await readInput({ name, path: name }, {
        parse: { format: opts.format, tz: opts.tz, maxLineBytes: opts['max-line-bytes'], inputIndex: index }, ctx, progress,
        label: isStdin(name) ? '(standard input)' : name,
        onChunk: async (chunk) => {
          rejectsTotal += chunk.rejects.length;
          for (const r of chunk.rejects) if (rejectSample.length < REJECT_SAMPLE) rejectSample.push(r);
          if (chunk.records.length === 0) return;
          const rows = encodeBatch(chunk.records, geo, name, `${loadId}\t${batchNo}`);
          for (const r of rows) pending.push(r);
          pendingRows += rows.length;
          if (pendingRows >= opts['batch-rows']) await flush();
          if (failure !== null) throw failure;
        },
      });
      results.push({
        name, sizeBytes: read.sizeBytes, sha256: read.sha256, complete: true, accounting: read.accounting,
        decode: read.decode, format: read.format, flags: [...(read.decode?.flags ?? [])], notes: [...(read.decode?.notes ?? [])],
      });
    }
    await flush();
    await Promise.all(inFlight);
    if (failure !== null) throw failure;
    progress.stop();
  } catch (e) {
    await Promise.allSettled(inFlight);
    progress.stop();
    say(ctx, `alf load: stopped after ${rowsAccepted.toLocaleString('en-US')} of ${rowsSent.toLocaleString('en-US')} rows sent were accepted (load_id ${loadId})`);
    throw e;
  } finally {
    client.close();
    geo.close();
  }
  const parsed = results.reduce((a, r) => a + r.accounting.parsed, 0);
  const lines = results.reduce((a, r) => a + r.accounting.linesRead, 0);
  const trailer = [
    `loaded into ${terminalSafe(opts.table, 200)} at ${client.url}: ${rowsSent.toLocaleString('en-US')} rows sent, ${rowsAccepted.toLocaleString('en-US')} accepted in ${batchNo} batches (load_id ${loadId})`,
    ...(rejectsTotal > 0 ? [`${rejectsTotal.toLocaleString('en-US')} rejected lines are not loaded (alf parse lists them with reasons)`] : []),
    ...retries.map((r) => `retried: ${terminalSafe(r, 300)}`),
  ];
  if (!opts.quiet) {
    const [head, ...rest] = formatSummary(results, { command: 'alf load clickhouse', rejectSample, rejectsTotal, inputNames: files.map((f) => (isStdin(f) ? '(standard input)' : f)), trailer });
    say(ctx, head!, ...rest);
  }
  if (rowsAccepted !== parsed) throw new AlfError('ALF_INTERNAL', `accepted ${rowsAccepted} rows but parsed ${parsed} records`);
  return lines > 0 && rejectsTotal / lines > 0.01 ? EXIT.warnings : EXIT.ok;
}
