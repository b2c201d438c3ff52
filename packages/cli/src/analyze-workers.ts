/**
 * A small pool for `alf analyze` (`--workers N`): N - 1 worker threads running
 * analyze-worker.ts, plus the main thread itself (its tasks run between the
 * main thread's other work: hashing, merging), each taking one task at a
 * time; results come back in task order whatever order they finish in. (A
 * parsing thread costs ~130 MB of heap and buffers: N parsing threads, not
 * N + 1, keep the peak RSS down.) The worker entry is the sibling
 * `analyze-worker.ts` when running from source (started with tsx and the
 * `alf-source` condition, as in development and tests) or `analyze-worker.js`
 * in the built `dist/`.
 *
 * A worker that finishes a pass-2 or records task with no task queued exits:
 * what follows (merging pass 2, finishing the analysis, writing the pack) runs
 * on the main thread, and an idle worker would hold its heap and the garbage
 * of its last task (100-300 MB, not collected while it sleeps) through the
 * run's peak. A later `run` starts workers again (about 0.3 s each built, 1-2 s
 * of tsx from source): pass 1 and the pass-2 tasks of a second pass keep theirs.
 */
import { Worker } from 'node:worker_threads';
import { AlfError } from '@alf/parser';
import type { AlfErrorCode } from '@alf/parser';
import { runTask } from './analyze-task.ts';
import type { AnalyzeTask, AnalyzeTaskResult, TaskInline } from './analyze-task.ts';
import { workerEntry } from './worker-entry.ts';

interface Job {
  readonly id: number;
  readonly task: AnalyzeTask;
  resolve(r: AnalyzeTaskResult): void;
  reject(e: unknown): void;
}

interface ErrorMessage {
  readonly message: string;
  readonly code?: string;
  readonly context?: Record<string, unknown>;
  readonly name?: string;
  readonly stack?: string;
}

export interface WorkerPool {
  /**
   * Runs the tasks (at most `size` at once); results in the order of `tasks`. `each` sees every
   * result as soon as it arrives (e.g. to fold it and keep a slimmer one): what it returns is the result kept.
   */
  run(tasks: readonly AnalyzeTask[], each?: (index: number, r: AnalyzeTaskResult) => AnalyzeTaskResult): Promise<AnalyzeTaskResult[]>;
  /** Pass-2 tasks run on the main thread fold into these (undefined: into their own, returned as snapshots). */
  setInline(into: TaskInline | undefined): void;
  /** A change to each task as it is handed to a thread (not when queued), e.g. state reached meanwhile; undefined: none. */
  setPrepare(prepare: ((task: AnalyzeTask) => AnalyzeTask) | undefined): void;
  close(): Promise<void>;
}


function toError(e: ErrorMessage): Error {
  const error = e.code?.startsWith('ALF_')
    ? new AlfError(e.code as AlfErrorCode, e.message, e.context ?? {})
    : Object.assign(new Error(e.message), { name: e.name ?? 'Error' });
  if (e.stack) error.stack = e.stack;
  return error;
}

/** Task kinds after which an idle worker exits (see the module comment). */
const RELEASE_AFTER: ReadonlySet<AnalyzeTask['kind']> = new Set(['pass2', 'records']);

/** Starts `size - 1` workers; `onProgress` gets the lines parsed as they go; `signal` stops every task. */
/** Young generation of an analyze worker (MB). */
const WORKER_YOUNG_GENERATION_MB = 16;

export function createWorkerPool(size: number, onProgress: (lines: number) => void, signal?: AbortSignal): WorkerPool {
  let inline: TaskInline | undefined;
  let prepare: ((task: AnalyzeTask) => AnalyzeTask) | undefined;
  const entry = workerEntry('./analyze-worker');
  const workers = new Set<Worker>();
  const idle: (Worker | 'main')[] = ['main'];
  const queue: Job[] = [];
  const running = new Map<Worker | 'main', Job>();
  let nextId = 1;
  let failed: unknown = null;
  let closed = false;

  const pump = (): void => {
    // Workers that exited after an earlier pass come back for queued tasks.
    while (!closed && failed === null && workers.size < size - 1 && queue.length > idle.length) spawn();
    while (idle.length > 0 && queue.length > 0) {
      const w = idle.pop()!;
      const job = queue.shift()!;
      running.set(w, job);
      const task = prepare ? prepare(job.task) : job.task;
      if (w !== 'main') {
        w.postMessage({ id: job.id, task });
        continue;
      }
      // A copy, as a worker would get: the task must not share state with the caller's.
      const own = task.kind === 'pass2' ? inline : undefined;
      runTask(structuredClone(task), onProgress, () => signal?.aborted === true, own).then((result) => {
        if (running.get('main') !== job) return;
        running.delete('main');
        idle.push('main');
        job.resolve(result);
        pump();
      }, (error: unknown) => {
        if (running.get('main') !== job) return;
        running.delete('main');
        idle.push('main');
        job.reject(error);
        pump();
      });
    }
  };
  const fail = (e: unknown): void => {
    failed ??= e;
    for (const job of [...running.values(), ...queue.splice(0)]) job.reject(failed);
    running.clear();
  };
  /** Lets an idle worker go: its thread, heap and buffers are freed. */
  const release = (w: Worker): void => {
    workers.delete(w);
    const at = idle.indexOf(w);
    if (at >= 0) idle.splice(at, 1);
    void w.terminate();
  };

  function spawn(): void {
    // A young generation of 16 MB instead of V8's default (up to 48): 1M-line bench 401-415 -> 366-393 MB peak at 8 MB, CPU the same
    // (3 runs each). Per-task profiles (ALF_WORKER_PROF, 5M lines, 2 runs each) then showed scavenges at 11% of a worker's time
    // with 8 MB, 8% with 16 MB (9% with 32); 15M lines with 10M distinct IPs peaked 9 MB higher (449 against 440 MB).
    const w = new Worker(entry.entry, { eval: entry.eval, execArgv: entry.execArgv, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    w.on('message', (m: { id: number; progress?: number; result?: AnalyzeTaskResult; error?: ErrorMessage }) => {
      if (m.progress !== undefined) {
        onProgress(m.progress);
        return;
      }
      const job = running.get(w);
      if (!job || job.id !== m.id) return;
      running.delete(w);
      idle.push(w);
      if (queue.length === 0 && RELEASE_AFTER.has(job.task.kind)) release(w);
      if (m.error) job.reject(toError(m.error));
      else job.resolve(m.result!);
      pump();
    });
    w.on('error', fail);
    w.on('exit', (code) => {
      if (running.has(w)) fail(new Error(`an analyze worker stopped (exit code ${code})`));
    });
    workers.add(w);
    idle.push(w);
  }

  for (let i = 1; i < size; i++) spawn();

  // SIGINT/SIGTERM: every task pending or running fails with the signal (the caller marks the pack interrupted).
  signal?.addEventListener('abort', () => fail(signal.reason), { once: true });

  return {
    setInline(into) {
      inline = into;
    },
    setPrepare(p) {
      prepare = p;
    },
    run(tasks, each) {
      if (failed) return Promise.reject(failed);
      const all = tasks.map((task, i) => {
        const done = new Promise<AnalyzeTaskResult>((resolve, reject) => {
          queue.push({ id: nextId++, task, resolve, reject });
        });
        return each ? done.then((r) => each(i, r)) : done;
      });
      pump();
      return Promise.all(all);
    },
    async close() {
      closed = true;
      await Promise.all([...workers].map((w) => w.terminate()));
    },
  };
}
