/**
 * SIGKILL at random moments of `alf analyze`, and what each kill left in the
 * pack directory. A kill may leave: no directory, an empty one, a pack whose
 * manifest says `interrupted` (every file under a final name byte-identical to
 * the same file of an uninterrupted run; temporary `.name.alf-tmp-*` files
 * allowed), or a complete pack that `verifyPack` accepts. Anything else (a
 * final file that differs from the reference, a pack without manifest that
 * holds files, a `complete` manifest that does not verify) is a problem.
 *
 * A killed run cannot remove its private temporary directory (`alf-analyze-*`, spills of
 * standard input and of pass 2): every run here gets its own TMPDIR inside `work`, emptied
 * after each run, so a campaign leaves nothing in the system's temporary directory.
 *
 * Used by packages/cli/src/process.hostile.test.ts (a few kills) and
 * scripts/hostile/run.ts (50).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { verifyPack } from '@alf/report';

export const ROOT: string = new URL('../../', import.meta.url).pathname;
/** `node` arguments that run the CLI's sources from any working directory. */
export const ALF_NODE_ARGS: readonly string[] = [
  '--conditions=alf-source', '--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, join(ROOT, 'packages/cli/src/bin-dev.ts'),
];

const TEMP_RE = /(^|\/)\.[^/]+\.alf-tmp-[0-9a-f]{12}$/;

export type KillOutcome = 'absent' | 'empty' | 'interrupted' | 'complete';

export interface KillResult {
  readonly delayMs: number;
  readonly outcome: KillOutcome;
  /** Files under their final name (manifest excluded). */
  readonly finalFiles: number;
  readonly tempFiles: number;
  readonly problems: readonly string[];
}

/** Files of a directory tree, relative, sorted (directories left out). */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isDirectory()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

/** What a run left in `out`, checked against the uninterrupted `reference` pack. */
export async function checkPack(out: string, reference: string, delayMs = 0): Promise<KillResult> {
  if (!existsSync(out)) return { delayMs, outcome: 'absent', finalFiles: 0, tempFiles: 0, problems: [] };
  const files = await filesUnder(out);
  const temps = files.filter((f) => TEMP_RE.test(f));
  const finals = files.filter((f) => !TEMP_RE.test(f) && f !== 'manifest.json');
  const problems: string[] = [];
  if (!files.includes('manifest.json')) {
    if (finals.length > 0) problems.push(`no manifest.json but ${finals.length} final files: ${finals.slice(0, 5).join(', ')}`);
    return { delayMs, outcome: 'empty', finalFiles: finals.length, tempFiles: temps.length, problems };
  }
  let status: string;
  try {
    status = (JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { status: string }).status;
  } catch (error) {
    problems.push(`manifest.json unreadable: ${(error as Error).message}`);
    return { delayMs, outcome: 'interrupted', finalFiles: finals.length, tempFiles: temps.length, problems };
  }
  for (const f of finals) {
    const [mine, theirs] = await Promise.all([readFile(join(out, f)), readFile(join(reference, f)).catch(() => undefined)]);
    if (theirs === undefined) problems.push(`${f}: not in the reference pack`);
    else if (!mine.equals(theirs)) problems.push(`${f}: differs from the reference (${mine.length} vs ${theirs.length} bytes): half-written?`);
  }
  if (status === 'complete') {
    const v = await verifyPack(out);
    if (!v.ok) problems.push(`complete pack does not verify: ${JSON.stringify(v).slice(0, 300)}`);
    if (temps.length > 0) problems.push(`complete pack with temporary files: ${temps.join(', ')}`);
    return { delayMs, outcome: 'complete', finalFiles: finals.length, tempFiles: temps.length, problems };
  }
  if (status !== 'interrupted') problems.push(`status ${status} after a kill`);
  return { delayMs, outcome: 'interrupted', finalFiles: finals.length, tempFiles: temps.length, problems };
}

export interface AlfRun { readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly stderr: string; readonly ms: number }

/** Runs `alf …` (stdin ignored); `killAfterMs` sends SIGKILL that long after the start. */
export function runAlf(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; killAfterMs?: number } = {}): Promise<AlfRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [...ALF_NODE_ARGS, ...args], { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: opts.env ?? process.env });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
    const timer = opts.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stderr, ms: performance.now() - start });
    });
  });
}

/** Small seeded PRNG (mulberry32), so a run can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface KillCampaign {
  readonly referenceMs: number;
  readonly results: readonly KillResult[];
}

/**
 * One uninterrupted `alf analyze` into `work/reference`, then `kills` runs
 * into `work/kill-<i>`, each SIGKILLed at a uniform random moment of the
 * reference run's duration (seeded), each checked with `checkPack`.
 */
export async function killCampaign(inputs: readonly string[], work: string, kills: number, seed: number, onResult?: (r: KillResult, i: number) => void): Promise<KillCampaign> {
  const reference = join(work, 'reference');
  const tmp = join(work, 'tmp');
  await mkdir(tmp, { recursive: true });
  const env = { ...process.env, TMPDIR: tmp };
  const ref = await runAlf(['analyze', '-q', '--out', reference, ...inputs], { env });
  if (ref.code !== 0) throw new Error(`reference run failed (${ref.code}): ${ref.stderr}`);
  const random = seededRandom(seed);
  const results: KillResult[] = [];
  for (let i = 0; i < kills; i++) {
    const delayMs = Math.round(random() * ref.ms);
    const out = join(work, `kill-${i}`);
    const run = await runAlf(['analyze', '-q', '--out', out, ...inputs], { env, killAfterMs: delayMs });
    for (const left of await readdir(tmp)) await rm(join(tmp, left), { recursive: true, force: true });
    const r = run.signal === 'SIGKILL'
      ? await checkPack(out, reference, delayMs)
      : { ...(await checkPack(out, reference, delayMs)), ...(run.code === 0 ? {} : { problems: [`ended ${run.code} before the kill: ${run.stderr.slice(0, 300)}`] }) };
    results.push(r);
    onResult?.(r, i);
  }
  return { referenceMs: ref.ms, results };
}
