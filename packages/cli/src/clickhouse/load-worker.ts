/**
 * Worker-thread entry of `alf load clickhouse` (started by load-ranges.ts): parses
 * one byte range of a plain file at a time, shifts line numbers and byte offsets
 * to the whole file's, encodes the rows (tsv-rows.ts) and posts each batch's
 * bytes (transferred, not copied), at most `MAX_QUEUED` batches ahead of the
 * inserts the main thread has finished. Batch numbers come from a counter shared
 * by every thread of the load, so they stay unique within its load_id.
 */
import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { openGeo } from '@alf/geo';
import type { Geo } from '@alf/geo';
import type { Reject } from '@alf/parser';
import { readLent } from '@alf/parser';
import { parseInput } from '../parse-input.ts';
import type { InputResultParts } from '../parse-input.ts';
import { BatchBuffers, RowEncoder } from './tsv-rows.ts';

/** What every worker of a load shares. */
export interface LoadWorkerData {
  readonly asnDb: string | undefined;
  readonly geoDb: string | undefined;
  /** Int32 [0]: the next batch number of the load. */
  readonly batchCounter: SharedArrayBuffer;
}

/** One byte range [start, end) of a plain input. */
export interface RangeTask {
  readonly path: string;
  readonly start: number;
  readonly end: number;
  readonly format: string | undefined;
  readonly tz: string | undefined;
  readonly maxLineBytes: number;
  readonly inputIndex: number;
  /** The input's name in the `input` column. */
  readonly inputName: string;
  readonly loadId: string;
  readonly batchRows: number;
  readonly rejectSample: number;
}

/** `credit`: a batch posted is inserted; its bytes come back for the next batch. */
export type ToWorker = { readonly type: 'task'; readonly task: RangeTask } | { readonly type: 'credit'; readonly bytes: ArrayBuffer } | { readonly type: 'exit' };

export interface RangeDone {
  readonly parts: InputResultParts;
  readonly sizeBytes: number;
  readonly rejectSample: Reject[];
  readonly rejectsTotal: number;
}

export type FromWorker =
  | { readonly type: 'batch'; readonly batch: number; readonly rows: number; readonly bytes: ArrayBuffer; readonly length: number }
  | { readonly type: 'done'; readonly done: RangeDone }
  | { readonly type: 'error'; readonly error: { message: string; code?: string; context?: unknown; name?: string; stack?: string } };

/** Batches a worker may have posted and not yet seen inserted. */
export const MAX_QUEUED = 1;
const READ_BYTES = 1 << 20;

/** Lines before `start` (the number of newlines in [0, start)). */
export async function linesBefore(path: string, start: number): Promise<number> {
  if (start <= 0) return 0;
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    let lines = 0;
    for (let pos = 0; pos < start;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(READ_BYTES, start - pos), pos);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(10, 0); i >= 0 && i < bytesRead; i = buf.indexOf(10, i + 1)) lines++;
      pos += bytesRead;
    }
    return lines;
  } finally {
    await fh.close();
  }
}

async function* rangeBytes(path: string, start: number, end: number, count: (n: number) => void): AsyncGenerator<Uint8Array, void, undefined> {
  if (end <= start) return;
  const fh = await open(path, 'r');
  try {
    // chunks the parser hands back are read into again (readLent)
    for await (const chunk of readLent(fh, { start, end, chunkBytes: READ_BYTES })) {
      count(chunk.byteLength);
      yield chunk;
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Runs one range: `post` gets each full batch (and the last), `credit` resolves when
 * the main thread has finished one of the batches posted.
 */
export async function runRange(t: RangeTask, geo: Geo, buffers: BatchBuffers, nextBatch: () => number, post: (m: FromWorker, transfer?: ArrayBuffer[]) => void, waitCredit: () => Promise<void>): Promise<RangeDone> {
  const lineBase = await linesBefore(t.path, t.start);
  const encoder = new RowEncoder(geo);
  let read = 0;
  const parse = parseInput(rangeBytes(t.path, t.start, t.end, (n) => { read += n; }), { format: t.format, tz: t.tz, maxLineBytes: t.maxLineBytes, inputIndex: t.inputIndex });
  const rejectSample: Reject[] = [];
  let rejectsTotal = 0;
  let pending = buffers.next();
  let batch = -1;
  let queued = 0;
  const flush = async (): Promise<void> => {
    if (pending.rows === 0) return;
    const data = pending;
    buffers.sized(data.pos);
    pending = buffers.next();
    const n = batch;
    batch = -1;
    // A buffer this large has an ArrayBuffer of its own (never Buffer's shared pool).
    post({ type: 'batch', batch: n, rows: data.rows, bytes: data.buf.buffer as ArrayBuffer, length: data.pos }, [data.buf.buffer as ArrayBuffer]);
    queued++;
    while (queued >= MAX_QUEUED) {
      await waitCredit();
      queued--;
    }
  };
  for await (const chunk of parse.chunks) {
    rejectsTotal += chunk.rejects.length;
    for (const r of chunk.rejects) if (rejectSample.length < t.rejectSample) rejectSample.push({ ...r, line: r.line + lineBase, byteOffset: r.byteOffset + t.start });
    const b = chunk.records;
    if (b.length === 0) continue;
    for (let i = 0; i < b.length; i++) {
      b.line[i] = b.line[i]! + lineBase;
      b.byteOffset[i] = b.byteOffset[i]! + t.start;
    }
    if (batch < 0) batch = nextBatch();
    encoder.encode(b, t.inputName, `${t.loadId}\t${batch}\n`, pending);
    if (pending.rows >= t.batchRows) await flush();
  }
  await flush();
  return { parts: parse.result(), sizeBytes: read, rejectSample, rejectsTotal };
}

const port = parentPort;
if (port) {
  const data = workerData as LoadWorkerData;
  const counter = new Int32Array(data.batchCounter);
  const credits: (() => void)[] = [];
  let banked = 0;
  const waitCredit = (): Promise<void> => {
    if (banked > 0) {
      banked--;
      return Promise.resolve();
    }
    return new Promise((r) => credits.push(r));
  };
  let geo: Promise<Geo> | null = null;
  let buffers: BatchBuffers | null = null;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'exit') {
      void geo?.then((g) => g.close());
      port.close();
      return;
    }
    if (m.type === 'credit') {
      buffers?.release(Buffer.from(m.bytes));
      const r = credits.shift();
      if (r) r();
      else banked++;
      return;
    }
    geo ??= openGeo({ asnDb: data.asnDb, geoDb: data.geoDb });
    buffers ??= new BatchBuffers(m.task.batchRows);
    const b = buffers;
    geo.then((g) => runRange(m.task, g, b, () => Atomics.add(counter, 0, 1), (msg, transfer) => port.postMessage(msg, transfer ?? []), waitCredit))
      .then((done) => port.postMessage({ type: 'done', done } satisfies FromWorker), (error: unknown) => {
        const e = error as { message?: string; code?: string; context?: unknown; name?: string; stack?: string };
        port.postMessage({ type: 'error', error: { message: e?.message ?? String(error), code: e?.code, context: e?.context, name: e?.name, stack: e?.stack } } satisfies FromWorker);
      });
  });
}
