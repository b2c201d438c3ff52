/**
 * Parser micro-bench: the line parser alone, on blocks held in memory (no file
 * reading, no gzip, no framing in the timed loop), so a change to the row
 * parser can be compared run against run. Prints ns per line for each repeat.
 *
 *   node --conditions=alf-source --import tsx scripts/bench/parser-micro.ts FILE [--mb 64] [--repeat 5] [--format combined]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LineFramer, ParseSession } from '@alf/parser';
import type { FramedChunk } from '@alf/parser';

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: {
    mb: { type: 'string', default: '64' },
    repeat: { type: 'string', default: '5' },
    format: { type: 'string', default: 'combined' },
  },
});
const file = positionals[0];
if (!file) throw new Error('usage: parser-micro.ts FILE [--mb 64] [--repeat 5] [--format combined]');
const all = readFileSync(file);
const bytes = all.subarray(0, Math.min(all.length, Number(values.mb) * (1 << 20)));
const framer = new LineFramer();
const blocks: FramedChunk[] = [];
for (let p = 0; p < bytes.length; p += 1 << 20) framer.push(bytes.subarray(p, Math.min(bytes.length, p + (1 << 20))), blocks);
framer.end(blocks);

for (let r = 0; r < Number(values.repeat); r++) {
  const t0 = process.hrtime.bigint();
  const session = new ParseSession({ format: values.format });
  let rows = 0;
  for (const b of blocks) for (const c of session.push(b)) rows += c.records.length;
  for (const c of session.end()) rows += c.records.length;
  const ns = Number(process.hrtime.bigint() - t0);
  const lines = session.accounting.linesRead;
  console.log(`run ${r + 1}: ${lines} lines, ${rows} records, ${(ns / lines).toFixed(0)} ns/line, ${((lines / ns) * 1e3).toFixed(2)}M lines/s`);
}
