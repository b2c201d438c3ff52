/**
 * How bench steps talk to run.ts. A step is a script run in its own process; it
 * prints `key: value unit` lines on stdout, ending with the figures run.ts turns
 * into rates: `lines`, `bytes` (uncompressed text), `seconds` (work only, not
 * start-up) and `peak-rss` (this process's maxRSS). A step that cannot run
 * prints `skipped: reason` and exits 0.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function emit(key: string, value: number | string, unit = ''): void {
  process.stdout.write(`${key}: ${value}${unit ? ` ${unit}` : ''}\n`);
}

/** Prints the closing figures of a step, peak RSS from this process's own accounting. */
export function finishStep(figures: { lines: number; bytes: number; seconds: number }): void {
  emit('lines', figures.lines, 'lines');
  emit('bytes', figures.bytes, 'B');
  emit('seconds', figures.seconds.toFixed(3), 's');
  emit('peak-rss', (process.resourceUsage().maxRSS / 1024).toFixed(1), 'MB');
}

export function skipStep(reason: string): never {
  emit('skipped', reason);
  process.exit(0);
}

export interface StepOutput {
  readonly values: Map<string, string>;
  readonly skipped?: string;
}

/** Reads `key: value unit` lines; keeps the value text (unit dropped for numbers). */
export function parseStepOutput(stdout: string): StepOutput {
  const values = new Map<string, string>();
  let skipped: string | undefined;
  for (const line of stdout.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    const rest = line.slice(colon + 2).trim();
    if (key === 'skipped') skipped = rest;
    else values.set(key, rest);
  }
  return skipped === undefined ? { values } : { values, skipped };
}

export function numberOf(out: StepOutput, key: string): number | undefined {
  const text = out.values.get(key);
  if (text === undefined) return undefined;
  const n = Number.parseFloat(text);
  return Number.isFinite(n) ? n : undefined;
}

export interface TimedRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallSeconds: number;
  /** From /usr/bin/time when present (covers processes that cannot report their own). */
  readonly maxRssMb?: number;
  /** User + system CPU seconds of the command, from /usr/bin/time when present. */
  readonly cpuSeconds?: number;
}

const GNU_TIME = '/usr/bin/time';

export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

/**
 * Runs a command to completion, under /usr/bin/time when present for its peak RSS.
 * `stdinFile` feeds a file as stdin (for `-` runs); stdout is captured, so
 * commands whose output is large should write to a file instead. With `signal`, the
 * command runs in its own process group and an abort sends SIGTERM to the whole
 * group (/usr/bin/time does not pass SIGTERM on to the command it runs).
 */
export async function runTimed(cmd: string, args: readonly string[], opts: { cwd?: string; stdinFile?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<TimedRun> {
  const dir = mkdtempSync(join(tmpdir(), 'alf-bench-'));
  const timeFile = join(dir, 'time.txt');
  const useTime = hasGnuTime();
  const argv = useTime ? ['-f', '%e %M %U %S', '-o', timeFile, cmd, ...args] : [...args];
  const stdinFd = opts.stdinFile ? openSync(opts.stdinFile, 'r') : undefined;
  const started = performance.now();
  const child = spawn(useTime ? GNU_TIME : cmd, argv, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: [stdinFd ?? 'ignore', 'pipe', 'pipe'],
    detached: opts.signal !== undefined,
  });
  const killGroup = (): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  if (opts.signal?.aborted) killGroup();
  opts.signal?.addEventListener('abort', killGroup, { once: true });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  // Keep only the tail of stderr: enough to show why a step failed.
  child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-20_000); });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  opts.signal?.removeEventListener('abort', killGroup);
  const wallSeconds = (performance.now() - started) / 1000;
  if (stdinFd !== undefined) closeSync(stdinFd);
  let maxRssMb: number | undefined;
  let cpuSeconds: number | undefined;
  if (useTime && existsSync(timeFile)) {
    // GNU time writes "Command exited with non-zero status N" before the format line on failure.
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const [, kb, user, sys] = last.split(/\s+/).map(Number);
    if (Number.isFinite(kb)) maxRssMb = kb! / 1024;
    if (Number.isFinite(user) && Number.isFinite(sys)) cpuSeconds = user! + sys!;
  }
  rmSync(dir, { recursive: true, force: true });
  return { code, stdout, stderr, wallSeconds, ...(maxRssMb === undefined ? {} : { maxRssMb }), ...(cpuSeconds === undefined ? {} : { cpuSeconds }) };
}

/** `true` when a command is on PATH. */
export async function commandExists(name: string): Promise<boolean> {
  const run = await new Promise<number | null>((resolve) => {
    const child = spawn('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    child.on('close', resolve);
    child.on('error', () => resolve(1));
  });
  return run === 0;
}

/** True when the file starts with the gzip magic bytes (never decided by file name). */
export function isGzipFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}
