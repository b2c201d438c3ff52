import { afterAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AlfError } from '@alf/parser';
import { MANIFEST_NAME } from './manifest.ts';
import { createPack } from './pack-writer.ts';
import { verifyPack } from './verify.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
});
const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

const INPUT_A = '1.2.3.4 - - [29/Mar/2021:10:15:00 +0000] "GET / HTTP/1.1" 200 1\n';
const INPUT_B = '5.6.7.8 - - [29/Mar/2021:10:15:01 +0000] "GET /x HTTP/1.1" 404 0\n';

/** A small finished pack plus the two input files it records (b.log read only halfway). */
async function samplePack(): Promise<{ dir: string; a: string; b: string; tmp: string }> {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'alf-verify-'));
  dirs.push(tmp);
  const a = path.join(tmp, 'a.log');
  const b = path.join(tmp, 'b.log');
  await fsp.writeFile(a, INPUT_A);
  await fsp.writeFile(b, INPUT_B);
  const dir = path.join(tmp, 'pack');
  const pack = await createPack(dir, { tool: { name: 'alf', version: '0.1.0' }, argv: ['alf', 'analyze', a, b, '-'] });
  await pack.writeFile('bursts.csv', 'burst_id\nb1\n');
  await pack.writeFile('evidence/b1.log', INPUT_A);
  await pack.writeFile('summary.md', '# Summary\n');
  await pack.finish({
    inputs: [
      { path: a, stdin: false, size: INPUT_A.length, sha256: sha(INPUT_A), complete: true },
      { path: b, stdin: false, size: 20, sha256: sha(INPUT_B.slice(0, 20)), complete: false },
      { path: '-', stdin: true, size: 6, sha256: sha('stdin\n'), complete: true },
    ],
  });
  return { dir, a, b, tmp };
}

describe('verifyPack', () => {
  test('an intact pack verifies, inputs included (a partly read input by its prefix, stdin by content)', async () => {
    const { dir, a, b, tmp } = await samplePack();
    const stdinCopy = path.join(tmp, 'stdin-copy.log');
    await fsp.writeFile(stdinCopy, 'stdin\n');
    const r = await verifyPack(dir, { inputs: [a, b, stdinCopy] });
    expect(r.errors).toEqual([]);
    expect(r).toMatchObject({ ok: true, status: 'complete', checked: 3, changed: [], missing: [], extra: [] });
    expect(r.inputs.map((i) => [i.status, i.matched])).toEqual([
      ['ok', a],
      ['ok', b],
      ['ok', '-'],
    ]);
  });

  test('detects a flipped byte', async () => {
    const { dir } = await samplePack();
    const f = path.join(dir, 'evidence/b1.log');
    const bytes = await fsp.readFile(f);
    bytes[7] = (bytes[7] as number) ^ 0x01;
    await fsp.writeFile(f, bytes);
    const r = await verifyPack(dir);
    expect(r.ok).toBe(false);
    expect(r.changed).toEqual([
      { path: 'evidence/b1.log', reason: 'content', expectedSize: INPUT_A.length, actualSize: INPUT_A.length, expectedSha256: sha(INPUT_A), actualSha256: sha(bytes) },
    ]);
    expect(r.missing).toEqual([]);
    expect(r.extra).toEqual([]);
  });

  test('detects a deleted file and an added file (temp leftovers too), ignoring only the manifest', async () => {
    const { dir } = await samplePack();
    await fsp.rm(path.join(dir, 'summary.md'));
    await fsp.writeFile(path.join(dir, 'evidence', 'b2.log'), 'x');
    await fsp.writeFile(path.join(dir, '.bursts.csv.alf-tmp-0123456789ab'), 'x');
    const r = await verifyPack(dir);
    expect(r.ok).toBe(false);
    expect(r.missing).toEqual(['summary.md']);
    expect(r.extra).toEqual(['.bursts.csv.alf-tmp-0123456789ab', 'evidence/b2.log']);
    expect(r.changed).toEqual([]);
  });

  test('a symlink in place of a listed file is a change and is not followed', async () => {
    const { dir, tmp } = await samplePack();
    const copy = path.join(tmp, 'copy.csv');
    await fsp.copyFile(path.join(dir, 'bursts.csv'), copy); // same bytes: following the link would pass
    await fsp.rm(path.join(dir, 'bursts.csv'));
    await fsp.symlink(copy, path.join(dir, 'bursts.csv'));
    const r = await verifyPack(dir);
    expect(r.ok).toBe(false);
    expect(r.changed).toMatchObject([{ path: 'bursts.csv', reason: 'not_a_file', actualSha256: null }]);
  });

  test('detects changed, unknown and unreadable inputs', async () => {
    const { dir, a, tmp } = await samplePack();
    await fsp.appendFile(a, 'appended after the run\n');
    const other = path.join(tmp, 'other.log');
    await fsp.writeFile(other, 'never seen');
    const r = await verifyPack(dir, { inputs: [a, other, path.join(tmp, 'missing.log')] });
    expect(r.ok).toBe(false);
    expect(r.changed).toEqual([]);
    expect(r.inputs.map((i) => i.status)).toEqual(['changed', 'unknown', 'unreadable']);
    expect(r.inputs[0]).toMatchObject({ matched: a, expectedSha256: sha(INPUT_A) });
    expect(r.inputs[2]?.detail).toBe('ENOENT');
  });

  test('a missing or tampered manifest is reported, a missing pack throws', async () => {
    const { dir, tmp } = await samplePack();
    const m = path.join(dir, MANIFEST_NAME);
    const text = await fsp.readFile(m, 'utf8');
    await fsp.writeFile(m, text.replace('"path": "bursts.csv"', '"path": "../a.log"'));
    const r1 = await verifyPack(dir);
    expect(r1.ok).toBe(false);
    expect(r1.errors).toEqual(['manifest lists an unsafe file name "../a.log"; not checked']);
    expect(r1.extra).toEqual(['bursts.csv']);
    await fsp.rm(m);
    const r2 = await verifyPack(dir);
    expect(r2).toMatchObject({ ok: false, manifest: null, status: null, errors: ['manifest.json is missing'] });
    expect(r2.extra).toEqual(['bursts.csv', 'evidence/b1.log', 'summary.md']);
    await expect(verifyPack(path.join(tmp, 'nope'))).rejects.toMatchObject({ code: 'ALF_INPUT_UNREADABLE' });
    await expect(verifyPack(path.join(tmp, 'nope'))).rejects.toBeInstanceOf(AlfError);
  });

  test('an interrupted pack can be intact: status says so', async () => {
    const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'alf-verify-'));
    dirs.push(tmp);
    const pack = await createPack(path.join(tmp, 'p'), { tool: { name: 'alf', version: '0' }, argv: [] });
    await pack.writeFile('bursts.csv', 'x');
    await pack.abort('SIGTERM');
    const r = await verifyPack(path.join(tmp, 'p'));
    expect(r).toMatchObject({ ok: true, status: 'interrupted', checked: 1 });
  });
});
