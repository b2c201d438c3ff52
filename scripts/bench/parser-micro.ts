/**
 * Parser micro-bench: the line parser alone, on blocks held in memory (no file
 * reading, no gzip, no framing in the timed loop), so a change to the row
 * parser can be measured run against run. Prints ns per line for each repeat.
 * `--compare DIR` also loads another copy of the parser sources (e.g. a
 * checkout of an earlier commit's packages/parser/src) and alternates runs of
 * the two in the same process, so both see the same machine load. The best
 * CPU time per line is printed (steadier than wall time on a shared machine).
 *
 *   node --conditions=alf-source --import tsx scripts/bench/parser-micro.ts FILE [--mb 64] [--repeat 5] [--format combined] [--compare DIR] [--columns none|a,b]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LineFramer, ParseSession } from '@alf/parser';
import type { FramedChunk, ParsedChunk, ParseOptions, StringColumn } from '@alf/parser';

interface Session {
  push(c: FramedChunk): ParsedChunk[];
  end(): ParsedChunk[];
  readonly accounting: { linesRead: number };
}
type SessionCtor = new (opts: ParseOptions) => Session;

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: {
    mb: { type: 'string', default: '64' },
    repeat: { type: 'string', default: '5' },
    format: { type: 'string', default: 'combined' },
    compare: { type: 'string' },
    columns: { type: 'string' },
  },
});
const file = positionals[0];
if (!file) throw new Error('usage: parser-micro.ts FILE [--mb 64] [--repeat 5] [--format combined] [--compare DIR]');
const all = readFileSync(file);
const bytes = all.subarray(0, Math.min(all.length, Number(values.mb) * (1 << 20)));
const framer = new LineFramer();
const blocks: FramedChunk[] = [];
for (let p = 0; p < bytes.length; p += 1 << 20) framer.push(bytes.subarray(p, Math.min(bytes.length, p + (1 << 20))), blocks);
framer.end(blocks);

// --columns none | a,b,c (ParseOptions.columns); absent: every column
const columns = values.columns === undefined ? undefined : values.columns === 'none' ? [] : values.columns.split(',') as StringColumn[];
const variants: [string, SessionCtor][] = [['current', ParseSession as unknown as SessionCtor]];
if (values.compare !== undefined) {
  const mod = (await import(pathToFileURL(resolve(values.compare, 'parse-session.ts')).href)) as { ParseSession: SessionCtor };
  variants.push(['compare', mod.ParseSession]);
}

const best = new Map<string, number>();
for (let r = 0; r < Number(values.repeat); r++) {
  for (const [name, Ctor] of variants) {
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const session = new Ctor({ format: values.format, ...(columns === undefined ? {} : { columns }) });
    let rows = 0;
    for (const b of blocks) for (const c of session.push(b)) rows += c.records.length;
    for (const c of session.end()) rows += c.records.length;
    const ns = Number(process.hrtime.bigint() - t0);
    const cpu = process.cpuUsage(cpu0);
    const cpuNs = (cpu.user + cpu.system) * 1000;
    const lines = session.accounting.linesRead;
    // CPU time is the steadier figure on a shared machine (wall time includes waiting for a core)
    best.set(name, Math.min(best.get(name) ?? Infinity, cpuNs / lines));
    console.log(`${name} run ${r + 1}: ${lines} lines, ${rows} records, wall ${(ns / lines).toFixed(0)} ns/line, cpu ${(cpuNs / lines).toFixed(0)} ns/line`);
  }
}
for (const [name, ns] of best) console.log(`${name} best: ${ns.toFixed(0)} cpu ns/line`);
