/**
 * Baseline: the fastest a Node program can walk the input. Reads the file with
 * fs streams (through zlib when it is gzip, found by magic bytes) and counts
 * 0x0a bytes. Every other figure is compared to this one.
 *
 *   node --conditions=alf-source --import tsx scripts/bench/newline-count.ts FILE
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { finishStep, isGzipFile } from './protocol.ts';

async function main(file: string): Promise<void> {
  const started = performance.now();
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  let source: Readable = raw;
  if (isGzipFile(file)) {
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    raw.on('error', (err) => gunzip.destroy(err));
    source = raw.pipe(gunzip);
  }
  let lines = 0;
  let bytes = 0;
  let last = 0x0a;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    let i = chunk.indexOf(0x0a);
    while (i !== -1) {
      lines++;
      i = chunk.indexOf(0x0a, i + 1);
    }
    if (chunk.length > 0) last = chunk[chunk.length - 1] as number;
  }
  // A final line without newline is a line (as the parser counts it).
  if (last !== 0x0a) lines++;
  finishStep({ lines, bytes, seconds: (performance.now() - started) / 1000 });
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: newline-count.ts FILE\n');
  process.exit(2);
}
await main(file);
