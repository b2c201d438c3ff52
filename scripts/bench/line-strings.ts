/**
 * Second baseline: the cost of turning every line into a JS string (one
 * `toString('utf8', start, end)` per line, partial lines carried across
 * chunks). A parser that makes a string per line cannot beat this.
 *
 *   node --conditions=alf-source --import tsx scripts/bench/line-strings.ts FILE
 */
import { createReadStream } from 'node:fs';
import { finishStep } from './protocol.ts';

async function main(file: string): Promise<void> {
  const started = performance.now();
  let lines = 0;
  let bytes = 0;
  let chars = 0;
  let carry: Buffer | undefined;
  for await (const raw of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    bytes += raw.length;
    const chunk = carry ? Buffer.concat([carry, raw]) : raw;
    let start = 0;
    let nl = chunk.indexOf(0x0a);
    while (nl !== -1) {
      const line = chunk.toString('utf8', start, nl);
      chars += line.length;
      lines++;
      start = nl + 1;
      nl = chunk.indexOf(0x0a, start);
    }
    carry = start < chunk.length ? chunk.subarray(start) : undefined;
  }
  if (carry) {
    chars += carry.toString('utf8').length;
    lines++;
  }
  // Use `chars` so the strings cannot be optimised away.
  if (chars < 0) process.stdout.write('\n');
  finishStep({ lines, bytes, seconds: (performance.now() - started) / 1000 });
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: line-strings.ts FILE\n');
  process.exit(2);
}
await main(file);
