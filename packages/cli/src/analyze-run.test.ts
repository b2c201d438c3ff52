/**
 * `alf analyze` in-process (`main()` on in-memory streams), for what needs no
 * real pipe: duplicates counted once, bounds relative to the data, --force.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runAlf as run } from './test-cli.ts';

const root = new URL('../../../', import.meta.url).pathname;
const burstLog = join(root, 'testdata/real/secrepo/access.log.2018-12-15.gz');


let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alf-analyze-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Manifest { status: string; inputs: unknown[]; counts: Record<string, number>; notes: string[] }
const manifestOf = async (d: string): Promise<Manifest> => JSON.parse(await readFile(join(d, 'manifest.json'), 'utf8')) as Manifest;

describe('alf analyze (in-process)', () => {
  test('the same file twice is counted once; `--from -1h` keeps the last hour of the data; an existing pack needs --force', async () => {
    const out = join(dir, 'dup');
    const r = await run(['analyze', burstLog, burstLog, '--from', '-1h', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/warning: .*access\.log\.2018-12-15\.gz has the same bytes as .*; counted once/);
    expect(r.stderr).toMatch(/1 input, 4,961 lines/);
    expect(r.stderr).toMatch(/time range 2018-12-16T09:14:42Z – end: [\d,]+ records outside left out/);
    expect(r.stderr).toMatch(/bursts: none found/);
    const m = await manifestOf(out);
    expect(m.inputs).toHaveLength(1);
    expect(m.counts['duplicateInputs']).toBe(1);
    expect(m.counts['recordsOutsideTimeRange']).toBeGreaterThan(4000);
    expect(m.notes.join('\n')).toMatch(/--from\/--to resolved to 2018-12-16T09:14:42Z – end/);
    const summary = await readFile(join(out, 'summary.md'), 'utf8');
    expect(summary).toMatch(/access\\\[\.\\\]log\.2018-12-15\\\[\.\\\]gz \\\(sha256:d18bed6a0750f613\\\) was given 2 times .*counted once/);

    const again = await run(['analyze', burstLog, '--out', out, '--quiet']);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/already holds an alf evidence pack: add --force to replace it/);
    const forced = await run(['analyze', burstLog, '--out', out, '--quiet', '--force']);
    expect(forced.code).toBe(0); // a database far from the log dates is a note, not a warning
    expect((await manifestOf(out)).counts['duplicateInputs']).toBe(0);
  });
});
