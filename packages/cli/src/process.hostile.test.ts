/**
 * The real CLI as a process under hostile conditions: SIGINT/SIGTERM
 * mid-run, random SIGKILLs (a few here; 50 in scripts/hostile/run.ts),
 * `| head -1`, a full disk (/dev/full), a read-only directory, symlinks
 * planted in the output directory while the pack is written, and an input
 * appended to or truncated while it is read.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanLog } from '../../../testdata/hostile/corpus.ts';
import { ALF_NODE_ARGS, ROOT as ROOT_DIR, checkPack, killCampaign, runAlf } from '../../../scripts/hostile/kill-runs.ts';

let dir: string;
/** 200k lines, ~20 MB: a run of a few seconds, long enough to interrupt. */
let big: string;
let bigReference: Promise<string> | undefined;
/** An uninterrupted pack of `big`, made once. */
function referencePack(): Promise<string> {
  bigReference ??= (async () => {
    const out = join(dir, 'reference');
    const r = await runAlf(['analyze', '-q', '--out', out, big]);
    if (r.code !== 0) throw new Error(r.stderr);
    return out;
  })();
  return bigReference;
}
/** 60k lines: the input of the SIGKILL runs. */
let small: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alf-process-'));
  await chmod(dir, 0o755);
  big = join(dir, 'big.log');
  small = join(dir, 'small.log');
  await writeFile(big, cleanLog(200_000));
  await writeFile(small, cleanLog(60_000));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function waitFor(path: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear`);
    await sleep(10);
  }
}

function start(args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [...ALF_NODE_ARGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, closed };
}

describe('signals', () => {
  test.for(['SIGINT', 'SIGTERM'] as const)('%s while the pack is being made: exit 130/143, manifest interrupted, no temp file, every written file complete', async (signal) => {
    const out = join(dir, `int-${signal}`);
    const ownTmp = await mkdtemp(join(dir, 'tmp-'));
    const { child, closed } = start(['analyze', '-q', '--out', out, big], { ...process.env, TMPDIR: ownTmp });
    await waitFor(join(out, 'manifest.json')); // the placeholder: the pack exists, reading has started
    await sleep(300);
    child.kill(signal);
    const [end, reference] = await Promise.all([closed, referencePack()]);
    expect(end.code, end.stderr).toBe(signal === 'SIGINT' ? 130 : 143);
    expect(end.stderr).not.toMatch(/internal error/);
    const left = await checkPack(out, reference);
    expect(left.problems).toEqual([]);
    expect(left.outcome).toBe('interrupted');
    expect(left.tempFiles).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { status: string; statusReason: string };
    expect(manifest.statusReason).toMatch(new RegExp(signal));
    expect((await readdir(ownTmp)).filter((f) => !f.startsWith('tsx-'))).toEqual([]);
    // `alf verify` says the run was interrupted (exit 1), not that the pack is fine.
    const verify = await runAlf(['verify', out]);
    expect(verify.code).toBe(1);
  });
});

describe('SIGKILL at random moments', () => {
  test('4 kills (seeded): every pack absent, empty, interrupted with only complete files, or complete and verified', async () => {
    const work = await mkdtemp(join(dir, 'kills-'));
    const seed = 20261126;
    const { results } = await killCampaign([small], work, 4, seed);
    expect(results.flatMap((r, i) => r.problems.map((p) => `kill ${i} at ${r.delayMs} ms (seed ${seed}): ${p}`))).toEqual([]);
    expect(results).toHaveLength(4);
  }, 180_000);
});

describe('closed and broken outputs', () => {
  test('`alf parse … | head -1` and `alf analyze … | head -1` stop quietly', () => {
    const cmd = (args: string): string => `node ${ALF_NODE_ARGS.join(' ')} ${args}`;
    const r = spawnSync('bash', ['-c', `set -o pipefail; ${cmd(`parse --to csv ${big}`)} 2>${dir}/head-err.txt | head -1; echo "status \${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    const [header, status] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^input,line,byteOffset,ts,ip,/);
    expect(status).toBe('status 0');
    const tiny = join(dir, 'tiny.log');
    writeFileSync(tiny, cleanLog(3000));
    const a = spawnSync('bash', ['-c', `${cmd(`analyze --out ${dir}/head-pack ${tiny}`)} 2>&1 | head -1; echo "status \${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(a.stdout.trimEnd().split('\n').at(-1)).toMatch(/^status [01]$/);
    expect(a.stdout).not.toMatch(/internal error|EPIPE/);
  });

  test('standard output on a full disk (/dev/full): exit 4 saying so', async (ctx) => {
    if (!existsSync('/dev/full')) ctx.skip();
    const r = spawnSync('bash', ['-c', `node ${ALF_NODE_ARGS.join(' ')} parse --to ndjson ${small} > /dev/full`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/cannot write `standard output`: the disk is full/);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  test('a read-only output directory: exit 4 before reading, nothing created', async () => {
    const ro = join(dir, 'read-only');
    await mkdir(ro);
    await chmod(ro, 0o555);
    // root ignores permissions: run the CLI as nobody then, with a TMPDIR it may write (tsx caches there).
    const asRoot = process.getuid?.() === 0;
    const tmp = await mkdtemp(join(dir, 'ro-tmp-'));
    if (asRoot) await chown(tmp, 65534, 65534);
    const env = { ...process.env, TMPDIR: tmp };
    const run = (args: string[]) => spawnSync(process.execPath, [...ALF_NODE_ARGS, ...args], { encoding: 'utf8', env, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
    const pack = run(['analyze', '-q', '--out', join(ro, 'pack'), small]);
    expect(pack.status, pack.stderr).toBe(4);
    expect(pack.stderr).toMatch(/permission denied|read-only/);
    const parsed = run(['parse', '-o', join(ro, 'records.csv'), small]);
    expect(parsed.status, parsed.stderr).toBe(4);
    expect(parsed.stderr).toMatch(/cannot write `.*records\.csv`: permission denied/);
    expect(await readdir(ro)).toEqual([]);
  });

  test('symlinks planted in the output directory while the pack is written are never followed', async () => {
    const out = join(dir, 'planted');
    const victimFile = join(dir, 'victim.txt');
    const victimDir = join(dir, 'victim-dir');
    await writeFile(victimFile, 'do not touch\n');
    await mkdir(victimDir);
    const { closed } = start(['analyze', '-q', '--out', out, big]);
    await waitFor(join(out, 'manifest.json'));
    await Promise.all([
      symlink(victimFile, join(out, 'summary.md')),
      symlink(victimFile, join(out, 'bursts.csv')),
      symlink(victimDir, join(out, 'charts')),
    ]);
    const end = await closed;
    expect(end.stderr).not.toMatch(/internal error/);
    expect(await readFile(victimFile, 'utf8')).toBe('do not touch\n');
    expect(await readdir(victimDir)).toEqual([]);
    if (end.code === 0) {
      // the planted file links were replaced by the real files
      expect((await stat(join(out, 'summary.md'))).isFile()).toBe(true);
    } else {
      expect(end.code, end.stderr).toBe(4);
      expect(end.stderr).toMatch(/symlink|symbolic link|charts/i);
    }
  });
});

describe('inputs that change while they are read', () => {
  async function parseWhileChanging(change: (path: string) => Promise<void>): Promise<{ code: number | null; stderr: string }> {
    const path = join(dir, `changing-${Math.random().toString(16).slice(2)}.log`);
    await writeFile(path, cleanLog(100_000));
    const { child, closed } = start(['parse', '--to', 'ndjson', path]);
    // Stop reading stdout after the first records: backpressure halts the CLI part way through the input.
    await new Promise<void>((resolve) => child.stdout.once('data', () => { child.stdout.pause(); resolve(); }));
    await sleep(200);
    await change(path);
    child.stdout.resume();
    child.stdout.on('data', () => undefined);
    return closed;
  }

  test.for([
    ['appended to', (p: string) => appendFile(p, 'x'.repeat(1000) + '\n')],
    ['truncated', (p: string) => truncate(p, 1000)],
  ] as const)('`alf parse`: an input %s during the run is flagged changed (exit 1)', async ([, change]) => {
    const end = await parseWhileChanging(change);
    expect(end.stderr).not.toMatch(/internal error/);
    expect(end.code, end.stderr).toBe(1);
    expect(end.stderr).toMatch(/flagged: changed/);
  });

  test('`alf analyze`: an input appended to during the run is flagged changed and the pack is partial', async () => {
    const path = join(dir, 'analyze-changing.log');
    const out = join(dir, 'changed-pack');
    await writeFile(path, cleanLog(100_000));
    const { closed } = start(['analyze', '--out', out, path]);
    await waitFor(join(out, 'manifest.json'));
    // The pack exists before the input is opened: keep appending until the run ends, so the
    // input changes while pass 1 reads it or between the two passes, whatever the timing.
    let running = true;
    const appending = (async () => {
      while (running) {
        await appendFile(path, `${'x'.repeat(100)}\n`);
        await sleep(20);
      }
    })();
    const end = await closed;
    running = false;
    await appending;
    expect(end.stderr).not.toMatch(/internal error/);
    expect(end.code, end.stderr).toBe(1);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { status: string };
    expect(end.stderr).toMatch(/changed/);
    expect(manifest.status).toBe('partial');
  });
});

describe('databases', () => {
  test('a database replaced and then emptied during the run: the run uses what it opened, and the manifest names that file by its SHA-256', async () => {
    const { copyFile } = await import('node:fs/promises');
    const { createHash } = await import('node:crypto');
    const original = join(ROOT_DIR, 'testdata/real/maxmind-db/test-data/GeoLite2-ASN-Test.mmdb');
    const db = join(dir, 'asn.mmdb');
    await copyFile(original, db);
    const sha = createHash('sha256').update(await readFile(original)).digest('hex');
    const out = join(dir, 'db-replaced');
    const { closed } = start(['analyze', '-q', '--asn-db', db, '--out', out, small]);
    await waitFor(join(out, 'manifest.json')); // databases are opened before the pack is created
    await writeFile(db, 'not a database any more\n');
    await truncate(db, 0);
    const end = await closed;
    expect(end.stderr).not.toMatch(/internal error/);
    expect(end.code, end.stderr).toBe(0);
    const manifest = await readFile(join(out, 'manifest.json'), 'utf8');
    expect(manifest).toContain(sha);
    // The next run opens the zero-byte file and refuses it, naming it (exit 3), before writing anything.
    const again = await runAlf(['analyze', '-q', '--asn-db', db, '--out', join(dir, 'db-empty'), small]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/asn\.mmdb.*empty \(0 bytes\)/);
    expect(existsSync(join(dir, 'db-empty'))).toBe(false);
  });
});
