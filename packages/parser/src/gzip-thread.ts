/**
 * gzip inflated on a second thread while the main thread parses: one shared
 * worker (gzip-worker.ts) per process, started on the first gzip input and
 * kept (unref'd) for the next ones, one GzipDecoder per stream inside it.
 *
 * Decoded pieces come back through a ring of shared slots (gzip-ring.ts), not
 * messages: the worker inflates into a free slot and publishes it; `next` hands
 * out the slot's bytes (after applying the flag and note changes the worker
 * made before it, so flags, notes and every kept byte are exactly those of the
 * inline decoder); `release` frees the slot for the worker to fill again. A
 * piece that is not released before the next one is asked for is the caller's
 * to keep: its slot gets a new buffer (one `slot` message). When the ring is
 * empty the main thread waits with `Atomics.waitAsync`. Compressed chunks go
 * the other way as messages (at most `MAX_INFLIGHT_IN` queued, their buffers
 * coming back with `taken`): they are 8x smaller and few.
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
import { CTL_INTS, Ctl, MEMBERS_FINAL, RING_SLOTS, SLOT_BYTES, SLOT_FREE, ctlDeltas, ctlLen, waitAsync } from './gzip-ring.ts';
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

/** The worker allocates little; left to itself V8 grows its young generation to 16 MiB and more of resident memory. */
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
  if (typeof waitAsync !== 'function') return null; // a runtime without Atomics.waitAsync decodes inline
  const w = await sharedWorker();
  if (w === null) return null;
  const s = new GzipThreadStream(w, nextId++, report);
  if (open.size === 0) w.ref();
  open.set(s.id, s);
  s.start();
  return s;
}

export class GzipThreadStream {
  readonly id: number;
  /** Compressed chunks not yet taken by the worker's decoder. */
  inflight = 0;
  private readonly w: Worker;
  private readonly report: DecodeReport;
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL_INTS * 4));
  private readonly members = new Float64Array(new SharedArrayBuffer((RING_SLOTS + 1) * 8));
  private readonly slots: SharedArrayBuffer[] = [];
  /** A Buffer over each whole slot (handed out as is when the piece fills it). */
  private readonly views: Buffer[] = [];
  /** Pieces read from the ring. */
  private read = 0;
  /** Slot of the piece handed out last, until it is released; -1 when none is out. */
  private out = -1;
  /**
   * The caller keeps pieces (it did not release the last one it read): pieces
   * are handed out as copies and their slots freed at once, until it releases
   * one of those copies (`copyOut`).
   */
  private copying = false;
  private copyOut: ArrayBufferLike | null = null;
  /** Flag and note changes received from the worker (a few per stream: notes are capped per flag), and how many are applied. */
  private readonly deltas: ReportDelta[] = [];
  private deltasApplied = 0;
  /** The worker's error, thrown once the pieces published before it are read. */
  private failure: { at: number; error: Error } | null = null;
  private wake: (() => void) | null = null;
  private error: Error | null = null;
  private closed = false;
  /** Buffers back from the worker, for the next compressed chunks. */
  private readonly spare: ArrayBuffer[] = [];

  constructor(w: Worker, id: number, report: DecodeReport) {
    this.w = w;
    this.id = id;
    this.report = report;
    for (let i = 0; i < RING_SLOTS; i++) this.newSlot(i);
  }

  /** Opens the stream in the worker (its ring shared with it). */
  start(): void {
    this.post({ op: 'open', id: this.id, ctl: this.ctl.buffer as SharedArrayBuffer, members: this.members.buffer as SharedArrayBuffer, slots: this.slots });
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
   * Frees the slot of the piece handed out last, for the worker to fill again.
   * The caller must hold no view of it any more. Anything else is ignored.
   */
  release(piece: Uint8Array): void {
    if (piece.buffer === this.copyOut) {
      // the caller hands pieces back again: they come straight from the ring again
      this.copying = false;
      this.copyOut = null;
      return;
    }
    const slot = this.out;
    if (slot < 0 || piece.buffer !== this.slots[slot]) return;
    this.out = -1;
    this.free(slot);
  }

  private free(slot: number): void {
    if (this.closed) return;
    Atomics.store(this.ctl, Ctl.STATE + slot, SLOT_FREE);
    Atomics.add(this.ctl, Ctl.FREE_EVENT, 1);
    Atomics.notify(this.ctl, Ctl.FREE_EVENT);
  }

  end(): void {
    this.post({ op: 'end', id: this.id });
  }

  deliver(m: Item): void {
    if (m.kind === 'delta') this.deltas.push(m.delta);
    else if (m.kind === 'taken') {
      this.inflight--;
      if (m.buf !== null && this.spare.length < MAX_INFLIGHT_IN) this.spare.push(m.buf.buffer as ArrayBuffer);
    } else this.failure = { at: m.at, error: new AlfError(m.code as AlfErrorCode, m.message, m.context) };
    this.signal();
  }

  fail(e: Error): void {
    this.error = e;
    this.signal();
  }

  /**
   * The next decoded piece when it can be had without waiting (undefined
   * otherwise: call `next`), the report changes made before it applied. The
   * piece handed out before, unless released, stays the caller's (and the next
   * ones are copies, see `copying`).
   */
  poll(): Uint8Array | undefined {
    if (this.out >= 0) {
      // not released: the caller keeps it (and the worker may be waiting for this very slot)
      this.keep(this.out);
      this.copying = true;
    }
    if (this.error !== null) return undefined;
    const ctl = this.ctl;
    if (this.read >= Atomics.load(ctl, Ctl.WRITTEN)) return undefined;
    const slot = this.read % RING_SLOTS;
    if (!this.applyDeltas(ctl[ctlDeltas(slot)]!)) return undefined;
    this.read++;
    this.report.members = this.members[slot]!;
    const len = ctl[ctlLen(slot)]!;
    const view = this.views[slot]!;
    if (this.copying) {
      const copy = Buffer.allocUnsafeSlow(len);
      view.copy(copy, 0, 0, len);
      this.free(slot);
      this.copyOut = copy.buffer;
      return copy;
    }
    this.out = slot;
    return len === view.length ? view : view.subarray(0, len);
  }

  /**
   * The next decoded piece (as `poll`), waiting for it; null once the stream
   * is done. Reads the source through `feed` whenever the worker has room for
   * more input.
   */
  async next(feed: () => Promise<boolean>): Promise<Uint8Array | null> {
    const ctl = this.ctl;
    for (;;) {
      if (this.error !== null) throw this.error;
      const seen = Atomics.load(ctl, Ctl.EVENT);
      const piece = this.poll();
      if (piece !== undefined) return piece;
      if (this.read < Atomics.load(ctl, Ctl.WRITTEN)) {
        // a flag or note message the worker sent before this piece is still on its way
        await this.waitEvent(seen);
        continue;
      }
      if (this.failure !== null && this.read >= this.failure.at) {
        this.close();
        throw this.failure.error;
      }
      if (Atomics.load(ctl, Ctl.DONE) !== 0) {
        if (!this.applyDeltas(ctl[Ctl.FINAL_DELTAS]!)) {
          await this.waitEvent(seen);
          continue;
        }
        this.report.members = this.members[MEMBERS_FINAL]!;
        this.close();
        return null;
      }
      if (this.inflight < MAX_INFLIGHT_IN && (await feed())) continue;
      await this.waitEvent(seen);
    }
  }

  /** Stops the stream (early stop or end): the worker drops its decoder and stops waiting for slots. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    open.delete(this.id);
    Atomics.store(this.ctl, Ctl.CLOSED, 1);
    Atomics.add(this.ctl, Ctl.FREE_EVENT, 1);
    Atomics.notify(this.ctl, Ctl.FREE_EVENT);
    // this thread's own wait, if one is pending, ends too
    Atomics.notify(this.ctl, Ctl.EVENT);
    if (worker === this.w) {
      this.post({ op: 'close', id: this.id });
      if (open.size === 0) this.w.unref();
    }
  }

  /** Applies the worker's flag and note changes up to the `n`th; false when some have not arrived yet. */
  private applyDeltas(n: number): boolean {
    const r = this.report;
    while (this.deltasApplied < n) {
      const d = this.deltas[this.deltasApplied];
      if (d === undefined) return false;
      this.deltas[this.deltasApplied++] = undefined as unknown as ReportDelta;
      for (const f of d.flags) if (!r.flags.includes(f)) r.flags.push(f);
      for (const note of d.notes) r.notes.push(note);
    }
    return true;
  }

  /** The piece in `slot` stays the caller's: the slot gets a new buffer, the worker is told to fill that one. */
  private keep(slot: number): void {
    this.out = -1;
    if (this.closed || Atomics.load(this.ctl, Ctl.DONE) !== 0) return;
    this.newSlot(slot);
    this.post({ op: 'slot', id: this.id, index: slot, sab: this.slots[slot]! });
  }

  private newSlot(i: number): void {
    const sab = new SharedArrayBuffer(SLOT_BYTES);
    this.slots[i] = sab;
    this.views[i] = Buffer.from(sab);
  }

  /** Until the worker raises EVENT past `seen`, a message arrives or the stream fails. */
  private waitEvent(seen: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      const w = waitAsync(this.ctl, Ctl.EVENT, seen);
      if (w.async) void w.value.then(() => this.signal());
      else this.signal();
    });
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
