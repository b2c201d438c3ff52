/**
 * Writing data to standard output or to a file, with backpressure
 * (`stream.pipeline` over an async generator). A closed stdout pipe
 * (`alf parse … | head`) is a normal stop, not an error. A file is written
 * under a temporary name and renamed when complete, so an interrupted or
 * failed run leaves no half-written output behind.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { AlfError } from '@alf/parser';

export const STDOUT_NAME = '-';

/** How writing ended: `complete`, or `closed` when the reader of stdout went away. */
export type WriteEnd = 'complete' | 'closed';

export function outputError(name: string, error: unknown): AlfError {
  if (error instanceof AlfError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const [why, todo] = code === 'ENOSPC' || code === 'EDQUOT' ? ['the disk is full', 'free space or write elsewhere with --output']
    : code === 'EACCES' || code === 'EPERM' ? ['permission denied', 'write elsewhere with --output']
    : code === 'ENOENT' ? ['its directory does not exist', 'create the directory or write elsewhere with --output']
    : code === 'EISDIR' ? ['it is a directory', 'name a file inside it with --output']
    : code === 'EEXIST' ? ['a temporary file of the same name exists', 'remove it and run again']
    : code === 'EROFS' ? ['the file system is read-only', 'write elsewhere with --output']
    : [(error as Error | undefined)?.message ?? String(error), 'write elsewhere with --output'];
  return new AlfError('ALF_OUTPUT_UNWRITABLE', `cannot write \`${name}\`: ${why}; ${todo}`, { output: name }, { cause: error });
}

/** True for the error a write to a pipe whose reader has gone gives. */
export function isClosedPipe(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/**
 * Pipes `chunks` to `output` (`-` = stdout). Errors thrown by the source (input,
 * parser) come back unchanged; errors of the destination become ALF_OUTPUT_UNWRITABLE.
 */
export async function writeOutput(
  chunks: AsyncIterable<Uint8Array | string>,
  output: string,
  options: { signal?: AbortSignal | undefined; stdout?: Writable | undefined } = {},
): Promise<WriteEnd> {
  let sourceError: { error: unknown } | undefined;
  async function* source(): AsyncGenerator<Uint8Array | string, void, undefined> {
    try {
      yield* chunks;
    } catch (error) {
      sourceError = { error };
      throw error;
    }
  }
  const signalOption = options.signal ? { signal: options.signal } : {};

  if (output === STDOUT_NAME) {
    const stdout = options.stdout ?? process.stdout;
    try {
      await pipeline(source, stdout, { ...signalOption, end: false });
      return 'complete';
    } catch (error) {
      if (sourceError) throw sourceError.error;
      if (options.signal?.aborted) throw error;
      if (isClosedPipe(error)) return 'closed';
      throw outputError('standard output', error);
    }
  }

  const temporary = `${output}.partial-${process.pid}`;
  let handle;
  try {
    // Opened before the first input byte is read: an unwritable place fails at once.
    handle = await open(temporary, 'wx');
  } catch (error) {
    throw outputError(output, error);
  }
  const file = handle.createWriteStream();
  try {
    await pipeline(source, file, signalOption);
    await rename(temporary, output);
    return 'complete';
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    if (sourceError) throw sourceError.error;
    if (options.signal?.aborted) throw error;
    throw outputError(output, error);
  }
}
