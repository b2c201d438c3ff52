import { execFileSync } from 'node:child_process';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeInput, newDecodeReport } from './decode-input.ts';
import { DEFAULT_TARGET_BLOCK_BYTES, frameLines, keepBlock, LineFramer, SKIPPED_HEAD_BYTES } from './frame-lines.ts';
import { RING_SLOTS } from './gzip-ring.ts';
import type { FramedChunk } from './types.ts';

/** One line as a test sees it: kept (its latin1 text, newline included) or skipped. */
interface SeenLine {
  line: number;
  offset: number;
  text?: string;
  tooLong?: { length: number; head: string };
}

/** The obvious framing, for comparison: split at '\n', skip a leading UTF-8 BOM. */
function reference(bytes: Buffer, maxLineBytes = 1 << 20): SeenLine[] {
  const out: SeenLine[] = [];
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let line = 1;
  while (start < bytes.length) {
    const nl = bytes.indexOf(10, start);
    const end = nl < 0 ? bytes.length : nl;
    const length = end - start;
    if (length > maxLineBytes) {
      out.push({ line, offset: start, tooLong: { length, head: bytes.toString('latin1', start, start + Math.min(length, SKIPPED_HEAD_BYTES)) } });
    } else {
      out.push({ line, offset: start, text: bytes.toString('latin1', start, nl < 0 ? end : nl + 1) });
    }
    line++;
    start = nl < 0 ? bytes.length : nl + 1;
  }
  return out;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`framing invariant broken: ${what}`);
}

/** Frames back into lines, checking the block invariants on the way (plain checks: this runs per line). */
function flatten(chunks: FramedChunk[]): SeenLine[] {
  const out: SeenLine[] = [];
  let nextLine = 1;
  for (const c of chunks) {
    if (c.kind === 'too_long') {
      check(c.line === nextLine, `skipped line ${c.line}, expected ${nextLine}`);
      out.push({ line: c.line, offset: c.byteOffset, tooLong: { length: c.length, head: Buffer.from(c.head).toString('latin1') } });
      nextLine++;
      continue;
    }
    check(c.firstLine === nextLine, `block starts at line ${c.firstLine}, expected ${nextLine}`);
    check(c.lineCount > 0, 'empty block');
    check(c.text.length === c.bytes.length, 'text length differs from bytes');
    check(c.text === Buffer.from(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength).toString('latin1'), 'text is not the latin1 of bytes');
    let pos = 0;
    for (let i = 0; i < c.lineCount; i++) {
      const nl = c.text.indexOf('\n', pos);
      const end = nl < 0 ? c.text.length : nl + 1;
      out.push({ line: c.firstLine + i, offset: c.baseOffset + pos, text: c.text.slice(pos, end) });
      pos = end;
    }
    check(pos === c.text.length, `block of ${c.lineCount} lines has more text`);
    nextLine += c.lineCount;
  }
  // Every line but the input's last ends with its newline.
  for (let i = 0; i < out.length - 1; i++) {
    const t = out[i]!.text;
    check(t === undefined || t.endsWith('\n'), `line ${out[i]!.line} lacks its newline`);
  }
  return out;
}

/** toEqual, fast when equal (deep-equal on 10k objects is slow), with its diff when not. */
function expectSame(got: SeenLine[], want: SeenLine[]): void {
  if (JSON.stringify(got) !== JSON.stringify(want)) expect(got).toEqual(want);
}

async function* chunked(bytes: Uint8Array, sizes: number | number[]): AsyncGenerator<Uint8Array> {
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const n = Math.max(1, typeof sizes === 'number' ? sizes : sizes[k++ % sizes.length]!);
    yield bytes.subarray(i, i + n);
    i += n;
  }
}

async function frame(src: AsyncIterable<Uint8Array>, opts: { maxLineBytes?: number; targetBlockBytes?: number } = {}): Promise<FramedChunk[]> {
  const out: FramedChunk[] = [];
  for await (const c of frameLines(src, opts)) out.push(c);
  return out;
}

async function lines(s: string | Buffer, sizes: number | number[] = 1 << 20, opts: { maxLineBytes?: number; targetBlockBytes?: number } = {}): Promise<SeenLine[]> {
  return flatten(await frame(chunked(typeof s === 'string' ? Buffer.from(s, 'latin1') : s, sizes), opts));
}

describe('line breaks', () => {
  test.for([
    ['one line with newline', 'a b c\n', [[1, 0, 'a b c\n']]],
    ['final line without newline is kept', 'a\nbc', [[1, 0, 'a\n'], [2, 2, 'bc']]],
    ['CRLF: the CR stays in the line', 'a\r\nb\r\n', [[1, 0, 'a\r\n'], [2, 3, 'b\r\n']]],
    ['lone CR is not a line break', 'a\rb\rc\nd', [[1, 0, 'a\rb\rc\n'], [2, 6, 'd']]],
    ['a final lone CR stays', 'a\r', [[1, 0, 'a\r']]],
    ['empty lines are lines', '\n\na\n\n', [[1, 0, '\n'], [2, 1, '\n'], [3, 2, 'a\n'], [4, 4, '\n']]],
    ['just a newline', '\n', [[1, 0, '\n']]],
    ['UTF-8 BOM skipped, offsets count it', '\xef\xbb\xbfa\nb\n', [[1, 3, 'a\n'], [2, 5, 'b\n']]],
    ['BOM only', '\xef\xbb\xbf', []],
    ['a BOM later is data', 'a\n\xef\xbb\xbfb\n', [[1, 0, 'a\n'], [2, 2, '\xef\xbb\xbfb\n']]],
    ['NUL and high bytes are data', 'a\0\xff\n', [[1, 0, 'a\0\xff\n']]],
  ] as const)('%s', async ([, input, expected]) => {
    const want = expected.map(([line, offset, text]) => ({ line, offset, text }));
    for (const size of [1, 2, 3, 5, 1 << 20]) expect(await lines(input, size)).toEqual(want);
  });

  test('empty input emits nothing', async () => {
    expect(await frame(chunked(Buffer.alloc(0), 1))).toEqual([]);
    expect(await frame((async function* () { yield new Uint8Array(0); yield new Uint8Array(0); })())).toEqual([]);
  });

  test('a chunk boundary inside a UTF-8 sequence or inside CRLF changes nothing', async () => {
    const s = Buffer.from('héllo wörld €\r\nzweite Zeile ✓\r\n', 'utf8');
    const want = reference(s);
    for (let cut = 1; cut < s.length; cut++) expectSame(await lines(s, [cut, s.length]), want);
  });

  test('plain Uint8Array chunks (not Buffers) work', async () => {
    const u = new Uint8Array(Buffer.from('a\nb\n'));
    expect(flatten(await frame((async function* () { yield u; })()))).toEqual(reference(Buffer.from(u)));
  });
});

describe('blocks', () => {
  const text = Buffer.from(Array.from({ length: 8_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 97)}\n`).join(''));

  test('a big chunk is cut into blocks that are views of it (no copy)', async () => {
    const chunks = await frame((async function* () { yield text; })(), { targetBlockBytes: 64 * 1024 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) {
      if (c.kind !== 'lines') throw new Error('unexpected');
      expect(c.bytes.buffer).toBe(text.buffer);
      expect(c.bytes.length).toBeLessThanOrEqual(64 * 1024 + 200);
    }
    expectSame(flatten(chunks), reference(text));
  });

  test('small chunks are gathered into blocks of about the target size', async () => {
    const chunks = await frame(chunked(text, 1000), { targetBlockBytes: 256 * 1024 });
    const sizes = chunks.map((c) => (c.kind === 'lines' ? c.bytes.length : 0));
    sizes.slice(0, -1).forEach((n) => expect(n).toBeGreaterThanOrEqual(256 * 1024));
    sizes.forEach((n) => expect(n).toBeLessThan(256 * 1024 + 1200));
    expectSame(flatten(chunks), reference(text));
  });

  test('by default, blocks of ordinary lines stay under 128 KiB (V8 young-generation strings), whatever the read size', async () => {
    const big = Buffer.concat(Array.from({ length: 12 }, () => text)); // ~1.5 MB of ~60-byte lines
    for (const size of [1000, 64 * 1024, 100 * 1024, 256 * 1024, 1 << 20, big.length]) {
      const chunks = await frame(chunked(big, size));
      const sizes = chunks.map((c) => (c.kind === 'lines' ? c.bytes.length : 0));
      expect(Math.max(...sizes)).toBeLessThan(128 * 1024);
      // Not cut needlessly small either: on average more than half the target.
      expect(big.length / chunks.length).toBeGreaterThan(DEFAULT_TARGET_BLOCK_BYTES / 2);
      expectSame(flatten(chunks), reference(big));
    }
  });

  test('blocks stay valid after later chunks arrive (nothing is rewritten)', async () => {
    const chunks = await frame(chunked(text, 4096), { targetBlockBytes: 10_000 });
    const texts = chunks.map((c) => (c.kind === 'lines' ? Buffer.from(c.bytes).toString('latin1') : ''));
    chunks.forEach((c, i) => c.kind === 'lines' && expect(c.text).toBe(texts[i]));
  });

  test('LineFramer gives the same as frameLines', () => {
    const f = new LineFramer({ targetBlockBytes: 5000 });
    const out: FramedChunk[] = [];
    for (let i = 0; i < text.length; i += 777) f.push(text.subarray(i, i + 777), out);
    f.end(out);
    expectSame(flatten(out), reference(text));
  });
});

describe('over-long lines', () => {
  test('a line over the cap is skipped with its number, offset, length and first bytes', async () => {
    const s = 'ok\n' + 'y'.repeat(50) + '\nfine\n' + 'z'.repeat(11) + '\n' + 'w'.repeat(10) + '\n' + 'q'.repeat(30);
    for (const size of [1, 4, 7, 1000]) {
      const got = await lines(s, size, { maxLineBytes: 10 });
      expect(got).toEqual([
        { line: 1, offset: 0, text: 'ok\n' },
        { line: 2, offset: 3, tooLong: { length: 50, head: 'y'.repeat(50) } },
        { line: 3, offset: 54, text: 'fine\n' },
        { line: 4, offset: 59, tooLong: { length: 11, head: 'z'.repeat(11) } },
        { line: 5, offset: 71, text: 'w'.repeat(10) + '\n' },
        { line: 6, offset: 82, tooLong: { length: 30, head: 'q'.repeat(30) } },
      ]);
    }
  });

  test('a 10 MB line: skipped, head is its first 200 bytes, the lines around it intact', async () => {
    const long = Buffer.alloc(10_000_000, 'L');
    long.write('HEAD-', 0);
    const s = Buffer.concat([Buffer.from('before\r\n'), long, Buffer.from('\r\nafter\n')]);
    for (const size of [65536, 1 << 20, s.length]) {
      const got = await lines(s, size);
      expect(got).toEqual([
        { line: 1, offset: 0, text: 'before\r\n' },
        { line: 2, offset: 8, tooLong: { length: 10_000_001, head: 'HEAD-' + 'L'.repeat(195) } },
        { line: 3, offset: 10_000_010, text: 'after\n' },
      ]);
    }
  });

  test('a line exactly at the cap is kept', async () => {
    expect(await lines('abcd\nabcde\n', 2, { maxLineBytes: 4 })).toEqual([
      { line: 1, offset: 0, text: 'abcd\n' },
      { line: 2, offset: 5, tooLong: { length: 5, head: 'abcde' } },
    ]);
  });

  test('a 1 GiB line is skipped with memory growth under twice the cap', async () => {
    const cap = 1 << 20;
    const piece = Buffer.alloc(256 * 1024, 'x');
    const before = process.memoryUsage();
    let peakBuffers = 0;
    let peakHeap = 0;
    const sample = (): void => {
      const m = process.memoryUsage();
      peakBuffers = Math.max(peakBuffers, m.arrayBuffers - before.arrayBuffers);
      peakHeap = Math.max(peakHeap, m.heapUsed - before.heapUsed);
    };
    async function* src(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('first\n');
      for (let i = 0; i < 4096; i++) {
        if (i % 16 === 0) sample();
        yield piece; // the same buffer again and again: the source holds nothing
      }
      yield Buffer.from('\nlast\n');
    }
    const got = await frame(src(), { maxLineBytes: cap });
    sample();
    expect(peakBuffers).toBeLessThan(2 * cap); // what the framer holds lives in Buffers
    expect(peakHeap).toBeLessThan(32 * cap); // JS heap: only garbage between collections
    expect(flatten(got)).toEqual([
      { line: 1, offset: 0, text: 'first\n' },
      { line: 2, offset: 6, tooLong: { length: 1 << 30, head: 'x'.repeat(200) } },
      { line: 3, offset: 6 + (1 << 30) + 1, text: 'last\n' },
    ]);
  });

  test('a 128 MiB line inside gzip is skipped with flat memory', async () => {
    const mib = zlib.gzipSync(Buffer.alloc(1 << 20, 'g'), { level: 9 });
    const tail = zlib.gzipSync(Buffer.from('\nafter\n'));
    async function* src(): AsyncGenerator<Uint8Array> {
      yield zlib.gzipSync(Buffer.from('before\n'));
      for (let i = 0; i < 128; i++) yield mib;
      yield tail;
    }
    const report = newDecodeReport();
    const before = process.memoryUsage();
    let peak = 0;
    const got: FramedChunk[] = [];
    for await (const c of frameLines(decodeInput(src(), report))) {
      got.push(c);
      const m = process.memoryUsage();
      peak = Math.max(peak, m.rss - before.rss);
    }
    expect(report.members).toBe(130);
    expect(flatten(got)).toEqual([
      { line: 1, offset: 0, text: 'before\n' },
      { line: 2, offset: 7, tooLong: { length: 128 * (1 << 20), head: 'g'.repeat(200) } },
      { line: 3, offset: 7 + 128 * (1 << 20) + 1, text: 'after\n' },
    ]);
    // Buffering the line would take 128 MiB on top of everything else. RSS growth also holds
    // decoded 1 MiB chunks waiting for GC, which newer V8s (Node 24) collect later: 63 MiB seen
    // there, ~30 MiB on Node 20. The bound tells the two cases apart on both.
    expect(peak).toBeLessThan(96 * (1 << 20));
  });
});

describe('properties', () => {
  /** Bytes rich in what breaks framers: newlines, CR, multi-byte UTF-8, NUL, a BOM. */
  const nasty = fc
    .array(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('a', 'GET /x ', '200 ', '"-" ') },
        { weight: 3, arbitrary: fc.constant('\n') },
        { weight: 1, arbitrary: fc.constantFrom('\r', '\r\n', 'é', '€', '✓', '\u2028', '\0', '\xff') },
        { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
      ),
      { maxLength: 200 },
    )
    .chain((parts) => fc.boolean().map((bom) => Buffer.from((bom ? '\ufeff' : '') + parts.join(''), 'utf8')));

  test('any chunking, cap and block size give the lines of the reference framing', async () => {
    await fc.assert(
      fc.asyncProperty(
        nasty,
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 300 }),
        async (bytes, sizes, maxLineBytes, targetBlockBytes) => {
          const got = await lines(bytes, sizes, { maxLineBytes, targetBlockBytes });
          expectSame(got, reference(bytes, maxLineBytes));
        },
      ),
      { numRuns: 400 },
    );
  });

  test('through gzip cut at random points (inside blocks, members, headers) the lines are the same', async () => {
    await fc.assert(
      fc.asyncProperty(
        nasty,
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 3 }),
        async (bytes, sizes, memberCuts) => {
          // Split into members at random points (also inside UTF-8 sequences and CRLF).
          const cuts = [...new Set(memberCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const pieces: Buffer[] = [];
          let at = 0;
          for (const c of [...cuts, bytes.length]) { pieces.push(zlib.gzipSync(bytes.subarray(at, c))); at = c; }
          const report = newDecodeReport();
          const got = flatten(await frame(decodeInput(chunked(Buffer.concat(pieces), sizes), report)));
          expectSame(got, reference(bytes));
          expect(report.flags).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('random bytes never throw and every byte belongs to exactly one line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 1, max: 100 }), async (u, size) => {
        const bytes = Buffer.from(u);
        const got = await lines(bytes, size, { maxLineBytes: 50 });
        const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
        let covered = bom;
        for (const l of got) {
          expect(l.offset).toBe(covered);
          covered += l.text !== undefined ? l.text.length : l.tooLong!.length + (covered + l.tooLong!.length < bytes.length ? 1 : 0);
        }
        expect(covered).toBe(bytes.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decoded gzip pieces are only lent to the framer', () => {
  // long lines over the cap (skipped), lines just under it spanning pieces, runs of empty
  // lines and ordinary lines: pieces are handed back and refilled while blocks are kept
  const parts: Buffer[] = [];
  for (let r = 0; r < 3; r++) {
    parts.push(Buffer.from(Array.from({ length: 3000 }, (_, i) => `line ${r}.${i} ${'x'.repeat(i % 151)}\n`).join('')));
    parts.push(Buffer.alloc(3 * 1024 * 1024 + r, 0x41 + r), Buffer.from('\n'));
    parts.push(Buffer.alloc(200_000 + r, 0x0a));
    parts.push(Buffer.alloc((1 << 20) - 7 - r, 0x61 + r), Buffer.from('\n'));
    parts.push(Buffer.alloc(300_000, 0x62), Buffer.from('\nshort\n'));
  }
  const text = Buffer.concat(parts);
  const gz = zlib.gzipSync(text, { level: 1 });

  test.for([false, true])('blocks kept to the end are intact (inflate thread: %s)', async (inflateThread) => {
    for (const size of [65536, 1 << 20]) {
      const report = newDecodeReport();
      const chunks = await frame(decodeInput(chunked(gz, size), report, { inflateThread }));
      expectSame(flatten(chunks), reference(text));
      expect(report.flags).toEqual([]);
    }
  });

  test('inline, pieces the framer keeps nothing of go round: a few buffers for 20 MiB', async () => {
    const buffers = new Set<ArrayBufferLike>();
    async function* spy(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      for await (const c of src) {
        buffers.add(c.buffer);
        yield c;
      }
    }
    const skipped = zlib.gzipSync(Buffer.concat([Buffer.from('a\n'), Buffer.alloc(10 << 20, 0x41), Buffer.alloc(10 << 20, 0x0a)]), { level: 1 });
    const chunks = await frame(spy(decodeInput(chunked(skipped, 65536), newDecodeReport(), { inflateThread: false })));
    const lines = chunks.reduce((n, c) => n + (c.kind === 'lines' ? c.lineCount : 1), 0);
    expect(lines).toBe(1 + (10 << 20)); // "a", the long line (ended by the first newline), then empty lines
    expect(buffers.size).toBeLessThanOrEqual(3);
  });

  /**
   * frameLines with lendBlocks over leased pieces, each block read as it arrives (as the parser
   * does): the lines, a snapshot of every block's bytes at its turn, the blocks themselves, and the
   * distinct buffers of the lent blocks.
   */
  async function lendAndRead(inflateThread: boolean, size: number): Promise<{ atTurn: FramedChunk[]; snapshots: Buffer[]; blocks: FramedChunk[]; lentBuffers: Set<ArrayBufferLike> }> {
    const atTurn: FramedChunk[] = [];
    const snapshots: Buffer[] = [];
    const blocks: FramedChunk[] = [];
    const lentBuffers = new Set<ArrayBufferLike>();
    for await (const c of frameLines(decodeInput(chunked(gz, size), newDecodeReport(), { inflateThread }), { lendBlocks: true })) {
      blocks.push(c);
      if (c.kind === 'lines') {
        const bytes = Buffer.from(c.bytes);
        snapshots.push(bytes);
        atTurn.push({ kind: 'lines', bytes, text: c.text, firstLine: c.firstLine, baseOffset: c.baseOffset, lineCount: c.lineCount });
        if (c.lent === true) lentBuffers.add(c.bytes.buffer);
      } else {
        snapshots.push(Buffer.alloc(0));
        atTurn.push(c);
      }
    }
    return { atTurn, snapshots, blocks, lentBuffers };
  }

  test.for([false, true])('lendBlocks: blocks are views of the pieces, read at their turn they give the lines; the pieces go round (inflate thread: %s)', async (inflateThread) => {
    for (const size of [65536, 1 << 20]) {
      const { atTurn, blocks, lentBuffers } = await lendAndRead(inflateThread, size);
      expectSame(flatten(atTurn), reference(text));
      const lent = blocks.filter((c) => c.kind === 'lines' && c.lent === true);
      expect(lent.length).toBeGreaterThan(10);
      // no copy per block: every lent block is a view of one of the few buffers that go round
      expect(lentBuffers.size).toBeLessThanOrEqual(inflateThread ? RING_SLOTS : 2);
    }
  });

  test('lendBlocks: a lent block kept past its turn is rewritten, keepBlock keeps it intact', async () => {
    const { snapshots, blocks } = await lendAndRead(false, 65536);
    let rewritten = 0;
    blocks.forEach((c, i) => {
      if (c.kind === 'lines' && c.lent === true && !Buffer.from(c.bytes).equals(snapshots[i]!)) rewritten++;
    });
    expect(rewritten).toBeGreaterThan(0);
    const kept: FramedChunk[] = [];
    for await (const c of frameLines(decodeInput(chunked(gz, 65536), newDecodeReport(), { inflateThread: false }), { lendBlocks: true })) {
      kept.push(c.kind === 'lines' ? keepBlock(c) : c);
    }
    expect(kept.some((c) => c.kind === 'lines' && c.lent === true)).toBe(false);
    expectSame(flatten(kept), reference(text));
  });
});

describe('real logs in testdata/real', () => {
  const root = join(new URL('../../../', import.meta.url).pathname, 'testdata/real');
  const sourceCounts: [string, number][] = [
    ['nasa-http/NASA_access_log_Aug95.first20000.log.gz', 20_000],
    ['elastic-examples/apache_logs.gz', 10_000],
    ['secrepo/access.log.2018-12-15.gz', 4_961],
    ['secrepo/access.log.2021-10-22_to_2021-10-27.gz', 5_854],
    ['secrepo/access.log.2022-12-22.gz', 1_262],
    ['nielsbasjes-logparser/hackers-access.log.gz', 3_456],
  ];

  async function countLines(path: string): Promise<{ lines: number; skipped: number }> {
    let lines = 0;
    let skipped = 0;
    for await (const c of frameLines(decodeInput(createReadStream(path, { highWaterMark: 1 << 20 }), newDecodeReport()), { maxLineBytes: 1 << 20 })) {
      if (c.kind === 'lines') lines += c.lineCount;
      else skipped++;
    }
    return { lines, skipped };
  }

  test.for(sourceCounts)('%s has the line count SOURCES.md gives (%i = zcat | wc -l)', async ([file, want]) => {
    const path = join(root, file);
    const wc = Number(execFileSync('sh', ['-c', `zcat "$1" | wc -l`, 'sh', path]).toString().trim());
    expect(wc).toBe(want);
    expect(await countLines(path)).toEqual({ lines: want, skipped: 0 });
  });

  test('every plain log: lines = newline count, plus one when the last line has no newline', async () => {
    const files: string[] = [];
    for (const dir of readdirSync(root)) {
      const d = join(root, dir);
      if (!statSync(d).isDirectory() || dir === 'maxmind-db') continue;
      for (const f of readdirSync(d)) if (!f.endsWith('.gz') && !f.endsWith('.md') && statSync(join(d, f)).isFile()) files.push(join(d, f));
    }
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) {
      const bytes = readFileSync(f);
      let nl = 0;
      for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) nl++;
      const want = nl + (bytes.length > 0 && bytes[bytes.length - 1] !== 10 ? 1 : 0);
      expect((await countLines(f)).lines, f).toBe(want);
    }
  });
});
