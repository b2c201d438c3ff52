/**
 * gzip inflated on a second thread while the main thread parses: one shared
 * worker (gzip-worker.ts) per process, started on the first gzip input and
 * kept (unref'd) for the next ones, one GzipDecoder per stream inside it. The
 * worker sends decoded pieces together with the report changes made before
 * each, so flags, notes and every kept byte are exactly those of the inline
 * decoder. Memory stays bounded both ways: at most `MAX_INFLIGHT_IN` compressed
 * chunks are queued for the worker, and the worker pauses a stream while
 * `MAX_OUTSTANDING` of its decoded pieces are unread. Buffers go round both
 * ways (`recycle` returns a decoded piece; a read compressed chunk comes back
 * with `taken`), so a long stream allocates nothing per piece.
 *
 * When no worker can be started (no tsx to load the worker's source, a
 * bundler without the worker file) `openGzipThread` answers null and the caller
 * decodes inline.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AlfError } from './errors.ts';
import type { AlfErrorCode } from './errors.ts';
import type { FromWorker, ReportDelta, ToWorker } from './gzip-worker.ts';
import type { DecodeReport } from './types.ts';

/** Compressed chunks sent to the worker and not yet taken by its decoder. */
const MAX_INFLIGHT_IN = 2;
/** Smallest buffer a compressed chunk is copied into (the CLI reads 256 KiB at a time). */
const INPUT_BUFFER_BYTES = 256 * 1024;

type Item = Exclude<FromWorker, { kind: 'ready' }>;

let worker: Worker | null = null;
let starting: Promise<Worker | null> | null = null;
let unavailable = false;
let nextId = 1;
const open = new Map<number, GzipThreadStream>();

/** URL of tsx's ESM register API, resolved from this file (import.meta.resolve where the runner has it). */
function tsxEsmApi(here: string): string {
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  if (typeof resolve === 'function') return resolve('tsx/esm/api');
  const pkg = createRequire(here).resolve('tsx/package.json');
  return pathToFileURL(join(dirname(pkg), 'dist/esm/api/index.mjs')).href;
}

/**
 * The worker allocates a few small objects per piece; left to itself V8 grows
 * its young generation to 16 MiB and more of resident memory for that.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2 };

interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles?: { text: string }[] }>;
}

/**
 * Running from source: the worker's modules bundled into one plain script by
 * the esbuild that tsx brings along (about 50 ms). A worker that registers tsx
 * itself instead took 15-20 MB more and 0.3-1 s longer to start. Null when
 * esbuild is not there or fails.
 */
async function bundleWorkerSource(here: string): Promise<string | null> {
  try {
    const fromTsx = createRequire(createRequire(here).resolve('tsx/package.json'));
    const esbuild = fromTsx('esbuild') as Esbuild;
    const out = await esbuild.build({
      entryPoints: [fileURLToPath(new URL('./gzip-worker.ts', here))],
      bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent',
    });
    return out.outputFiles?.[0]?.text ?? null;
  } catch {
    return null;
  }
}

async function startWorker(): Promise<Worker> {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./gzip-worker.js', here), { resourceLimits: WORKER_LIMITS });
  const bundled = await bundleWorkerSource(here);
  if (bundled !== null) return new Worker(bundled, { eval: true, resourceLimits: WORKER_LIMITS });
  // no esbuild: the worker registers tsx itself, then loads the worker module
  const tsx = tsxEsmApi(here);
  const entry = new URL('./gzip-worker.ts', here).href;
  const code = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, resourceLimits: WORKER_LIMITS });
}

function failAll(e: Error): void {
  for (const s of open.values()) s.fail(e);
  open.clear();
  worker = null;
}

/** The shared worker, started on first use; null when this process cannot start one. */
async function sharedWorker(): Promise<Worker | null> {
  if (worker !== null) return worker;
  if (unavailable) return null;
  starting ??= startWorker().then((w) => new Promise<Worker | null>((resolve) => {
    let ready = false;
    w.on('message', (m: FromWorker) => {
      if (m.kind === 'ready') {
        ready = true;
        worker = w;
        if (open.size === 0) w.unref();
        resolve(w);
        return;
      }
      open.get(m.id)?.deliver(m);
    });
    w.on('error', (e) => {
      if (!ready) {
        unavailable = true;
        resolve(null);
        return;
      }
      failAll(new AlfError('ALF_INTERNAL', `gzip inflate thread failed: ${e.message}`, {}, { cause: e }));
    });
    w.on('exit', (code) => {
      if (!ready) {
        unavailable = true;
        resolve(null);
      } else if (open.size > 0) failAll(new AlfError('ALF_INTERNAL', `gzip inflate thread exited (code ${code})`));
      worker = null;
    });
  }), () => {
    unavailable = true;
    return null;
  }).finally(() => {
    starting = null;
  });
  return starting;
}

/** Whether the shared inflate worker is up (tests check the threaded path really ran). */
export function inflateThreadRunning(): boolean {
  return worker !== null;
}

/** A gzip stream decoded by the shared worker; null when no worker can be started (decode inline then). */
export async function openGzipThread(report: DecodeReport): Promise<GzipThreadStream | null> {
  const w = await sharedWorker();
  if (w === null) return null;
  const s = new GzipThreadStream(w, nextId++, report);
  if (open.size === 0) w.ref();
  open.set(s.id, s);
  s.post({ op: 'open', id: s.id });
  return s;
}

export class GzipThreadStream {
  readonly id: number;
  /** Compressed chunks not yet taken by the worker's decoder. */
  inflight = 0;
  private readonly w: Worker;
  private readonly report: DecodeReport;
  private readonly items: Item[] = [];
  private head = 0;
  private wake: (() => void) | null = null;
  private error: Error | null = null;
  private closed = false;
  /** Buffers back from the worker, for the next compressed chunks. */
  private readonly spare: ArrayBuffer[] = [];

  constructor(w: Worker, id: number, report: DecodeReport) {
    this.w = w;
    this.id = id;
    this.report = report;
  }

  post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.w.postMessage(m, transfer);
  }

  /** Sends a copy of a compressed chunk (the caller's bytes are never detached). */
  write(chunk: Uint8Array): void {
    let ab = this.spare.pop();
    if (ab === undefined || ab.byteLength < chunk.length) ab = new ArrayBuffer(Math.max(chunk.length, INPUT_BUFFER_BYTES));
    const copy = new Uint8Array(ab, 0, chunk.length);
    copy.set(chunk);
    this.inflight++;
    this.post({ op: 'data', id: this.id, buf: copy }, [ab]);
  }

  /**
   * Hands a decoded piece back to the worker to be filled again. The caller
   * must hold no view of it any more: its memory leaves this thread.
   */
  recycle(piece: Uint8Array): void {
    if (this.closed || worker !== this.w) return;
    const ab = piece.buffer as ArrayBuffer;
    this.post({ op: 'recycle', id: this.id, buf: new Uint8Array(ab) }, [ab]);
  }

  end(): void {
    this.post({ op: 'end', id: this.id });
  }

  deliver(m: Item): void {
    this.items.push(m);
    this.signal();
  }

  fail(e: Error): void {
    this.error = e;
    this.signal();
  }

  /**
   * The next message from the worker, its report changes applied: a decoded
   * piece (credit returned), or null once the stream is done. Reads the source
   * through `feed` whenever the worker has room for more input.
   */
  async next(feed: () => Promise<boolean>): Promise<Uint8Array | null> {
    for (;;) {
      if (this.error !== null) throw this.error;
      if (this.head < this.items.length) {
        const m = this.items[this.head] as Item;
        this.items[this.head++] = undefined as unknown as Item;
        if (this.head > 1024) {
          this.items.splice(0, this.head);
          this.head = 0;
        }
        if (m.kind === 'error') {
          this.close();
          throw new AlfError(m.code as AlfErrorCode, m.message, m.context);
        }
        this.apply(m.delta);
        if (m.kind === 'out') {
          this.post({ op: 'credit', id: this.id });
          return m.buf;
        }
        if (m.kind === 'taken') {
          this.inflight--;
          if (m.buf !== null && this.spare.length < MAX_INFLIGHT_IN) this.spare.push(m.buf.buffer as ArrayBuffer);
          continue;
        }
        this.close();
        return null;
      }
      if (this.inflight < MAX_INFLIGHT_IN && (await feed())) continue;
      if (this.head < this.items.length || this.error !== null) continue;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Stops the stream (early stop or end): the worker drops its decoder. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    open.delete(this.id);
    if (worker === this.w) {
      this.post({ op: 'close', id: this.id });
      if (open.size === 0) this.w.unref();
    }
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private apply(d: ReportDelta | null): void {
    if (d === null) return;
    const r = this.report;
    r.members = d.members;
    for (const f of d.flags) if (!r.flags.includes(f)) r.flags.push(f);
    for (const n of d.notes) r.notes.push(n);
  }
}
