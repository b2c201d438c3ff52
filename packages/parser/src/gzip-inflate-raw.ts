/**
 * A raw-deflate inflater driven synchronously, call by call, so the caller
 * knows exactly how many input bytes each call consumed and how many output
 * bytes it produced. That is what a gzip reader needs to find the end of a
 * member (its trailer, then the next member or garbage) and to keep every byte
 * decoded before damage.
 *
 * Node has no public incremental sync inflate API: the stock streams run on
 * the thread pool, and on a truncated or corrupt input drop the output of the
 * last call (the "last chunk lost" bug). So this wraps the native handle of a
 * `zlib.InflateRaw` (`_handle.writeSync`, `_writeState`), the same machinery
 * `zlib.inflateRawSync` runs on. The internals are checked once at
 * construction; if a future Node changes them this throws ALF_INTERNAL instead
 * of misbehaving.
 */
import zlib from 'node:zlib';
import { AlfError } from './errors.ts';

interface NativeZlibHandle {
  writeSync(
    flush: number, input: Uint8Array, inOff: number, inLen: number,
    out: Uint8Array, outOff: number, outLen: number,
  ): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

interface InflateRawInternals {
  _handle?: NativeZlibHandle | null;
  _writeState?: Uint32Array;
}

const Z_SYNC_FLUSH = zlib.constants.Z_SYNC_FLUSH;

export class RawInflater {
  /** Input bytes consumed by the last `inflate` call. */
  consumed = 0;
  /** Output bytes produced by the last `inflate` call. */
  produced = 0;
  /** zlib's message when the last call hit corrupt deflate data (its output is lost). */
  error: string | null = null;

  private readonly stream: zlib.InflateRaw;
  private readonly handle: NativeZlibHandle;
  private readonly state: Uint32Array;
  private closed = false;

  constructor() {
    this.stream = zlib.createInflateRaw();
    const internals = this.stream as unknown as InflateRawInternals;
    const handle = internals._handle;
    const state = internals._writeState;
    if (!handle || typeof handle.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
      throw new AlfError('ALF_INTERNAL', `this Node.js (${process.version}) has no zlib handle alf can drive; gzip input cannot be read`, {
        nodeVersion: process.version,
      });
    }
    this.handle = handle;
    this.state = state;
    // The stock handler destroys the stream (and closes the handle) on the first
    // data error; a later write would then abort the process. Record instead.
    handle.onerror = (message: string) => {
      this.error = message;
    };
  }

  /**
   * Inflates input[inOff, inOff+inLen) into out[outOff, outOff+outLen).
   * Sets `consumed` and `produced`. Returns true when the deflate stream has
   * ended (it left input unread although it had output space). On corrupt
   * data, sets `error`, consumed = produced = 0, and returns false.
   */
  inflate(input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): boolean {
    if (this.closed) throw new AlfError('ALF_INTERNAL', 'RawInflater used after close');
    this.error = null;
    this.state[0] = outLen;
    this.state[1] = inLen;
    this.handle.writeSync(Z_SYNC_FLUSH, input, inOff, inLen, out, outOff, outLen);
    if (this.error !== null) {
      this.consumed = 0;
      this.produced = 0;
      return false;
    }
    const availOut = this.state[0]!;
    const availIn = this.state[1]!;
    this.consumed = inLen - availIn;
    this.produced = outLen - availOut;
    return availIn > 0 && availOut > 0;
  }

  /** Ready for the next deflate stream (next gzip member). */
  reset(): void {
    this.error = null;
    this.stream.reset();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.close();
  }
}
