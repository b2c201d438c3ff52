/**
 * Framing of inputs made of tiny lines: blocks are capped in lines as well as
 * in bytes, so a megabyte of empty lines never becomes a million rejects at
 * once (memory per block stays bounded whatever the line length).
 */
import { describe, expect, test } from 'vitest';
import { DEFAULT_MAX_BLOCK_LINES, frameLines } from './frame-lines.ts';
import { parseStream } from './parse-stream.ts';

async function* chunks(b: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

describe('blocks of tiny lines', () => {
  test.for([1 << 20, 4096, 7])('1M empty lines (chunks of %i bytes): no block over the line cap, every line counted once', async (size) => {
    const input = Buffer.alloc(1_000_000, 0x0a);
    let lines = 0;
    let next = 1;
    let biggest = 0;
    for await (const c of frameLines(chunks(input, size))) {
      if (c.kind !== 'lines') throw new Error(`unexpected ${c.kind}`);
      expect(c.firstLine).toBe(next);
      next += c.lineCount;
      lines += c.lineCount;
      biggest = Math.max(biggest, c.lineCount);
    }
    expect(lines).toBe(1_000_000);
    expect(biggest).toBeLessThanOrEqual(2 * DEFAULT_MAX_BLOCK_LINES);
  });

  test('the parser gets chunks of at most ~the cap in rejects; accounting exact', async () => {
    const input = Buffer.concat([Buffer.alloc(300_000, 0x0a), Buffer.from('x\n'.repeat(200_000))]);
    const handle = parseStream(chunks(input, 1 << 20), { format: 'combined' });
    let most = 0;
    let rejects = 0;
    for await (const c of handle.chunks) {
      most = Math.max(most, c.rejects.length);
      rejects += c.rejects.length;
    }
    expect(most).toBeLessThanOrEqual(2 * DEFAULT_MAX_BLOCK_LINES);
    expect(rejects).toBe(500_000);
    expect(handle.result().accounting).toMatchObject({ linesRead: 500_000, rejected: 500_000, byReason: { empty: 300_000, field_count: 200_000 } });
  });
});
