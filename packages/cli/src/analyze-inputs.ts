/**
 * Reading the inputs of `alf analyze` more than once. Files are re-opened for
 * each pass and their size and SHA-256 compared with the first read; standard
 * input cannot be re-read, so the first pass copies its bytes to a spill file
 * in a private temporary directory (removed at the end and on signals), which
 * later passes read instead. One input is parsed as a stream, never held.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedChunk, ParseOptions } from '@alf/parser';
import type { CommandContext } from './context.ts';
import { STDIN_NAME, openInput } from './inputs.ts';
import type { OpenedInput } from './inputs.ts';
import { outputError } from './output.ts';
import { parseInput } from './parse-input.ts';
import type { InputResultParts } from './parse-input.ts';
import type { Progress } from './progress.ts';

/**
 * A private temporary directory for spill files; `remove` is idempotent and never throws.
 * Also removed when the process exits without `remove` (a second Ctrl-C exits at once).
 */
export interface TempDir {
  path(): Promise<string>;
  remove(): Promise<void>;
}

export function createTempDir(): TempDir {
  let made: Promise<string> | undefined;
  let created: string | undefined;
  const onExit = (): void => {
    if (created) rmSync(created, { recursive: true, force: true });
  };
  return {
    path: () => (made ??= mkdtemp(join(tmpdir(), 'alf-analyze-')).then((dir) => {
      created = dir;
      process.once('exit', onExit);
      return dir;
    }, (e: unknown) => {
      throw outputError(join(tmpdir(), 'alf-analyze-*'), e);
    })),
    remove: async () => {
      if (!made) return;
      const dir = await made.catch(() => undefined);
      if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      process.off('exit', onExit);
      created = undefined;
    },
  };
}

/** What one read of one input gave. */
export interface InputRead extends InputResultParts {
  readonly sizeBytes: number;
  readonly sha256: string;
  /** False when the size changed while reading (file grew or shrank). */
  readonly sizeStable: boolean;
}

/** Where later passes read an input from: the file itself, or the spill of standard input. */
export interface InputSource {
  readonly name: string;
  readonly path: string;
}

/**
 * Opens one input for reading. For standard input with `spillTo`, every chunk
 * is also written to that file (awaited: memory stays bounded).
 */
async function openSource(source: InputSource, ctx: CommandContext, spillTo: string | undefined): Promise<{ input: OpenedInput; bytes: AsyncIterable<Uint8Array> }> {
  const input = await openInput(source.path, ctx.stdin, ctx.signal);
  if (spillTo === undefined) return { input, bytes: input.bytes };
  let fh: FileHandle;
  try {
    fh = await open(spillTo, 'wx', 0o600);
  } catch (e) {
    throw outputError(spillTo, e);
  }
  async function* tee(): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      for await (const chunk of input.bytes) {
        try {
          await fh.write(chunk);
        } catch (e) {
          throw outputError(spillTo!, e);
        }
        yield chunk;
      }
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
  return { input, bytes: tee() };
}

export interface ReadOptions {
  readonly parse: ParseOptions;
  readonly ctx: CommandContext;
  readonly progress: Progress;
  readonly label: string;
  /** Standard input only: where to copy its bytes for later passes. */
  readonly spillTo?: string | undefined;
  /** Called for each parsed chunk, in order; awaited. */
  onChunk(chunk: ParsedChunk): void | Promise<void>;
}

/** Reads and parses one input to its end. */
export async function readInput(source: InputSource, o: ReadOptions): Promise<InputRead> {
  const { input, bytes } = await openSource(source, o.ctx, o.spillTo);
  o.progress.startInput(o.label, input.sizeBytes, input.bytesRead);
  const parse = parseInput(bytes, o.parse);
  for await (const chunk of parse.chunks) {
    if (o.ctx.signal.aborted) throw o.ctx.signal.reason;
    o.progress.addLines(chunk.records.length + chunk.rejects.length);
    await o.onChunk(chunk);
  }
  const parts = parse.result();
  return {
    ...parts,
    sizeBytes: input.bytesRead(),
    sha256: input.sha256(),
    sizeStable: input.sizeBytes === undefined || input.sizeBytes === input.bytesRead(),
  };
}

export const isStdin = (name: string): boolean => name === STDIN_NAME;
