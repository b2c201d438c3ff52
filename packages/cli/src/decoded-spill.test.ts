/**
 * The decompressed copy of a gzip input (decoded-spill.ts): byte-identical to what pass 1 parsed,
 * segments that add up to pass 1's accounting, ranges cut at line starts with the right line
 * bases, and every way it can fail (cap, unwritable place, plain input) leaving nothing behind.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseStream } from '@alf/parser';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { planFromSegments } from './analyze-parallel.ts';
import { DecodedSpill } from './decoded-spill.ts';
import type { DecodedSpillResult } from './decoded-spill.ts';
import { secrepoBurstLines } from './test-cli.ts';

let dir: string;
let plain: Buffer;
let gz: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alf-decoded-spill-test-'));
  // 4,961 real lines, plus odd lines spread through them.
  const lines = await secrepoBurstLines();
  const odd = ['', 'not a log line', 'x'.repeat(3000), '10.0.0.1 - - [bad time] "GET / HTTP/1.1" 200 1 "-" "-"'];
  const mixed = lines.flatMap((l, i) => (i % 97 === 5 ? [odd[i % odd.length]!, l] : [l]));
  plain = Buffer.from(`${mixed.join('\r\n')}\r\nlast line without newline`, 'latin1');
  gz = join(dir, 'mixed.log.gz');
  // Two members, as rotated-and-appended files have.
  await writeFile(gz, Buffer.concat([gzipSync(plain.subarray(0, 400_001)), gzipSync(plain.subarray(400_001))]));
}, 30_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Pass 1 as a task runs it: parse the file with the spill watching. */
async function pass1(input: string, spillPath: string, o: { markBytes?: number; capBytes?: number } = {}) {
  const spill = new DecodedSpill(spillPath, input, o);
  const { createReadStream } = await import('node:fs');
  const h = parseStream(createReadStream(input, { highWaterMark: 50_000 }), { format: 'combined', maxLineBytes: 1024, batchRows: 200, onDecoded: spill.piece });
  for await (const chunk of h) spill.add(chunk);
  return { result: await spill.finish(), read: h.result() };
}

/** Line number (1-based) of the line starting at byte `at` of `bytes`. */
const lineAt = (bytes: Buffer, at: number): number => {
  let n = 1;
  for (let i = bytes.indexOf(10); i >= 0 && i < at; i = bytes.indexOf(10, i + 1)) n++;
  return n;
};

describe('DecodedSpill', () => {
  test('the copy is the decompressed input; segments start at line starts and add up to the accounting', async () => {
    const { result, read } = await pass1(gz, join(dir, 'copy-1'), { markBytes: 50_000 });
    expect(result).not.toBeNull();
    const r = result as DecodedSpillResult;
    expect((await readFile(r.path)).equals(plain)).toBe(true);
    expect(r.bytes).toBe(plain.length);
    expect(r.segments.length).toBeGreaterThan(10);
    let parsed = 0;
    let rejected = 0;
    for (const s of r.segments) {
      expect(s.offset === 0 || plain[s.offset - 1] === 10).toBe(true);
      expect(s.line).toBe(lineAt(plain, s.offset));
      parsed += s.parsed;
      rejected += Object.values(s.byReason).reduce((a, b) => a + b, 0);
    }
    expect(read.accounting.rejected).toBeGreaterThan(40); // one odd line per 97
    expect(parsed).toBe(read.accounting.parsed);
    expect(rejected).toBe(read.accounting.rejected);
  });

  test('planFromSegments: ranges at segment starts, line bases and per-range accounting that sum to the whole', async () => {
    const { result, read } = await pass1(gz, join(dir, 'copy-2'), { markBytes: 20_000 });
    const r = result as DecodedSpillResult;
    const whole = { accounting: read.accounting, format: { id: read.format.id, detected: true, sampleMatched: 1, sampleLines: 1, tz: undefined } };
    const prev = process.env['ALF_RANGE_BYTES'];
    process.env['ALF_RANGE_BYTES'] = '100000';
    try {
      const cut = planFromSegments(r, whole, 8, 'combined');
      expect(cut).not.toBeNull();
      const { plan, bases, reads } = cut!;
      expect(plan.ranges!.length).toBeGreaterThan(3);
      expect(plan.ranges![0]!.start).toBe(0);
      expect(plan.ranges!.at(-1)!.end).toBe(plain.length);
      let lines = 0;
      for (const [i, range] of plan.ranges!.entries()) {
        if (i > 0) expect(range.start).toBe(plan.ranges![i - 1]!.end);
        expect(bases[i]).toBe(lineAt(plain, range.start) - 1);
        expect(bases[i]).toBe(lines);
        const a = reads[i]!.parts.accounting;
        expect(a.linesRead).toBe(a.parsed + a.rejected);
        expect(a.bytesRead).toBe(range.end - range.start);
        lines += a.linesRead;
      }
      expect(lines).toBe(read.accounting.linesRead);
      // Segments that do not add up (a lost line) are refused.
      const broken = { ...r, segments: r.segments.map((s, i) => (i === 3 ? { ...s, parsed: s.parsed - 1 } : s)) };
      expect(planFromSegments(broken, whole, 8, 'combined')).toBeNull();
      // Too small to cut, or no format to give the later ranges: not used.
      expect(planFromSegments(r, whole, 1, 'combined')).toBeNull();
      expect(planFromSegments(r, whole, 8, undefined)).toBeNull();
    } finally {
      if (prev === undefined) delete process.env['ALF_RANGE_BYTES'];
      else process.env['ALF_RANGE_BYTES'] = prev;
    }
  });

  test('past the cap, in an unwritable place, or for a plain input: no copy, nothing left, parsing unaffected', async () => {
    const capped = await pass1(gz, join(dir, 'copy-3'), { capBytes: 100_000 });
    expect(capped.result).toBeNull();
    expect(existsSync(join(dir, 'copy-3'))).toBe(false);
    const nowhere = await pass1(gz, join(dir, 'no-such-dir', 'copy'));
    expect(nowhere.result).toBeNull();
    const plainFile = join(dir, 'mixed.log');
    await writeFile(plainFile, plain);
    const notGzip = await pass1(plainFile, join(dir, 'copy-4'));
    expect(notGzip.result).toBeNull();
    expect(existsSync(join(dir, 'copy-4'))).toBe(false);
    // The parse saw every line each time.
    for (const p of [capped, nowhere, notGzip]) expect(p.read.accounting.linesRead).toBe(lineAt(plain, plain.length));
  });
});
