/**
 * Test-only: run the real `alf`, either as a child process through real pipes
 * (the TypeScript sources via tsx, as `pnpm alf` does) or in-process through
 * `main` with in-memory streams. Not exported from the package.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { main } from './main.ts';

/** The repository root. */
export const ROOT: string = new URL('../../../', import.meta.url).pathname;
/** `node` arguments that run the CLI's sources, from any working directory (tsx by absolute URL). */
/** 4,961 real lines with a single-IP burst (secrepo, 2018-12-15; see analyze.test.ts), gzip. */
export const SECREPO_BURST_GZ: string = join(ROOT, 'testdata/real/secrepo/access.log.2018-12-15.gz');

/** The non-empty lines of SECREPO_BURST_GZ (latin1, no line ends). */
export async function secrepoBurstLines(): Promise<string[]> {
  return gunzipSync(await readFile(SECREPO_BURST_GZ)).toString('latin1').split('\n').filter((l) => l !== '');
}

export const NODE_ARGS: readonly string[] = [
  '--conditions=alf-source', '--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, join(ROOT, 'packages/cli/src/bin-dev.ts'),
];

export interface SpawnResult {
  readonly code: number | null;
  /** Raw bytes (Arrow output is binary); `.toString()` for text. */
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs `alf …` as a child (in `cwd`) with stdin from `input` (or an empty pipe), collecting stdout and stderr. */
export function spawnAlf(args: readonly string[], input?: Buffer | string, env: NodeJS.ProcessEnv = process.env, cwd: string = ROOT): Promise<SpawnResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'], env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => undefined); // the child may exit before reading it all
    child.stdin.end(input);
  });
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `main(argv)` in-process with an empty stdin; `stderrIsTTY` makes stderr look like a terminal. */
export async function runAlf(argv: string[], stderrIsTTY = false): Promise<RunResult> {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: stderrIsTTY });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(argv, { stdin: Readable.from([]), stdout, stderr });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
