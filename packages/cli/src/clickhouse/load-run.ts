/**
 * What `alf load clickhouse` does: parse and enrich every input locally (the
 * parser and geo code of `alf parse`/`alf analyze`), encode the records as TSV
 * batches of ~100k rows and insert them over HTTP, two batches in flight.
 *
 * Retries: a batch whose insert fails on a connection error or a server error
 * is retried with backoff (0.5 s doubling, 6 tries). An insert can fail after
 * the server stored some or all of it (a Distributed insert stores each
 * shard's part separately), and plain MergeTree has no insert deduplication on
 * 18.16 (`insert_deduplicate` is for Replicated tables), so every row carries
 * the run's `load_id`, its `batch` number, input and line: before resending,
 * alf asks the table which rows of the batch landed and resends only the
 * others (never a duplicate, never a gap). Inserts into a Distributed table use
 * `insert_distributed_sync=1`, so an acknowledged batch is on its shards.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { batchRowsSql, createLocalTableSql, insertSql } from '@alf/core';
import { openGeo } from '@alf/geo';
import { AlfError } from '@alf/parser';
import type { Reject } from '@alf/parser';
import type { LoadArgs } from '../commands/load.ts';
import { readInput, isStdin } from '../analyze-inputs.ts';
import { planInput } from '../analyze-parallel.ts';
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
import { createLoadPool } from './load-ranges.ts';
import type { LoadPool } from './load-ranges.ts';
import { BatchBuffers, RowEncoder } from './tsv-rows.ts';
import type { TsvBuffer } from './tsv-rows.ts';

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
    workers: z.coerce.number({ error: '`--workers` must be a whole number of threads from 1 to 256' }).int().min(1).max(256).default(1),
    quiet: z.boolean({ error: '`--quiet` takes no value' }).default(false),
  });
}

/** Connection errors, 5xx statuses other than a plain query/data error, and ClickHouse's network/overload codes are retried. */
export function retryable(e: unknown): boolean {
  if (!(e instanceof ClickHouseError)) return false;
  if (e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504) return true;
  const code = /Code: (\d+)/.exec(e.message)?.[1];
  return e.status >= 500 && code !== undefined && [159, 202, 209, 210, 252, 279, 280, 285, 319, 425].includes(Number(code));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Inserts one batch; on a retryable failure waits, then asks the table which of
 * the batch's rows landed (by load_id, batch, input and line) and resends only
 * the others, so a retry never duplicates a row (a Distributed insert can fail
 * after some shards stored their part).
 */
async function insertBatch(client: ClickHouseClient, table: string, loadId: string, batch: number, data: TsvBuffer, onRetry: (msg: string) => void): Promise<void> {
  let body = data;
  for (let attempt = 1; ; attempt++) {
    try {
      await client.insert(insertSql(table), body.view(), { insert_distributed_sync: '1' });
      return;
    } catch (e) {
      if (!retryable(e) || attempt >= TRIES) throw e;
      const wait = 500 * 2 ** (attempt - 1);
      onRetry(`batch ${batch} (${body.rows} rows): ${(e as Error).message}; retrying in ${wait} ms`);
      await sleep(wait);
      let landed: Set<string> | null = null;
      for (let check = attempt; landed === null; check++) {
        try {
          const r = await client.query(batchRowsSql(table, loadId, batch));
          landed = new Set(r.rows.map((row) => `${String(row[0])}\t${String(row[1])}`));
        } catch (ce) {
          if (!retryable(ce) || check >= TRIES) throw ce;
          await sleep(500 * 2 ** (check - 1));
        }
      }
      if (landed.size > 0) {
        body = body.without(landed);
        onRetry(`batch ${batch}: ${landed.size} rows had landed; resending the other ${body.rows}`);
        if (body.rows === 0) return;
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
  const encoder = new RowEncoder(geo);
  const loadId = randomUUID();
  // Batch numbers, unique within the load: shared with the worker threads.
  const batchCounter = new SharedArrayBuffer(4);
  const nextBatch = (): number => Atomics.add(new Int32Array(batchCounter), 0, 1);
  let batches = 0;
  let rowsSent = 0;
  let rowsAccepted = 0;
  const retries: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  let pool: LoadPool | null = null;
  let rangedInputs = 0;
  /** Inserts one batch; the promise settles (never rejects) when the insert has: a failure is kept in `failure`. */
  const send = (n: number, data: TsvBuffer): Promise<void> => {
    const rows = data.rows;
    rowsSent += rows;
    batches++;
    const p: Promise<void> = insertBatch(client, opts.table, loadId, n, data, (m) => retries.push(m))
      .then(() => { rowsAccepted += rows; }, (e: unknown) => {
        failure ??= e;
        void pool?.close();
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    return p;
  };
  const buffers = new BatchBuffers(opts['batch-rows']);
  let pending = buffers.next();
  let pendingBatch = -1;
  const flush = async (): Promise<void> => {
    if (pending.rows === 0) return;
    const data = pending;
    const n = pendingBatch;
    buffers.sized(data.pos);
    pending = buffers.next();
    pendingBatch = -1;
    while (inFlight.size >= 2) await Promise.race(inFlight);
    if (failure !== null) throw failure;
    void send(n, data).then(() => buffers.release(data.buf));
  };
  const results: InputResult[] = [];
  const rejectSample: Reject[] = [];
  let rejectsTotal = 0;
  try {
    if (opts.create) await client.exec(createLocalTableSql(opts.table));
    for (const [index, name] of files.entries()) {
      const plan = opts.workers > 1 && !isStdin(name)
        ? await planInput(name, (await stat(name)).size, opts.workers, { format: opts.format, tz: opts.tz, maxLineBytes: opts['max-line-bytes'] })
        : null;
      if (plan?.ranges) {
        await flush();
        pool ??= createLoadPool(opts.workers, { asnDb: opts['asn-db'], geoDb: opts['geo-db'], batchCounter }, send);
        rangedInputs++;
        const read = await pool.loadInput(plan, {
          tz: opts.tz, maxLineBytes: opts['max-line-bytes'], inputIndex: index, inputName: name, loadId, batchRows: opts['batch-rows'], rejectSample: REJECT_SAMPLE,
        }, opts.format);
        rejectsTotal += read.rejectsTotal;
        for (const r of read.rejectSample) if (rejectSample.length < REJECT_SAMPLE) rejectSample.push(r);
        const { accounting, decode, format } = read.parts;
        const flags = [...(decode?.flags ?? [])];
        if (!read.sizeStable && !flags.includes('changed')) flags.push('changed');
        results.push({
          name, sizeBytes: read.sizeBytes, sha256: read.sha256, complete: true, accounting, decode, format,
          flags, notes: [...(decode?.notes ?? [])],
        });
        if (failure !== null) throw failure;
        continue;
      }
      const read = await readInput({ name, path: name }, {
        parse: { format: opts.format, tz: opts.tz, maxLineBytes: opts['max-line-bytes'], inputIndex: index }, ctx, progress,
        label: isStdin(name) ? '(standard input)' : name,
        onChunk: async (chunk) => {
          rejectsTotal += chunk.rejects.length;
          for (const r of chunk.rejects) if (rejectSample.length < REJECT_SAMPLE) rejectSample.push(r);
          if (chunk.records.length === 0) return;
          if (pendingBatch < 0) pendingBatch = nextBatch();
          encoder.encode(chunk.records, name, `${loadId}\t${pendingBatch}\n`, pending);
          if (pending.rows >= opts['batch-rows']) await flush();
          if (failure !== null) throw failure;
        },
      });
      const flags = [...(read.decode?.flags ?? [])];
      if (!read.sizeStable && !flags.includes('changed')) flags.push('changed');
      results.push({
        name, sizeBytes: read.sizeBytes, sha256: read.sha256, complete: true, accounting: read.accounting,
        decode: read.decode, format: read.format, flags, notes: [...(read.decode?.notes ?? [])],
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
    throw failure ?? e;
  } finally {
    await (pool as LoadPool | null)?.close();
    client.close();
    geo.close();
  }
  const parsed = results.reduce((a, r) => a + r.accounting.parsed, 0);
  const lines = results.reduce((a, r) => a + r.accounting.linesRead, 0);
  const trailer = [
    `loaded into ${terminalSafe(opts.table, 200)} at ${client.url}: ${rowsSent.toLocaleString('en-US')} rows sent, ${rowsAccepted.toLocaleString('en-US')} accepted in ${batches} batches (load_id ${loadId})${rangedInputs > 0 ? `; ${rangedInputs} of ${files.length} inputs parsed in byte ranges by ${opts.workers} threads` : ''}`,
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
