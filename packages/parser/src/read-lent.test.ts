import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { isLeasedChunk, releaseChunk } from './decode-input.ts';
import { parseStream } from './parse-stream.ts';
import { readLent } from './read-lent.ts';
import { recordRows } from './record-rows.ts';

const dir = mkdtempSync(join(tmpdir(), 'alf-read-lent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LINE = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} - - [10/Oct/2000:13:55:${String(i % 60).padStart(2, '0')} -0700] "GET /p/${i}?q=${i % 7} HTTP/1.1" ${200 + (i % 5)} ${i} "-" "agent ${i % 13}"\n`;
const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => LINE(i)).join(''));
const path = join(dir, 'access.log');
writeFileSync(path, text);

async function collect(src: AsyncIterable<Uint8Array>, release: boolean): Promise<{ bytes: Buffer; buffers: Set<ArrayBufferLike>; lent: number }> {
  const parts: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  let lent = 0;
  for await (const c of src) {
    parts.push(Buffer.from(c));
    buffers.add(c.buffer);
    if (isLeasedChunk(c)) lent++;
    if (release) releaseChunk(c);
  }
  return { bytes: Buffer.concat(parts), buffers, lent };
}

describe('readLent', () => {
  test('reads every byte of [start, end) exactly, whatever the chunk size and range', async () => {
    const fh = await open(path, 'r');
    try {
      const ranges = [[0, undefined], [0, text.length], [17, 100_003], [text.length - 3, undefined], [500, 500], [text.length, undefined]] as const;
      const cases: [number, number, number | undefined][] = [[7, 17, 20_003], [7, 0, 7], [7, 5, 5]];
      for (const chunkBytes of [4096, 65_536, 1 << 20, text.length + 5]) for (const [start, end] of ranges) cases.push([chunkBytes, start, end]);
      for (const [chunkBytes, start, end] of cases) {
        const got = await collect(readLent(fh, { start, end, chunkBytes }), true);
        expect(got.bytes.equals(text.subarray(start, end))).toBe(true);
      }
    } finally {
      await fh.close();
    }
  });

  test('chunks handed back are read into again: a few buffers for the whole file; kept chunks are never rewritten', async () => {
    const fh = await open(path, 'r');
    try {
      const released = await collect(readLent(fh, { chunkBytes: 65_536 }), true);
      expect(released.bytes.equals(text)).toBe(true);
      expect(released.lent).toBeGreaterThan(20);
      expect(released.buffers.size).toBeLessThanOrEqual(4);
      // kept: every chunk a buffer of its own, intact at the end
      const kept: { chunk: Uint8Array; copy: Buffer }[] = [];
      for await (const c of readLent(fh, { chunkBytes: 65_536 })) kept.push({ chunk: c, copy: Buffer.from(c) });
      expect(new Set(kept.map((k) => k.chunk.buffer)).size).toBe(kept.length);
      for (const k of kept) expect(Buffer.from(k.chunk).equals(k.copy)).toBe(true);
    } finally {
      await fh.close();
    }
  });

  test('through the parser: the same rows as one whole buffer, and the parser hands the chunks back', async () => {
    const rows = async (src: AsyncIterable<Uint8Array>): Promise<unknown[]> => {
      const h = parseStream(src, { format: 'combined' });
      const batches = [];
      for await (const c of h) batches.push(c.records);
      expect(h.result().accounting.linesRead).toBe(40_000);
      return recordRows(batches);
    };
    const want = await rows((async function* () { yield readFileSync(path); })());
    const fh = await open(path, 'r');
    const buffers = new Set<ArrayBufferLike>();
    try {
      const got = await rows((async function* () {
        for await (const c of readLent(fh, { chunkBytes: 65_536 })) {
          buffers.add(c.buffer);
          yield c;
        }
      })());
      expect(got).toEqual(want);
    } finally {
      await fh.close();
    }
    // ~55 chunks, read into the few buffers the framer handed back
    expect(buffers.size).toBeLessThanOrEqual(4);
  });

  test('an aborted signal ends the read with its reason; a consumer that stops early leaves no read in flight', async () => {
    const fh = await open(path, 'r');
    try {
      const ac = new AbortController();
      let n = 0;
      await expect((async () => {
        for await (const c of readLent(fh, { chunkBytes: 4096, signal: ac.signal })) {
          releaseChunk(c);
          if (++n === 3) ac.abort(new Error('stop here'));
        }
      })()).rejects.toThrow('stop here');
      expect(n).toBe(3);
      for await (const c of readLent(fh, { chunkBytes: 4096 })) {
        expect(c.length).toBe(4096);
        break;
      }
    } finally {
      await fh.close();
    }
  });
});
