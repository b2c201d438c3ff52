/**
 * `alf analyze --workers N`: the pack (every file but manifest.json) is the
 * same with one thread and with several, whatever the input order, for plain
 * files cut into byte ranges (ALF_RANGE_BYTES makes small files worth
 * cutting), gzip and standard input; and the cuts themselves fall after a
 * newline, never inside a CRLF, a long line or before a byte-order mark.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cutRanges, rangeAims } from './analyze-ranges.ts';
import { SECREPO_BURST_GZ, secrepoBurstLines, spawnAlf } from './test-cli.ts';

const burstLog = SECREPO_BURST_GZ;

let dir: string;
let crlf: string;
let crlfBytes: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alf-workers-test-'));
  const lines = await secrepoBurstLines();
  // Where the middle of the file falls inside the long line.
  const total = lines.reduce((n, l) => n + l.length + 2, 0) + 20_100;
  let half = 0;
  for (let at = 0; at < total / 2 - 10_000; half++) at += lines[half]!.length + 2;
  // CRLF line ends, a 20 kB line (over --max-line-bytes 1KiB) across the middle of the file, no newline at the end.
  const long = `10.0.0.1 - - [16/Dec/2018:00:30:00 -0800] "GET /${'a'.repeat(20_000)} HTTP/1.1" 200 1 "-" "x"`;
  const text = [...lines.slice(0, half), long, ...lines.slice(half)].join('\r\n');
  crlfBytes = Buffer.from(text, 'latin1');
  crlf = join(dir, 'crlf.log');
  await writeFile(crlf, crlfBytes);
}, 30_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function packFiles(pack: string): Promise<Map<string, Buffer>> {
  const entries = await readdir(pack, { recursive: true, withFileTypes: true });
  const files = new Map<string, Buffer>();
  for (const e of entries.filter((x) => x.isFile()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = join(e.parentPath, e.name).slice(pack.length + 1);
    if (rel !== 'manifest.json') files.set(rel, await readFile(join(pack, rel)));
  }
  return files;
}

/** Runs alf analyze and returns the pack's files (all but the manifest). */
async function analyze(name: string, args: string[], workers: number, input?: Buffer, records = 'all'): Promise<Map<string, Buffer>> {
  const out = join(dir, name);
  // Small ranges and parser batches: range boundaries cut parser batches (records.arrow has one batch per parser batch).
  const env = { ...process.env, ALF_RANGE_BYTES: '60000', ALF_BATCH_ROWS: '1000' };
  const run = await spawnAlf(['analyze', ...args, '--workers', String(workers), '--max-line-bytes', '1KiB', '--records', records, '--out', out, '--quiet'], input, env);
  expect(run.stderr).not.toMatch(/internal error/);
  expect([0, 1]).toContain(run.code);
  return packFiles(out);
}

describe('alf analyze --workers', () => {
  test('cuts fall right after a newline: not inside a CRLF, the 20 kB line or the unterminated last line', async () => {
    const size = (await stat(crlf)).size;
    for (const parts of [2, 3, 5]) {
      const ranges = await cutRanges(crlf, size, parts, 1000);
      expect(ranges.length).toBeGreaterThan(1);
      expect(ranges[0]!.start).toBe(0);
      expect(ranges.at(-1)!.end).toBe(size);
      for (let r = 1; r < ranges.length; r++) {
        const at = ranges[r]!.start;
        expect(ranges[r - 1]!.end).toBe(at);
        expect(crlfBytes[at - 1]).toBe(0x0a);
        expect(crlfBytes[at - 2]).toBe(0x0d);
      }
    }
    // Two parts: the middle of the file is inside the long line, so the cut comes after it.
    const [first] = await cutRanges(crlf, size, 2, 1000);
    const longStart = crlfBytes.indexOf('"GET /aaaa');
    expect(first!.end).toBeGreaterThan(longStart + 20_000);
  });

  test('tapered ranges: the last `taper` a quarter, the `taper` before them half the size of the others', async () => {
    expect(rangeAims(2200, 8)).toEqual([275, 550, 825, 1100, 1375, 1650, 1925]);
    // weights 4 4 4 4 2 2 1 1 (22): each 4 is 400 bytes of 2200
    expect(rangeAims(2200, 8, 2)).toEqual([400, 800, 1200, 1600, 1800, 2000, 2100]);
    // too few ranges to taper: even
    expect(rangeAims(2200, 7, 2)).toEqual(rangeAims(2200, 7));
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'y'.repeat(i % 37)}\n`).join('');
    const file = join(dir, 'taper.log');
    await writeFile(file, lines);
    const bytes = Buffer.from(lines);
    const ranges = await cutRanges(file, bytes.length, 12, 100, 2);
    expect(ranges).toHaveLength(12);
    expect(ranges[0]!.start).toBe(0);
    expect(ranges.at(-1)!.end).toBe(bytes.length);
    for (let r = 1; r < ranges.length; r++) {
      expect(ranges[r]!.start).toBe(ranges[r - 1]!.end);
      expect(bytes[ranges[r]!.start - 1]).toBe(0x0a);
    }
    const len = ranges.map((r) => r.end - r.start);
    const big = len.slice(0, 8);
    for (const n of len.slice(8, 10)) expect(n / Math.min(...big)).toBeLessThan(0.6);
    for (const n of len.slice(10)) expect(n / Math.min(...big)).toBeLessThan(0.35);
  });

  test('a cut is never put before a UTF-8 byte-order mark, gzip magic or NUL bytes', async () => {
    const line = 'x'.repeat(99);
    const bad = [Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([0x1f, 0x8b, 0x08]), Buffer.from([0x00])];
    const body: Buffer[] = [];
    for (let i = 0; i < 300; i++) body.push(Buffer.concat([i % 3 === 1 ? bad[i % bad.length]! : Buffer.alloc(0), Buffer.from(`${line}\n`)]));
    const bytes = Buffer.concat(body);
    const file = join(dir, 'marks.log');
    await writeFile(file, bytes);
    const ranges = await cutRanges(file, bytes.length, 7, 100);
    expect(ranges.length).toBeGreaterThan(1);
    for (const r of ranges.slice(1)) {
      expect(bytes[r.start - 1]).toBe(0x0a);
      expect([0xef, 0x1f, 0x00]).not.toContain(bytes[r.start]);
    }
  });

  test('the pack is the same with 1, 2 and 3 threads, in either input order (plain cut into ranges + gzip)', async () => {
    const one = await analyze('w1', [crlf, burstLog], 1);
    expect(one.get('bursts.csv')!.toString()).toMatch(/attack/);
    expect(one.get('rejects.csv')!.toString()).toMatch(/line_too_long/);
    for (const [name, args, workers] of [['w2', [crlf, burstLog], 2], ['w3', [burstLog, crlf], 3], ['w2r', [burstLog, crlf], 2]] as const) {
      const other = await analyze(name, [...args], workers);
      expect([...other.keys()]).toEqual([...one.keys()]);
      for (const [file, bytes] of one) expect(other.get(file)!.equals(bytes), `${name}: ${file}`).toBe(true);
    }
  }, 120_000);

  test('count tables written out as sorted runs past their budget (ALF_COUNTS_TABLE_MB): the same pack as in memory, with 1 and 2 threads', async () => {
    const inMemory = await analyze('c-mem', [crlf, burstLog], 2, undefined, 'bursts');
    expect(inMemory.get('bursts.csv')!.toString()).toMatch(/attack/);
    // A 2 kB budget: every batch of pass 2 writes its tables out; workers' runs are handed to the main thread.
    for (const workers of [1, 2]) {
      const out = join(dir, `c-runs-${workers}`);
      const env = { ...process.env, ALF_RANGE_BYTES: '60000', ALF_BATCH_ROWS: '1000', ALF_COUNTS_TABLE_MB: '0.002', ALF_TRACE: '1' };
      const run = await spawnAlf(['analyze', crlf, burstLog, '--workers', String(workers), '--max-line-bytes', '1KiB', '--records', 'bursts', '--out', out, '--quiet'], undefined, env);
      expect([0, 1]).toContain(run.code);
      const written = /count runs after pass 2: (\d+) files/.exec(run.stderr);
      expect(Number(written?.[1])).toBeGreaterThan(0);
      const spilled = await packFiles(out);
      expect([...spilled.keys()]).toEqual([...inMemory.keys()]);
      for (const [file, bytes] of inMemory) expect(spilled.get(file)!.equals(bytes), `${workers}: ${file}`).toBe(true);
    }
  }, 120_000);

  test('--records bursts and none (pass 2 spills the burst-window rows; no third read): the same pack with 1 and 2 threads', async () => {
    for (const records of ['bursts', 'none']) {
      const one = await analyze(`b1-${records}`, [crlf, burstLog], 1, undefined, records);
      expect(one.has('records.arrow')).toBe(records === 'bursts');
      const two = await analyze(`b2-${records}`, [burstLog, crlf], 2, undefined, records);
      expect([...two.keys()]).toEqual([...one.keys()]);
      for (const [file, bytes] of one) expect(two.get(file)!.equals(bytes), `${records}: ${file}`).toBe(true);
    }
  }, 120_000);

  test('gzip, by name and on standard input (its decompressed copy cut into ranges after pass 1): the same pack with 1 and 2 threads', async () => {
    // Two members; CRLF, the 20 kB line over the cap and the unterminated last line as above.
    const gzBytes = Buffer.concat([gzipSync(crlfBytes.subarray(0, 300_001)), gzipSync(crlfBytes.subarray(300_001))]);
    const gz = join(dir, 'crlf.log.gz');
    await writeFile(gz, gzBytes);
    for (const records of ['all', 'bursts']) {
      for (const [name, args, input] of [[`g-${records}`, [gz], undefined], [`gs-${records}`, ['-'], gzBytes]] as const) {
        const one = await analyze(`${name}-1`, [...args], 1, input, records);
        expect(one.get('rejects.csv')!.toString()).toMatch(/line_too_long/);
        const out = join(dir, `${name}-2`);
        const env = { ...process.env, ALF_RANGE_BYTES: '60000', ALF_BATCH_ROWS: '1000', ALF_TRACE: '1' };
        const run = await spawnAlf(['analyze', ...args, '--workers', '2', '--max-line-bytes', '1KiB', '--records', records, '--out', out, '--quiet'], input, env);
        expect([0, 1]).toContain(run.code);
        // The later passes did read the copy, in ranges.
        expect(run.stderr).toMatch(/decoded copy of .*: [2-9] ranges/);
        const two = await packFiles(out);
        expect([...two.keys()]).toEqual([...one.keys()]);
        for (const [file, bytes] of one) expect(two.get(file)!.equals(bytes), `${name}: ${file}`).toBe(true);
      }
    }
  }, 120_000);

  test('the later passes cut a file finer than pass 1, at its segments: the same pack with 1 and 2 threads', async () => {
    // Batches of 100 lines: pass 1's segments (a new one at a batch start every 7,500 bytes) are finer than its ranges.
    const env = { ...process.env, ALF_RANGE_BYTES: '60000', ALF_BATCH_ROWS: '100', ALF_TRACE: '1' };
    const packs: Map<string, Buffer>[] = [];
    for (const workers of [1, 2]) {
      const out = join(dir, `fine-${workers}`);
      const run = await spawnAlf(['analyze', crlf, '--workers', String(workers), '--max-line-bytes', '1KiB', '--records', 'bursts', '--out', out, '--quiet'], undefined, env);
      expect([0, 1]).toContain(run.code);
      if (workers === 2) {
        const m = /later ranges of .*: (\d+) \(pass 1: (\d+)\)/.exec(run.stderr);
        expect(m).not.toBeNull();
        expect(Number(m![1])).toBeGreaterThan(Number(m![2]));
      }
      packs.push(await packFiles(out));
    }
    const [one, two] = packs as [Map<string, Buffer>, Map<string, Buffer>];
    expect(one.get('rejects.csv')!.toString()).toMatch(/line_too_long/);
    expect([...two.keys()]).toEqual([...one.keys()]);
    for (const [file, bytes] of one) expect(two.get(file)!.equals(bytes), file).toBe(true);
  }, 120_000);

  test('standard input (its spill file cut into ranges after pass 1) gives the same pack with 1 and 2 threads', async () => {
    const one = await analyze('s1', ['-'], 1, crlfBytes);
    const two = await analyze('s2', ['-'], 2, crlfBytes);
    expect([...two.keys()]).toEqual([...one.keys()]);
    for (const [file, bytes] of one) expect(two.get(file)!.equals(bytes), file).toBe(true);
  }, 120_000);
});
