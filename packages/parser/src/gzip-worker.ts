/**
 * Worker side of the gzip inflate thread (see gzip-thread.ts): runs the same
 * GzipDecoder as the inline path, one per stream, and inflates straight into
 * the slots of the stream's ring (SharedArrayBuffers made by the main thread).
 * A slot is filled only while its state is FREE; once full it is published
 * (state FILLED, its length, the member count, how many report messages came
 * before it; then WRITTEN is raised and EVENT notified), and it is the main
 * thread that sets it FREE again. When the next slot is not free the stream
 * waits (`Atomics.waitAsync` on FREE_EVENT), so the worker's event loop keeps
 * running: other streams, and a close, are never held up by a full ring.
 *
 * Messages are left only for what is rare or small: compressed chunks in
 * (`data`, handed back with `taken` to be filled again), flag and note changes
 * (`delta`, counted so the main thread applies them before the right piece), a
 * slot the main thread kept (`slot`: a new buffer in its place), the end and
 * errors. So a 1 GiB line or a gzip bomb moves through the same few slots with
 * no message and no allocation per piece.
 */
import { parentPort } from 'node:worker_threads';
import { isAlfError } from './errors.ts';
import { GzipDecoder } from './gzip-decoder.ts';
import { Ctl, MEMBERS_FINAL, RING_SLOTS, SLOT_BYTES, SLOT_FILLED, SLOT_FREE, ctlDeltas, ctlLen, waitAsync } from './gzip-ring.ts';
import type { DecodeReport } from './types.ts';

/** Main → worker. */
export type ToWorker =
  | { readonly op: 'open'; readonly id: number; readonly ctl: SharedArrayBuffer; readonly members: SharedArrayBuffer; readonly slots: readonly SharedArrayBuffer[] }
  | { readonly op: 'data'; readonly id: number; readonly buf: Uint8Array }
  | { readonly op: 'end'; readonly id: number }
  | { readonly op: 'slot'; readonly id: number; readonly index: number; readonly sab: SharedArrayBuffer }
  | { readonly op: 'close'; readonly id: number };

/** Flag and note changes since the last `delta` message of the stream. */
export interface ReportDelta {
  readonly flags: readonly DecodeReport['flags'][number][];
  readonly notes: readonly string[];
}

/** Worker → main. */
export type FromWorker =
  | { readonly kind: 'ready' }
  | { readonly kind: 'delta'; readonly id: number; readonly delta: ReportDelta }
  | { readonly kind: 'taken'; readonly id: number; readonly buf: Uint8Array | null }
  | { readonly kind: 'error'; readonly id: number; readonly at: number; readonly code: string; readonly message: string; readonly context: Record<string, unknown> };

interface Stream {
  readonly id: number;
  readonly report: DecodeReport;
  readonly ctl: Int32Array;
  readonly members: Float64Array;
  readonly slots: Buffer[];
  decoder: GzipDecoder | null;
  readonly queue: (Uint8Array | null)[];
  /** The write() or end() generator being run, whether it is end(), and the chunk it reads. */
  gen: Generator<Buffer, void, undefined> | null;
  genIsEnd: boolean;
  genInput: Uint8Array | null;
  /** Pieces published. */
  written: number;
  /** `delta` messages sent. */
  deltas: number;
  flagsSent: number;
  notesSent: number;
  /** Waiting for a slot to be freed. */
  waiting: boolean;
  /** Pieces published since the main thread was last woken. */
  unraised: boolean;
  failed: boolean;
}

const streams = new Map<number, Stream>();
const port = parentPort;

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(msg, transfer);
}

/** Sends the flag and note changes made since the last ones sent, if any. */
function flushDelta(s: Stream): void {
  const r = s.report;
  if (r.flags.length === s.flagsSent && r.notes.length === s.notesSent) return;
  send({ kind: 'delta', id: s.id, delta: { flags: r.flags.slice(s.flagsSent), notes: r.notes.slice(s.notesSent) } });
  s.flagsSent = r.flags.length;
  s.notesSent = r.notes.length;
  s.deltas++;
}

/**
 * Wakes the main thread. Pieces are announced in batches: when the ring is
 * full, the input runs out, the end or an error, not one by one (a main thread
 * that reads faster than this thread inflates would otherwise wake, and
 * allocate a wait, per piece). It sees pieces as they come whenever it looks.
 */
function raise(s: Stream): void {
  s.unraised = false;
  Atomics.add(s.ctl, Ctl.EVENT, 1);
  Atomics.notify(s.ctl, Ctl.EVENT);
}

function drop(s: Stream): void {
  s.gen = null;
  s.queue.length = 0;
  s.decoder?.close();
  streams.delete(s.id);
}

function fail(s: Stream, e: unknown): void {
  s.failed = true;
  flushDelta(s);
  const code = isAlfError(e) ? e.code : 'ALF_INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  const context = isAlfError(e) ? (e.context as Record<string, unknown>) : {};
  send({ kind: 'error', id: s.id, at: s.written, code, message, context });
  drop(s);
  raise(s);
}

/** Makes piece `piece` (the start of slot written % RING_SLOTS) the main thread's. */
function publish(s: Stream, piece: Buffer): void {
  const slot = s.written % RING_SLOTS;
  if (piece.buffer !== s.slots[slot]!.buffer || piece.byteOffset !== 0) throw new Error('gzip inflate thread: a decoded piece is not its ring slot');
  flushDelta(s);
  const ctl = s.ctl;
  ctl[ctlLen(slot)] = piece.length;
  ctl[ctlDeltas(slot)] = s.deltas;
  s.members[slot] = s.report.members;
  Atomics.store(ctl, Ctl.STATE + slot, SLOT_FILLED);
  Atomics.store(ctl, Ctl.WRITTEN, ++s.written);
  s.unraised = true;
}

/** Waits (without blocking the thread) until the main thread frees a slot or closes, then pumps again. */
function waitForSlot(s: Stream, seen: number): void {
  if (s.waiting) return;
  s.waiting = true;
  const w = waitAsync(s.ctl, Ctl.FREE_EVENT, seen);
  const again = (): void => {
    s.waiting = false;
    pump(s);
  };
  if (w.async) void w.value.then(again);
  else again();
}

/** Runs stream s until the ring is full, it waits for input, or it ends. */
function pump(s: Stream): void {
  if (streams.get(s.id) !== s) return;
  const ctl = s.ctl;
  try {
    while (!s.failed) {
      if (Atomics.load(ctl, Ctl.CLOSED) !== 0) {
        drop(s);
        return;
      }
      // the slot the decoder fills next must be free (the one it is filling is)
      const seen = Atomics.load(ctl, Ctl.FREE_EVENT);
      if (Atomics.load(ctl, Ctl.STATE + (s.written % RING_SLOTS)) !== SLOT_FREE) {
        if (s.unraised) raise(s);
        waitForSlot(s, seen);
        return;
      }
      if (s.gen === null) {
        if (s.queue.length === 0) {
          if (s.unraised) raise(s);
          return;
        }
        const next = s.queue.shift() as Uint8Array | null;
        s.decoder ??= new GzipDecoder(s.report, { outBytes: SLOT_BYTES, acquire: () => s.slots[s.written % RING_SLOTS]! });
        s.genInput = next;
        if (next === null) {
          s.gen = s.decoder.end();
          s.genIsEnd = true;
        } else {
          s.gen = s.decoder.write(Buffer.from(next.buffer, next.byteOffset, next.byteLength));
          s.genIsEnd = false;
        }
      }
      const step = s.gen.next();
      if (step.done === true) {
        s.gen = null;
        if (s.genIsEnd) {
          flushDelta(s);
          s.members[MEMBERS_FINAL] = s.report.members;
          ctl[Ctl.FINAL_DELTAS] = s.deltas;
          Atomics.store(ctl, Ctl.DONE, 1);
          streams.delete(s.id);
          raise(s);
          return;
        }
        // the decoder keeps nothing of a chunk it has read: the buffer goes back for the next one
        const input = s.genInput;
        s.genInput = null;
        const whole = input !== null && input.byteOffset === 0;
        send({ kind: 'taken', id: s.id, buf: whole ? input : null }, whole ? [input.buffer as ArrayBuffer] : []);
        continue;
      }
      publish(s, step.value);
    }
  } catch (e) {
    fail(s, e);
  }
}

port?.on('message', (m: ToWorker) => {
  if (m.op === 'open') {
    streams.set(m.id, {
      id: m.id, report: { compression: 'gzip', members: 0, bytesIn: 0, bytesOut: 0, flags: [], notes: [] },
      ctl: new Int32Array(m.ctl), members: new Float64Array(m.members), slots: m.slots.map((sab) => Buffer.from(sab)),
      decoder: null, queue: [], gen: null, genIsEnd: false, genInput: null, written: 0, deltas: 0, flagsSent: 0, notesSent: 0,
      waiting: false, unraised: false, failed: false,
    });
    return;
  }
  const s = streams.get(m.id);
  if (s === undefined) return;
  if (m.op === 'close') {
    drop(s);
    return;
  }
  if (m.op === 'slot') {
    // the main thread kept the piece in this slot: fill a new buffer in its place
    s.slots[m.index] = Buffer.from(m.sab);
    Atomics.store(s.ctl, Ctl.STATE + m.index, SLOT_FREE);
  } else if (m.op === 'data') s.queue.push(m.buf);
  else s.queue.push(null);
  pump(s);
});

send({ kind: 'ready' });
