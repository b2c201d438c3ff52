/**
 * Standard input with worker threads: its bytes are copied as they come to a
 * spill file (the temp directory of the run, mode 0600), and pass 1 then reads
 * the spill as a file: cut into byte ranges parsed by every thread, as a
 * plain file given by name is (a gzip spill is read whole by one thread). The
 * pipe is drained at the speed of a write, so the producer (`zcat`, `ssh`) is
 * not held back by parsing on one thread, and every later pass reads the spill.
 * The bytes spilled are exactly the bytes read: the hash of the spill is the
 * hash of standard input, taken as it is read (the spill is not read again to
 * hash it: ~1 CPU-s per GB on the main thread, while the workers parse).
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { CommandContext } from './context.ts';
import { STDIN_NAME, openInput } from './inputs.ts';
import { outputError } from './output.ts';
import type { Progress } from './progress.ts';
import { identityOf } from './analyze-parallel.ts';
import type { HashedFile } from './analyze-parallel.ts';

/**
 * Copies standard input to `spillTo` (created, never overwritten); returns the size and SHA-256 of
 * the bytes copied with the spill's identity once written (a HashedFile of the spill, as `hashFile`
 * would give).
 */
export async function spillStdin(spillTo: string, ctx: CommandContext, progress: Progress, label: string): Promise<HashedFile> {
  const input = await openInput(STDIN_NAME, ctx.stdin, ctx.signal);
  let fh: FileHandle;
  try {
    fh = await open(spillTo, 'wx', 0o600);
  } catch (e) {
    throw outputError(spillTo, e);
  }
  progress.startInput(label, undefined, input.bytesRead);
  let identity: string;
  try {
    for await (const chunk of input.bytes) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      try {
        await fh.write(chunk);
      } catch (e) {
        throw outputError(spillTo, e);
      }
    }
    try {
      identity = identityOf(await fh.stat({ bigint: true }));
    } catch (e) {
      throw outputError(spillTo, e);
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  return { sizeBytes: input.bytesRead(), sha256: input.sha256(), sizeStable: true, identity };
}
