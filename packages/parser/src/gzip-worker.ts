/**
 * Worker side of the gzip inflate thread (see gzip-thread.ts): runs the same
 * GzipDecoder as the inline path, one per stream, and sends each decoded piece
 * with the report changes (members, flags, notes) made before it, so the main
 * thread applies them in the same order as the inline decoder would. A stream
 * stops decoding while `MAX_OUTSTANDING` of its pieces are unread by the main
 * thread (bounded memory, even for a gzip bomb), and resumes on credit.
 *
 * Buffers go round instead of being allocated per piece: the main thread hands
 * a decoded piece back (`recycle`) once its framing kept nothing of it, and the
 * decoder fills it again; each compressed chunk goes back with its `taken`
 * message for the main thread to copy the next chunk into. So a 1 GiB line or
 * a gzip bomb moves gigabytes through the same few buffers.
 */
import { parentPort } from 'node:worker_threads';
import { isAlfError } from './errors.ts';
import { GzipDecoder } from './gzip-decoder.ts';
import type { DecodeReport } from './types.ts';

/** Main → worker. */
export type ToWorker =
  | { readonly op: 'open'; readonly id: number }
  | { readonly op: 'data'; readonly id: number; readonly buf: Uint8Array }
  | { readonly op: 'end'; readonly id: number }
  | { readonly op: 'credit'; readonly id: number }
  | { readonly op: 'recycle'; readonly id: number; readonly buf: Uint8Array }
  | { readonly op: 'close'; readonly id: number };

/** Report changes since the last message of the stream. */
export interface ReportDelta {
  readonly members: number;
  readonly flags: readonly DecodeReport['flags'][number][];
  readonly notes: readonly string[];
}

/** Worker → main. */
export type FromWorker =
  | { readonly kind: 'ready' }
  | { readonly kind: 'out'; readonly id: number; readonly buf: Uint8Array; readonly delta: ReportDelta | null }
  | { readonly kind: 'taken'; readonly id: number; readonly delta: ReportDelta | null; readonly buf: Uint8Array | null }
  | { readonly kind: 'done'; readonly id: number; readonly delta: ReportDelta | null }
  | { readonly kind: 'error'; readonly id: number; readonly code: string; readonly message: string; readonly context: Record<string, unknown> };

/** Decoded pieces (256 KiB each) a stream may have in flight before it pauses: 1 MiB, and the main thread never waits. */
export const MAX_OUTSTANDING = 4;

interface Stream {
  readonly id: number;
  readonly report: DecodeReport;
  decoder: GzipDecoder | null;
  readonly queue: (Uint8Array | null)[];
  /** The write() or end() generator being run, whether it is end(), and the chunk it reads. */
  gen: Generator<Buffer, void, undefined> | null;
  genIsEnd: boolean;
  genInput: Uint8Array | null;
  outstanding: number;
  flagsSent: number;
  notesSent: number;
  membersSent: number;
  failed: boolean;
}

const streams = new Map<number, Stream>();
const port = parentPort;

function delta(s: Stream): ReportDelta | null {
  const r = s.report;
  if (r.members === s.membersSent && r.flags.length === s.flagsSent && r.notes.length === s.notesSent) return null;
  const d: ReportDelta = { members: r.members, flags: r.flags.slice(s.flagsSent), notes: r.notes.slice(s.notesSent) };
  s.membersSent = r.members;
  s.flagsSent = r.flags.length;
  s.notesSent = r.notes.length;
  return d;
}

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(msg, transfer);
}

function fail(s: Stream, e: unknown): void {
  s.failed = true;
  s.gen = null;
  s.queue.length = 0;
  s.decoder?.close();
  const code = isAlfError(e) ? e.code : 'ALF_INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  const context = isAlfError(e) ? (e.context as Record<string, unknown>) : {};
  send({ kind: 'error', id: s.id, code, message, context });
}

/** Runs stream s until it pauses (credit), waits for input, or ends. */
function pump(s: Stream): void {
  try {
    while (!s.failed && s.outstanding < MAX_OUTSTANDING) {
      if (s.gen === null) {
        if (s.queue.length === 0) return;
        const next = s.queue.shift() as Uint8Array | null;
        s.decoder ??= new GzipDecoder(s.report);
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
          send({ kind: 'done', id: s.id, delta: delta(s) });
          streams.delete(s.id);
          return;
        }
        // the decoder keeps nothing of a chunk it has read: the buffer goes back for the next one
        const input = s.genInput;
        s.genInput = null;
        const whole = input !== null && input.byteOffset === 0;
        send({ kind: 'taken', id: s.id, delta: delta(s), buf: whole ? input : null }, whole ? [input.buffer as ArrayBuffer] : []);
        continue;
      }
      const piece = step.value;
      s.outstanding++;
      // a decoded buffer is never written again by the decoder: its memory moves to the main thread
      const own = piece.byteLength >= 64 * 1024 && piece.buffer.byteLength === piece.byteOffset + piece.byteLength;
      const buf = own ? new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength) : Uint8Array.from(piece);
      send({ kind: 'out', id: s.id, buf, delta: delta(s) }, [buf.buffer as ArrayBuffer]);
    }
  } catch (e) {
    fail(s, e);
  }
}

port?.on('message', (m: ToWorker) => {
  if (m.op === 'open') {
    streams.set(m.id, {
      id: m.id, report: { compression: 'gzip', members: 0, bytesIn: 0, bytesOut: 0, flags: [], notes: [] },
      decoder: null, queue: [], gen: null, genIsEnd: false, genInput: null, outstanding: 0, flagsSent: 0, notesSent: 0, membersSent: 0, failed: false,
    });
    return;
  }
  const s = streams.get(m.id);
  if (s === undefined) return;
  if (m.op === 'close') {
    s.gen = null;
    s.decoder?.close();
    streams.delete(m.id);
    return;
  }
  if (m.op === 'recycle') {
    s.decoder?.recycle(m.buf);
    return;
  }
  if (m.op === 'data') s.queue.push(m.buf);
  else if (m.op === 'end') s.queue.push(null);
  else s.outstanding--;
  pump(s);
});

send({ kind: 'ready' });
