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
import { z } from 'zod';
import { batchRowsSql, createLocalTableSql, insertSql, ipHash, pathAsset, queryRandom, refererTraits } from '@alf/core';
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

/**
 * A growing byte buffer for one batch of TSV rows: values are copied in as
 * bytes (each distinct dictionary value encoded once per record batch), numbers
 * written digit by digit: no per-row strings for the garbage collector.
 */
export class TsvBuffer {
  buf: Buffer;
  pos = 0;
  rows = 0;
  /** Per row: byte offset of its start, its input's index in `inputNames`, its line number (to resend only missing rows). */
  readonly starts: number[] = [];
  readonly inputs: number[] = [];
  readonly lines: number[] = [];
  readonly inputNames: string[] = [];
  constructor(initialBytes = 1 << 22) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  bytes(b: Uint8Array): void {
    const n = b.length;
    this.ensure(n);
    if (n < 24) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) buf[p++] = b[i]!;
      this.pos = p;
    } else {
      this.buf.set(b, this.pos);
      this.pos += n;
    }
  }
  /** A non-negative integer below 2^53, then a tab (or `end`). */
  uint(x: number, end = 9): void {
    this.ensure(18);
    const buf = this.buf;
    if (x < 10) {
      buf[this.pos++] = 48 + x;
    } else {
      let digits = 0;
      for (let y = x; y >= 1; y = Math.floor(y / 10)) digits++;
      let p = this.pos + digits;
      this.pos = p;
      for (let y = x; y >= 1; y = Math.floor(y / 10)) buf[--p] = 48 + (y % 10);
    }
    buf[this.pos++] = end;
  }
  ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }
  /** Starts a row of input `name`, line `line`. */
  startRow(name: string, line: number): void {
    let k = this.inputNames.length - 1;
    if (k < 0 || this.inputNames[k] !== name) {
      k = this.inputNames.indexOf(name);
      if (k < 0) k = this.inputNames.push(name) - 1;
    }
    this.starts.push(this.pos);
    this.inputs.push(k);
    this.lines.push(line);
    this.rows++;
  }

  /** A copy holding only the rows whose `input\tline` is not in `landed`. */
  without(landed: ReadonlySet<string>): TsvBuffer {
    const out = new TsvBuffer(Math.max(1024, this.pos));
    for (let r = 0; r < this.rows; r++) {
      const name = this.inputNames[this.inputs[r]!]!;
      if (landed.has(`${name}\t${this.lines[r]!}`)) continue;
      out.startRow(name, this.lines[r]!);
      out.bytes(this.buf.subarray(this.starts[r]!, r + 1 < this.rows ? this.starts[r + 1]! : this.pos));
    }
    return out;
  }

  /** The bytes written so far (a view; the buffer is not reused). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Per-batch memo of a dictionary column's encoded values (`none` for a missing value). */
function encoded(values: readonly string[], f: (v: string, id: number) => string, none: string): (id: number) => Uint8Array {
  const memo: (Uint8Array | undefined)[] = new Array(values.length);
  const noneBytes = Buffer.from(none, 'utf8');
  return (id) => {
    if (id < 0) return noneBytes;
    let v = memo[id];
    if (v === undefined) v = memo[id] = Buffer.from(f(values[id]!, id), 'utf8');
    return v;
  };
}

/**
 * Appends the TSV rows of one record batch to `out` (columns in ALF_TABLE_COLUMNS
 * order; `tail` holds the last columns, load_id and batch, with the newline).
 */
export function encodeBatch(b: RecordBatch, geo: Geo, inputName: string, tail: string, out: TsvBuffer): void {
  const kinds = b.ipKind;
  const firstRow = new Int32Array(b.ip.values.length).fill(-1);
  for (let i = 0; i < b.length; i++) {
    const id = b.ip.ids[i]!;
    if (id >= 0 && firstRow[id]! < 0) firstRow[id] = i;
  }
  const ipBlock = encoded(b.ip.values, (v, id) => {
    const g = geo.lookup(v);
    return `${tsv(v)}\t${kinds[firstRow[id]!]!}\t${ipHash(v)}\t${tsv(g.aggPrefix ?? '')}\t${g.asn ?? 0}\t${tsv(g.asOrg ?? '')}\t${tsv(g.country ?? '')}\t`;
  }, '');
  const field = (v: string): string => `${tsv(v)}\t`;
  const method = encoded(b.method.values, field, '\t');
  const path = encoded(b.path.values, field, '\t');
  const query = encoded(b.query.values, field, '\t');
  const protocol = encoded(b.protocol.values, field, '\t');
  const referer = encoded(b.referer.values, field, '\t');
  const ua = encoded(b.userAgent.values, field, '\t');
  const vhost = encoded(b.vhost.values, field, '\t');
  const asset = encoded(b.path.values, (v) => `${pathAsset(v)}\t`, '0\t');
  const random = encoded(b.query.values, (v) => `${queryRandom(v)}\t`, '0\t');
  const refTraits = encoded(b.referer.values, (v) => {
    const t = refererTraits(v);
    return `${t.refClass}\t${tsv(t.refHost)}\t`;
  }, '0\t\t');
  const input = Buffer.from(`${tsv(inputName)}\t`, 'utf8');
  const end = Buffer.from(tail, 'utf8');
  const noIp = Buffer.from('\t', 'utf8');
  for (let i = 0; i < b.length; i++) {
    const t = b.ts[i]!;
    const ok = Number.isFinite(t);
    out.startRow(inputName, b.line[i]!);
    out.uint(ok ? Math.max(0, Math.floor(t)) : 0);
    out.uint(ok ? 1 : 0);
    const ip = b.ip.ids[i]!;
    if (ip >= 0) {
      out.bytes(ipBlock(ip));
    } else {
      out.bytes(noIp);
      out.uint(kinds[i]!);
      out.ascii('0\t\t0\t\t\t');
    }
    out.bytes(method(b.method.ids[i]!));
    out.bytes(path(b.path.ids[i]!));
    out.bytes(query(b.query.ids[i]!));
    out.bytes(protocol(b.protocol.ids[i]!));
    out.uint(b.status[i]!);
    const bytes = b.bytesSent[i]!;
    if (Number.isFinite(bytes) && bytes >= 0) out.uint(Math.floor(bytes));
    else out.ascii('-1\t');
    const dur = b.durationMs[i]!;
    out.ascii(Number.isFinite(dur) ? `${dur}\t` : '-1\t');
    out.bytes(referer(b.referer.ids[i]!));
    out.bytes(ua(b.userAgent.ids[i]!));
    out.bytes(vhost(b.vhost.ids[i]!));
    out.bytes(asset(b.path.ids[i]!));
    out.bytes(random(b.query.ids[i]!));
    out.bytes(refTraits(b.referer.ids[i]!));
    out.bytes(input);
    out.uint(b.line[i]!);
    out.uint(b.byteOffset[i]!);
    out.bytes(end);
  }
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
  const loadId = randomUUID();
  let batchNo = 0;
  let rowsSent = 0;
  let rowsAccepted = 0;
  const retries: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  let pending = new TsvBuffer();
  const flush = async (): Promise<void> => {
    if (pending.rows === 0) return;
    const data = pending;
    const rows = pending.rows;
    const n = batchNo++;
    pending = new TsvBuffer(data.pos + (data.pos >> 3));
    while (inFlight.size >= 2) await Promise.race(inFlight);
    if (failure !== null) throw failure;
    rowsSent += rows;
    const p: Promise<void> = insertBatch(client, opts.table, loadId, n, data, (m) => retries.push(m))
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
          encodeBatch(chunk.records, geo, name, `${loadId}\t${batchNo}\n`, pending);
          if (pending.rows >= opts['batch-rows']) await flush();
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
