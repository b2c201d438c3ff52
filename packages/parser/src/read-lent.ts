/**
 * A regular file's bytes in chunks read into a few buffers that go round, instead of a fresh
 * buffer per read (`createReadStream` allocates one per chunk: on the 5M-line bench that is
 * 1.2 GB of short-lived external memory, and collections to match). Each whole chunk is lent
 * (`lendChunk`), as decoded gzip pieces are: the framer hands it back with `releaseChunk` once
 * the parser has read its blocks, and the next read fills it again. A chunk that is not handed
 * back is simply never reused, so a consumer that keeps chunks loses nothing but the reuse.
 * One read is in flight while the consumer works on the chunk before it.
 */
import type { FileHandle } from 'node:fs/promises';
import { lendChunk } from './decode-input.ts';

export interface ReadLentOptions {
  /** First byte to read (default 0). */
  readonly start?: number;
  /** Byte after the last one to read (default: to the end of the file, however long it grows). */
  readonly end?: number;
  /** Bytes per read (default 1 MiB). */
  readonly chunkBytes?: number;
  /** Checked before each read: an aborted signal ends the read with its reason. */
  readonly signal?: AbortSignal | undefined;
}

/** Buffers kept for reuse (one being read into, one being parsed, one spare). */
const POOL_MAX = 3;

/** The bytes of `fh` in [start, end), read with positional reads (a regular file; not a pipe). */
export async function* readLent(fh: FileHandle, opts: ReadLentOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const size = Math.max(1, Math.floor(opts.chunkBytes ?? 1 << 20));
  const end = opts.end ?? Number.POSITIVE_INFINITY;
  const signal = opts.signal;
  const pool: Buffer[] = [];
  const back = (piece: Uint8Array): void => {
    const whole = Buffer.from(piece.buffer, 0, piece.buffer.byteLength);
    if (whole.length === size && pool.length < POOL_MAX) pool.push(whole);
  };
  let pos = opts.start ?? 0;
  const readAt = (at: number): Promise<{ bytesRead: number; buffer: Buffer }> | null => {
    if (at >= end) return null;
    signal?.throwIfAborted();
    const buf = pool.pop() ?? Buffer.allocUnsafeSlow(size);
    return fh.read(buf, 0, Math.min(size, end - at), at);
  };
  let next = readAt(pos);
  try {
    while (next !== null) {
      const { bytesRead, buffer } = await next;
      next = null;
      if (bytesRead === 0) break;
      pos += bytesRead;
      next = readAt(pos);
      yield bytesRead === buffer.length ? lendChunk(buffer, back) : buffer.subarray(0, bytesRead);
    }
  } finally {
    // a read still in flight when the consumer stops: let it land before the caller closes the file
    if (next !== null) await next.catch(() => undefined);
  }
}
