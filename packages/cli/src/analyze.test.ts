/**
 * `alf analyze` and `alf verify`, spawned through real pipes: the real
 * secrepo burst comes out attributed, the pack does not depend on input order
 * or on stdin vs file, verify catches changed and missing files, usage and
 * input errors have their statuses, SIGTERM leaves an interrupted manifest.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NODE_ARGS, ROOT, spawnAlf as alf, type SpawnResult as Run } from './test-cli.ts';

const root = ROOT;
// 4,961 lines; 198.72.227.213 sends ~4,150 requests 00:24–00:43 (-0800) on 16 Dec 2018.
const burstLog = join(root, 'testdata/real/secrepo/access.log.2018-12-15.gz');
const quietLog = join(root, 'testdata/real/secrepo/access.log.2022-12-22.gz');

/** Files of a pack, sub-folders included (`evidence/burst-1.log`), as sorted relative paths. */
async function packFiles(pack: string): Promise<string[]> {
  const entries = await readdir(pack, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(pack.length + 1)).sort();
}

const csvRows = (text: string): string[][] => text.trimEnd().split('\n').map((l) => l.split(','));

let dir: string;
let fromFile: Run;
let fromStdin: Run;
let ab: Run;
let ba: Run;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alf-analyze-test-'));
  const gz = await readFile(burstLog);
  [fromFile, fromStdin, ab, ba] = await Promise.all([
    alf(['analyze', burstLog, '--out', join(dir, 'file')]),
    alf(['analyze', '-', '--out', join(dir, 'stdin'), '--quiet'], gz),
    alf(['analyze', burstLog, quietLog, '--out', join(dir, 'ab'), '--quiet']),
    alf(['analyze', quietLog, burstLog, '--out', join(dir, 'ba'), '--quiet']),
  ]);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('alf analyze', () => {
  test('the real secrepo burst: one attack whose top attacker is 198.72.227.213; summary on stderr', async () => {
    // The embedded databases are years newer than the 2018 log: said, but not a failure of the run.
    expect(fromFile.code).toBe(0);
    expect(fromFile.stderr).toMatch(/note: .*days after the last log entry/);
    expect(fromFile.stdout.length).toBe(0);
    const bursts = csvRows(await readFile(join(dir, 'file/bursts.csv'), 'utf8'));
    expect(bursts[0]!.slice(0, 3)).toEqual(['burst_id', 'start', 'end']);
    const burst = bursts.find((r) => r[1]!.startsWith('2018-12-16T08:2'));
    expect(burst).toBeDefined();
    expect(burst![11]).toBe('attack');
    const attackers = csvRows(await readFile(join(dir, 'file/attackers.csv'), 'utf8'));
    const first = attackers.find((r) => r[0] === burst![0]);
    expect(first?.[1]).toBe('198.72.227.213');
    expect(Number(first?.[2])).toBeGreaterThan(4000);
    expect(fromFile.stderr).toMatch(/4,961 lines: 4,961 parsed, 0 rejected/);
    expect(fromFile.stderr).toMatch(/#1 2018-12-16T08:24:\d\dZ – 2018-12-16T08:4\d:\d\dZ .*top 198\.72\.227\.213 .*attack/);
    expect(fromFile.stderr).toContain(`pack: ${join(dir, 'file')}`);
    const manifest = JSON.parse(await readFile(join(dir, 'file/manifest.json'), 'utf8')) as { status: string; inputs: { path: string; sha256: string }[] };
    expect(manifest.status).toBe('complete');
    expect(manifest.inputs[0]!.path).toBe(burstLog);
  });

  test('standard input gives the same pack as the file (all but the input name)', async () => {
    expect(fromStdin.code).toBe(0);
    // records.arrow names the input in a column: compared row by row in analyze-records.test.ts.
    const files = (await packFiles(join(dir, 'file'))).filter((f) => f !== 'manifest.json' && f !== 'records.arrow');
    expect(files).toContain('summary.md');
    // summary.md and rejects.csv name the input: `stdin (sha256:…)` vs `access.log… (sha256:…)`.
    const named = (text: string): string =>
      text.replaceAll(/(?:stdin|access(?:\\\[\.\\\]|\.)log\.2018-12-15(?:\\\[\.\\\]|\.)gz) \\?\(sha256:/g, 'INPUT (sha256:');
    for (const f of files) {
      const [a, b] = [await readFile(join(dir, 'stdin', f), 'utf8'), await readFile(join(dir, 'file', f), 'utf8')];
      if (f === 'summary.md' || f === 'rejects.csv' || f.startsWith('evidence/')) expect(named(a), f).toBe(named(b));
      else expect(a, f).toBe(b);
    }
    const manifest = JSON.parse(await readFile(join(dir, 'stdin/manifest.json'), 'utf8')) as { inputs: { path: string; stdin: boolean; sha256: string }[] };
    expect(manifest.inputs[0]).toMatchObject({ path: '-', stdin: true });
  });

  test('two inputs in either order give byte-identical pack files except manifest.json', async () => {
    expect(ab.code).toBe(0);
    expect(ba.code).toBe(0);
    const files = await packFiles(join(dir, 'ab'));
    expect(await packFiles(join(dir, 'ba'))).toEqual(files);
    for (const f of files.filter((x) => x !== 'manifest.json')) {
      expect((await readFile(join(dir, 'ba', f))).equals(await readFile(join(dir, 'ab', f))), f).toBe(true);
    }
    const inputs = (d: string): Promise<string[]> => readFile(join(dir, d, 'manifest.json'), 'utf8')
      .then((t) => (JSON.parse(t) as { inputs: { path: string }[] }).inputs.map((i) => i.path));
    expect(await inputs('ba')).toEqual(await inputs('ab'));
  });

  test('a bad --from gives exit 2 saying what is expected; a missing input exit 3', async () => {
    const [bad, missing] = await Promise.all([
      alf(['analyze', '--from', 'yesterday', burstLog, '--out', join(dir, 'bad')]),
      alf(['analyze', burstLog, 'no/such/access.log', '--out', join(dir, 'missing')]),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/`--from` must be an ISO-8601 time \(e\.g\. 2021-03-29T08:00Z.*or a time relative to the data .*got `yesterday`/);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/cannot read `no\/such\/access.log`: no such file/);
    expect(await readdir(dir)).not.toContain('missing');
  });

  test('SIGTERM while reading standard input: exit 143, manifest interrupted, spill removed', async () => {
    const ownTmp = await mkdtemp(join(tmpdir(), 'alf-analyze-tmp-'));
    const out = join(dir, 'interrupted');
    const child = spawn(process.execPath, [...NODE_ARGS, 'analyze', '-', '--out', out], {
      cwd: root, stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: ownTmp },
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.on('error', () => undefined);
    // More than a pipe buffer of real log lines: the write completes once the CLI is reading.
    const plain = gunzipSync(await readFile(burstLog));
    await new Promise<void>((resolve) => child.stdin.write(plain, () => resolve()));
    child.kill('SIGTERM');
    expect(await closed).toBe(143);
    child.stdin.destroy();
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { status: string; statusReason: string };
    expect(manifest.status).toBe('interrupted');
    expect((await readdir(ownTmp)).filter((f) => f.startsWith('alf-'))).toEqual([]); // tsx keeps its cache there too
    await rm(ownTmp, { recursive: true, force: true });
  });
});

describe('alf verify', () => {
  test('passes on a fresh pack and with its input; fails naming the file after a flipped byte or a deletion', async () => {
    const flipped = join(dir, 'flipped');
    const deleted = join(dir, 'deleted');
    await cp(join(dir, 'file'), flipped, { recursive: true });
    await cp(join(dir, 'file'), deleted, { recursive: true });
    const bursts = await readFile(join(flipped, 'bursts.csv'));
    bursts[10] = bursts[10]! ^ 1;
    await writeFile(join(flipped, 'bursts.csv'), bursts);
    await rm(join(deleted, 'attackers.csv'));
    const [ok, bad, gone] = await Promise.all([
      alf(['verify', join(dir, 'file'), burstLog]),
      alf(['verify', flipped]),
      alf(['verify', deleted]),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.toString()).toMatch(/^input ok: .*access\.log\.2018-12-15\.gz/m);
    const listed = (JSON.parse(await readFile(join(dir, 'file/manifest.json'), 'utf8')) as { files: unknown[] }).files.length;
    expect(ok.stdout.toString()).toMatch(new RegExp(`^OK: .*${listed} files and 1 input`, 'm'));
    expect(bad.code).toBe(1);
    expect(bad.stdout.toString()).toMatch(/^changed: bursts\.csv \(sha256 /m);
    expect(bad.stdout.toString()).toMatch(/^FAILED: /m);
    expect(gone.code).toBe(1);
    expect(gone.stdout.toString()).toMatch(/^missing: attackers\.csv$/m);
  });
});
