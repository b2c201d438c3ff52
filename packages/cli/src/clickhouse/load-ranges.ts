/**
 * `alf load clickhouse --workers N` (N > 1): a large plain file is cut into byte
 * ranges (analyze-ranges.ts, as `alf analyze` cuts it) and each range is parsed
 * and encoded by a worker thread (load-worker.ts); the main thread meanwhile
 * hashes the file (SHA-256 of the whole file, as a sequential read gives it)
 * and inserts the batches as they come. The rows are the rows of a sequential
 * read: line numbers and byte offsets are the whole file's, the format of every
 * range is the one detected from the file's head (the first range detects it
 * again as a sequential read does; a disagreement fails the load).
 *
 * The worker entry is the sibling `load-worker.ts` from source (tsx, the
 * `alf-source` condition) or `load-worker.js` in the built `dist/`.
 */
import { Worker } from 'node:worker_threads';
import { AlfError } from '@alf/parser';
import type { Accounting, AlfErrorCode, DecodeReport, Reject } from '@alf/parser';
import { addAccounting, hashFile } from '../analyze-parallel.ts';
import { workerEntry } from '../worker-entry.ts';
import type { InputPlan } from '../analyze-parallel.ts';
import type { InputResultParts } from '../parse-input.ts';
import type { FromWorker, LoadWorkerData, RangeDone, RangeTask, ToWorker } from './load-worker.ts';
import { TsvBuffer } from './tsv-rows.ts';


function toError(e: Extract<FromWorker, { type: 'error' }>['error']): Error {
  const error = e.code?.startsWith('ALF_')
    ? new AlfError(e.code as AlfErrorCode, e.message, (e.context ?? {}) as Record<string, unknown>)
    : Object.assign(new Error(e.message), { name: e.name ?? 'Error' });
  if (e.stack) error.stack = e.stack;
  return error;
}

/** One input read in ranges, as one sequential read would report it. */
export interface RangedRead {
  readonly parts: InputResultParts;
  readonly sizeBytes: number;
  readonly sha256: string;
  /** False when the file's size changed while it was read (then flagged `changed`). */
  readonly sizeStable: boolean;
  readonly rejectSample: Reject[];
  readonly rejectsTotal: number;
}

export interface LoadPool {
  /**
   * Parses and encodes the ranges of `plan` on the workers, handing each batch to
   * `send` (which resolves when the batch is inserted); resolves when every range is read.
   */
  loadInput(plan: InputPlan, task: Omit<RangeTask, 'path' | 'start' | 'end' | 'format'>, firstFormat: string | undefined): Promise<RangedRead>;
  /** Ends the workers (idempotent). */
  close(): Promise<void>;
}


/** The ranges' results as one read (decode flags and notes of every range kept). */
function merge(done: readonly RangeDone[], rangeFormat: string | undefined, path: string): Omit<RangedRead, 'sha256' | 'sizeBytes' | 'sizeStable'> {
  const first = done[0]!;
  const f = first.parts.format;
  if (f && f.detected && f.id !== rangeFormat) {
    throw new AlfError('ALF_INPUT_UNREADABLE', `${path}: the format detected at the start of the file (${f.id}) differs from the one detected from its head (${String(rangeFormat)}); load it with --workers 1 or --format`);
  }
  const accounting: Accounting = { ...first.parts.accounting, byReason: { ...first.parts.accounting.byReason } };
  const d0 = first.parts.decode;
  const decode: DecodeReport | undefined = d0 ? { ...d0, flags: [...d0.flags], notes: [...d0.notes] } : undefined;
  const rejectSample = [...first.rejectSample];
  let rejectsTotal = first.rejectsTotal;
  for (const r of done.slice(1)) {
    addAccounting(accounting, r.parts.accounting);
    const d = r.parts.decode;
    if (decode && d) {
      decode.bytesIn += d.bytesIn;
      decode.bytesOut += d.bytesOut;
      for (const flag of d.flags) if (!decode.flags.includes(flag)) decode.flags.push(flag);
      decode.notes.push(...d.notes);
    }
    rejectSample.push(...r.rejectSample);
    rejectsTotal += r.rejectsTotal;
  }
  return { parts: { ...first.parts, accounting, decode }, rejectSample, rejectsTotal };
}

/** Starts `size` workers; `send` inserts one batch (its promise settles when the insert has). */
export function createLoadPool(size: number, data: LoadWorkerData, send: (batch: number, data: TsvBuffer) => Promise<void>): LoadPool {
  const entry = workerEntry('./clickhouse/load-worker');
  const workers: Worker[] = [];
  let closing: Promise<void> | undefined;
  for (let i = 0; i < size; i++) {
    const w = new Worker(entry.entry, { eval: entry.eval, execArgv: entry.execArgv, workerData: data });
    w.unref();
    workers.push(w);
  }
  return {
    async loadInput(plan, task, firstFormat) {
      const ranges = plan.ranges ?? [];
      if (ranges.length > workers.length) throw new AlfError('ALF_INTERNAL', `${ranges.length} ranges for ${workers.length} workers`);
      const hashed = hashFile(plan.path);
      const runs = ranges.map((range, r) => new Promise<RangeDone>((resolveP, reject) => {
        const w = workers[r]!;
        const credit = (bytes: ArrayBuffer): void => w.postMessage({ type: 'credit', bytes } satisfies ToWorker, [bytes]);
        const onMessage = (m: FromWorker): void => {
          if (m.type === 'batch') {
            send(m.batch, TsvBuffer.of(m.bytes, m.length, m.rows)).then(() => credit(m.bytes), () => undefined);
          } else {
            w.off('message', onMessage);
            w.off('error', onError);
            w.off('exit', onExit);
            if (m.type === 'done') resolveP(m.done);
            else reject(toError(m.error));
          }
        };
        const onError = (e: Error): void => {
          w.off('message', onMessage);
          w.off('exit', onExit);
          reject(e);
        };
        // Stopped by close() (an insert failed for good): the caller reports that failure.
        const onExit = (): void => {
          w.off('message', onMessage);
          w.off('error', onError);
          reject(new AlfError('ALF_INTERNAL', 'a load worker stopped before the end of its range'));
        };
        w.on('message', onMessage);
        w.once('error', onError);
        w.once('exit', onExit);
        const t: RangeTask = { ...task, path: plan.path, start: range.start, end: range.end, format: r === 0 ? firstFormat : plan.rangeFormat };
        w.postMessage({ type: 'task', task: t } satisfies ToWorker);
      }));
      const done = await Promise.all(runs);
      const h = await hashed;
      const read = done.reduce((a, d) => a + d.sizeBytes, 0);
      return { ...merge(done, plan.rangeFormat, plan.path), sizeBytes: h.sizeBytes, sha256: h.sha256, sizeStable: h.sizeStable && read === h.sizeBytes };
    },
    close() {
      // Idle workers end on their own (their port closed); one still parsing (an insert failed) is stopped.
      closing ??= Promise.all(workers.map(async (w) => {
        const exited = new Promise((r) => w.once('exit', r));
        w.postMessage({ type: 'exit' } satisfies ToWorker);
        const timer = setTimeout(() => void w.terminate(), 2000);
        await exited;
        clearTimeout(timer);
      })).then(() => undefined);
      return closing;
    },
  };
}
