/**
 * Standard input with worker threads: its bytes are copied as they come to a
 * spill file (the temp directory of the run, mode 0600), and pass 1 then reads
 * the spill as a file: cut into byte ranges parsed by every thread, as a
 * plain file given by name is (a gzip spill is read whole by one thread); the
 * first ranges are cut and parsed while the rest is still being copied (`onWritten`,
 * GrowingRanges in analyze-parallel.ts). The pipe is drained by the main thread
 * between its parse tasks, and every later pass reads the spill.
 * The bytes spilled are exactly the bytes read: the hash of the spill is the
 * hash of standard input, taken as it is read (the spill is not read again to
 * hash it: ~1 CPU-s per GB on the main thread, while the workers parse).
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { fstatSync, read } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { AlfError } from '@alf/parser';
import type { CommandContext } from './context.ts';
import { STDIN_NAME, inputError, openInput } from './inputs.ts';
import { outputError } from './output.ts';
import type { Progress } from './progress.ts';
import { identityOf } from './analyze-parallel.ts';
import type { HashedFile } from './analyze-parallel.ts';

/** Bytes per write to the spill, and per read when standard input is a regular file. */
const SPILL_CHUNK_BYTES = 1024 * 1024;
/** Writes to the spill that may be in flight while the next bytes are read and hashed. */
const SPILL_WRITES_IN_FLIGHT = 4;

/** Called as the spill grows: every byte before `written` is in the file. */
export type OnWritten = (written: number) => Promise<void>;

/** The prefix of the spill whose writes (issued in order, completing in any order) are all done. */
class WrittenPrefix {
  private readonly queue: { end: number; done: boolean }[] = [];
  private head = 0;
  private prefix = 0;
  private reported = 0;
  constructor(private readonly onWritten: OnWritten | undefined) {}
  add(end: number, write: Promise<unknown>): void {
    const e = { end, done: false };
    this.queue.push(e);
    write.then(() => { e.done = true; }, () => undefined);
  }
  /** Tells `onWritten` when the written prefix has grown (by at least 1 MiB; `all`: at all, once every write is done). */
  async report(all = false): Promise<void> {
    const q = this.queue;
    while (this.head < q.length && q[this.head]!.done) this.prefix = q[this.head++]!.end;
    if (this.head > 1024) {
      q.splice(0, this.head);
      this.head = 0;
    }
    if (this.onWritten && this.prefix - this.reported >= (all ? 1 : SPILL_CHUNK_BYTES)) {
      this.reported = this.prefix;
      await this.onWritten(this.prefix);
    }
  }
}

/** Reads up to `buf.length` bytes of fd 0 at its current offset. */
function readStdin(buf: Buffer): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    read(0, buf, 0, buf.length, null, (e, n) => (e ? reject(inputError(STDIN_NAME, e)) : resolve(n)));
  });
}

/**
 * Standard input that is a regular file (`alf analyze - < file`, a file given by a scheduler),
 * from its current offset to its end, copied to `fh` through a ring of 1 MiB buffers: the next
 * read is in flight while a buffer is hashed, and several writes at once, each buffer reused once
 * its write is done (fresh buffers per chunk cost ~0.5 s of collections per GB). A pipe stays a
 * stream (a read of fd 0 on an idle pipe could not be interrupted by Ctrl-C).
 */
async function copyFileStdin(fh: FileHandle, hash: Hash, signal: AbortSignal, onBytes: (n: number) => void, written: WrittenPrefix): Promise<void> {
  const ring = Array.from({ length: SPILL_WRITES_IN_FLIGHT + 2 }, () => Buffer.allocUnsafeSlow(SPILL_CHUNK_BYTES));
  const writes: (Promise<unknown> | null)[] = ring.map(() => null);
  let position = 0;
  let slot = 0;
  let next = readStdin(ring[0]!);
  try {
    for (;;) {
      const n = await next;
      if (n === 0) break;
      if (signal.aborted) throw signal.reason;
      const buf = ring[slot]!;
      const following = (slot + 1) % ring.length;
      await writes[following];
      writes[following] = null;
      next = readStdin(ring[following]!);
      hash.update(buf.subarray(0, n));
      onBytes(n);
      writes[slot] = fh.write(buf, 0, n, position);
      writes[slot]!.catch(() => undefined); // awaited before the buffer is reused, or below
      position += n;
      written.add(position, writes[slot]!);
      slot = following;
      await written.report();
    }
  } finally {
    next.catch(() => undefined);
    await Promise.allSettled(writes);
  }
  for (const w of writes) await w;
  await written.report(true);
}

/** True when standard input is `process.stdin` on a regular file. */
function stdinIsFile(ctx: CommandContext): boolean {
  if (ctx.stdin !== process.stdin) return false;
  try {
    return fstatSync(0).isFile();
  } catch {
    return false;
  }
}

/**
 * Copies standard input to `spillTo` (created, never overwritten); returns the size and SHA-256 of
 * the bytes copied with the spill's identity once written (a HashedFile of the spill, as `hashFile`
 * would give), telling `onWritten` as the written prefix grows (pass 1 cuts ranges of it meanwhile,
 * GrowingRanges). Chunks are gathered into 1 MiB writes at explicit offsets, several in flight, so
 * reading and hashing the next bytes does not wait for each write (5M-line corpus, 1.15 GB from a
 * file on stdin: 3.6-4.3 s with 64 KiB chunks each written before the next was read).
 */
export async function spillStdin(spillTo: string, ctx: CommandContext, progress: Progress, label: string, onWritten?: OnWritten): Promise<HashedFile> {
  const direct = stdinIsFile(ctx);
  const input = direct ? null : await openInput(STDIN_NAME, ctx.stdin, ctx.signal);
  let fh: FileHandle;
  try {
    fh = await open(spillTo, 'wx', 0o600);
  } catch (e) {
    throw outputError(spillTo, e);
  }
  let bytesIn = 0;
  progress.startInput(label, undefined, () => bytesIn);
  const hash = createHash('sha256');
  let identity: string;
  try {
    try {
      const written = new WrittenPrefix(onWritten);
      if (direct) await copyFileStdin(fh, hash, ctx.signal, (n) => { bytesIn += n; }, written);
      else await copyStream(input!.bytes, fh, ctx.signal, (n) => { bytesIn += n; }, written);
    } catch (e) {
      if (e instanceof AlfError || ctx.signal.aborted) throw e;
      throw outputError(spillTo, e);
    }
    try {
      identity = identityOf(await fh.stat({ bigint: true }));
    } catch (e) {
      throw outputError(spillTo, e);
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  return { sizeBytes: bytesIn, sha256: direct ? hash.digest('hex') : input!.sha256(), sizeStable: true, identity };
}

/**
 * A pipe's chunks (64 KiB) gathered into 1 MiB writes at explicit offsets, several in flight, so
 * reading the next bytes does not wait for each write (openInput hashes them).
 */
async function copyStream(chunks: AsyncIterable<Uint8Array>, fh: FileHandle, signal: AbortSignal, onBytes: (n: number) => void, written: WrittenPrefix): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  let failed: unknown = null;
  let position = 0;
  const pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending.length = 0;
    pendingBytes = 0;
    const p: Promise<unknown> = fh.write(bytes, 0, bytes.length, position).then(() => inFlight.delete(p), (e: unknown) => {
      failed ??= e;
      inFlight.delete(p);
    });
    position += bytes.length;
    inFlight.add(p);
    written.add(position, p);
    while (inFlight.size >= SPILL_WRITES_IN_FLIGHT && failed === null) await Promise.race(inFlight);
    await written.report();
  };
  try {
    for await (const chunk of chunks) {
      if (signal.aborted) throw signal.reason;
      onBytes(chunk.byteLength);
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= SPILL_CHUNK_BYTES) await flush();
      if (failed !== null) break;
    }
    if (failed === null) await flush();
  } finally {
    await Promise.all(inFlight);
  }
  if (failed !== null) throw failed;
  await written.report(true);
}
