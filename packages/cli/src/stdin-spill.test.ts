/**
 * Standard input spilled for the later passes (stdin-spill.ts): a regular file on fd 0 (read
 * straight from the fd, from its current offset) and a pipe give the pack of the same bytes given
 * as a file, and the manifest's size and SHA-256 are those of the bytes read from standard input.
 * With small ranges (ALF_RANGE_BYTES) the spill is cut into ranges while it is written and pass 1
 * parses them meanwhile (GrowingRanges): the trace says how many.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NODE_ARGS, ROOT, SECREPO_BURST_GZ, spawnAlf } from './test-cli.ts';

let dir: string;
let log: Buffer;
/** Bytes of the first line, read from the fd before alf starts. */
let skip: number;
/** Small ranges, so that the spill is cut into ranges as a large one is. */
const env = { ...process.env, ALF_RANGE_BYTES: '65536', ALF_TRACE: '1' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alf-stdin-spill-'));
  // The 2018-12-15 log (4,961 lines, one burst) and the same again a day later: ~1.4 MB, cut into ~6 ranges of 256 KiB.
  const day = gunzipSync(await readFile(SECREPO_BURST_GZ)).toString('latin1');
  log = Buffer.from(day + day.replaceAll('[15/Dec/2018', '[16/Dec/2018'), 'latin1');
  skip = log.indexOf(10) + 1;
  await writeFile(join(dir, 'whole.log'), log);
  await writeFile(join(dir, 'rest.log'), log.subarray(skip));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `alf analyze - …` with fd 0 a regular file whose offset is already past the first line. */
function analyzeFromFd(out: string): Promise<{ code: number | null; stderr: string }> {
  const fd = openSync(join(dir, 'whole.log'), 'r');
  readSync(fd, Buffer.alloc(skip), 0, skip, null);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, 'analyze', '-', '-q', '--workers', '2', '--out', out], { cwd: ROOT, stdio: [fd, 'ignore', 'pipe'], env });
    closeSync(fd);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const PACK_FILES = ['bursts.csv', 'attackers.csv', 'timeline.csv', 'asns.csv', 'rejects.csv'];

describe('standard input spilled for the later passes', () => {
  test('a regular file on fd 0 (offset past its first line) and a pipe give the pack of the same bytes given as a file', async () => {
    const fromFile = await spawnAlf(['analyze', join(dir, 'rest.log'), '-q', '--workers', '2', '--out', join(dir, 'file')], undefined, env);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const fromFd = await analyzeFromFd(join(dir, 'fd'));
    expect(fromFd.code, fromFd.stderr).toBe(0);
    const fromPipe = await spawnAlf(['analyze', '-', '-q', '--workers', '2', '--out', join(dir, 'pipe')], log.subarray(skip), env);
    expect(fromPipe.code, fromPipe.stderr).toBe(0);
    const file = await readFile(join(dir, 'file', 'bursts.csv'), 'utf8');
    expect(file).toMatch(/attack/);
    // Pass 1 parsed ranges of the spill cut while standard input was read (a trace line).
    for (const run of [fromFd, fromPipe]) {
      const m = /stdin spilled \((\d+) ranges cut as it was read\)/.exec(run.stderr);
      expect(Number(m?.[1]), run.stderr.slice(0, 2000)).toBeGreaterThanOrEqual(4);
    }
    for (const name of PACK_FILES) {
      const want = (await readFile(join(dir, 'file', name), 'utf8')).replaceAll(/rest\.log/g, 'stdin');
      expect(await readFile(join(dir, 'fd', name), 'utf8'), name).toBe(want);
      expect(await readFile(join(dir, 'pipe', name), 'utf8'), name).toBe(want);
    }
    const sha = createHash('sha256').update(log.subarray(skip)).digest('hex');
    for (const run of ['fd', 'pipe']) {
      const manifest = JSON.parse(await readFile(join(dir, run, 'manifest.json'), 'utf8')) as { inputs: { sha256: string; size: number }[] };
      expect(manifest.inputs.map((i) => [i.sha256, i.size])).toEqual([[sha, log.length - skip]]);
    }
  }, 120_000);
});
