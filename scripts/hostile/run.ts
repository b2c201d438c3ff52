/**
 * The heavy hostile variants, with figures (issue 8). CI runs small versions
 * of each (packages/cli/src/*.hostile.test.ts, packages/parser/src/*.fuzz.test.ts);
 * this script runs the real sizes and prints what it measured:
 *
 *   node --conditions=alf-source --import tsx scripts/hostile/run.ts [--only a,b] [--kills 50] [--ips 10000000]
 *
 * Parts (all by default):
 *   long-line   a 10 MiB and a 1 GiB line inside gzip through `alf parse` (peak RSS vs a two-line
 *               gzip, same flags; median of --repeat runs, default 3)
 *   empty       100M empty lines in a small gzip through `alf parse`
 *   bomb        10 MB of gzip expanding to 10 GiB, with and without --max-decompressed-bytes
 *   ips         N distinct IPv4 (default 10M) through the parser (parseStream, in a child): peak RSS
 *   urls        10M requests with a path and user agent each of their own, plus a burst (half
 *               `/login`), streamed into `alf analyze -` (scripts/hostile/cardinality.ts): peak
 *               RSS, rate, the burst's top path and agent
 *   heavy       one IP sending 50M requests among 2^24 single-request IPs into `alf analyze -`:
 *               peak RSS, rate, the heavy hitter's row ([--heavy 50m] [--singles 16777216])
 *   line-time   worst-case parse time per byte of hostile line shapes, 1 KB to 1 MB
 *   throughput  parser lines/s and MB/s on the hostile grammar lines vs clean lines
 *   kills       N random SIGKILLs of `alf analyze` (default 50), every pack checked
 * Peak RSS is the child's maximum resident set (GNU time `%M`, or getrusage in the child).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { combinedLine, cleanLog, gzipEmptyLines, gzipWithLongLine, hostileCorpus } from '../../testdata/hostile/corpus.ts';
import { HEAVY_IP, heavyLog, urlsExpected, urlsLog } from './cardinality.ts';
import { ALF_NODE_ARGS, ROOT, killCampaign } from './kill-runs.ts';

const PARTS = ['long-line', 'empty', 'bomb', 'ips', 'line-time', 'throughput', 'kills', 'urls', 'heavy'] as const;
type Part = (typeof PARTS)[number];

const { values } = parseArgs({
  options: {
    only: { type: 'string' }, kills: { type: 'string', default: '50' }, ips: { type: 'string', default: '10000000' },
    urls: { type: 'string', default: '10000000' }, heavy: { type: 'string', default: '50000000' }, singles: { type: 'string', default: String(2 ** 24) },
    child: { type: 'string' }, help: { type: 'boolean' }, repeat: { type: 'string', default: '3' },
  },
  allowPositionals: true,
});
if (values.help) {
  console.log('usage: scripts/hostile/run.ts [--only long-line,empty,bomb,ips,line-time,throughput,kills,urls,heavy] [--kills 50] [--ips 10000000] [--urls 10000000] [--heavy 50000000] [--singles 16777216]');
  process.exit(0);
}

const repeat = Math.max(1, Number(values.repeat));
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const n = (x: number): string => Math.round(x).toLocaleString('en-US');

interface Measured { readonly code: number | null; readonly seconds: number; readonly peakRssBytes: number; readonly stdout: string; readonly stderr: string }

/** Runs `node <args>` under GNU time for its peak RSS; stdout to /dev/null unless kept. */
function measure(nodeArgs: readonly string[], keepStdout = false): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'ALF_PEAK_RSS_KB=%M', process.execPath, ...nodeArgs], {
      cwd: ROOT, stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const kb = Number(/ALF_PEAK_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? NaN);
      resolve({ code, seconds: (performance.now() - start) / 1000, peakRssBytes: kb * 1024, stdout, stderr: stderr.replace(/.*ALF_PEAK_RSS_KB=\d+\n?/, '').replace(/^Command exited with non-zero status \d+\n/m, '') });
    });
  });
}

/** Like `measure`, with the lines of `input` written to the child's standard input (with backpressure). */
function measureFed(nodeArgs: readonly string[], input: Iterable<Buffer>): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'ALF_PEAK_RSS_KB=%M', process.execPath, ...nodeArgs], { cwd: ROOT, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const kb = Number(/ALF_PEAK_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? NaN);
      resolve({ code, seconds: (performance.now() - start) / 1000, peakRssBytes: kb * 1024, stdout: '', stderr: stderr.replace(/.*ALF_PEAK_RSS_KB=\d+\n?/, '').replace(/^Command exited with non-zero status \d+\n/m, '') });
    });
    const stdin = child.stdin;
    stdin.on('error', () => { /* the child stopped reading: its exit status tells */ });
    const it = input[Symbol.iterator]();
    const pump = (): void => {
      for (;;) {
        const r = it.next();
        if (r.done === true) { stdin.end(); return; }
        if (!stdin.write(r.value)) { stdin.once('drain', pump); return; }
      }
    };
    pump();
  });
}

/** A CSV file of the pack as rows of named fields (RFC 4180 quoting). */
async function csvRows(file: string): Promise<Record<string, string>[]> {
  const text = await readFile(file, 'utf8');
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; } else if (ch === '\n') { row.push(field); rows.push(row); row = []; field = ''; } else if (ch !== '\r') field += ch;
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries((head ?? []).map((h, i) => [h, r[i] ?? ''])));
}

const alfArgs = (...args: string[]): string[] => [...ALF_NODE_ARGS, ...args];
const summaryLine = (stderr: string): string => stderr.split('\n').find((l) => / lines?: [\d,]+ parsed/.test(l) && l.startsWith('  '))?.trim() ?? stderr.slice(0, 300);

let work: string;
const baselineRss: number[] = [];

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
const range = (xs: readonly number[]): string => `${mb(Math.min(...xs))}–${mb(Math.max(...xs))}`;

/** Peak RSS of `alf parse` (same flags as the runs compared with it) on a two-line gzip, `repeat` runs. */
async function baseline(): Promise<number> {
  if (baselineRss.length > 0) return median(baselineRss);
  const f = join(work, 'tiny.log.gz');
  await writeFile(f, gzipSync(`${combinedLine({ ip: '192.0.2.1' })}\n${combinedLine({ ip: '192.0.2.2' })}\n`));
  for (let i = 0; i < repeat; i++) baselineRss.push((await measure(alfArgs('parse', '-f', 'combined', '--to', 'ndjson', f))).peakRssBytes);
  console.log(`baseline: \`alf parse -f combined --to ndjson\` of a two-line gzip peaks at ${mb(median(baselineRss))} RSS (median of ${repeat}, ${range(baselineRss)})`);
  return median(baselineRss);
}

async function longLine(): Promise<void> {
  const base = await baseline();
  const f = join(work, 'long-line.log.gz');
  const head = `${combinedLine({ ip: '192.0.2.1' })}\n`;
  const tail = `\n${combinedLine({ ip: '192.0.2.2' })}\n`;
  for (const size of [10 * 1024 ** 2, 1024 ** 3]) {
    await writeFile(f, gzipWithLongLine(head, size, tail));
    const runs: Measured[] = [];
    for (let i = 0; i < repeat; i++) runs.push(await measure(alfArgs('parse', '-f', 'combined', '--to', 'ndjson', f)));
    const rss = runs.map((r) => r.peakRssBytes);
    const r = runs[0]!;
    console.log(`long-line: ${size >= 1024 ** 3 ? '1 GiB' : '10 MiB'} line in gzip: exit ${r.code}, ${median(runs.map((x) => x.seconds)).toFixed(1)} s, peak RSS ${mb(median(rss))} (median of ${repeat}, ${range(rss)}; +${mb(median(rss) - base)} over the two-line gzip; cap 1 MiB); ${summaryLine(r.stderr)}`);
  }
  await rm(f);
}

async function emptyLines(): Promise<void> {
  const base = await baseline();
  const f = join(work, 'empty.log.gz');
  const bytes = gzipEmptyLines(100_000_000);
  await writeFile(f, bytes);
  const r = await measure(alfArgs('parse', '-f', 'combined', '--to', 'ndjson', f));
  console.log(`empty: 100M empty lines (${mb(bytes.length)} gzip): exit ${r.code}, ${r.seconds.toFixed(1)} s (${n(1e8 / r.seconds)} lines/s), peak RSS ${mb(r.peakRssBytes)} (+${mb(r.peakRssBytes - base)}); ${summaryLine(r.stderr)}`);
  await rm(f);
}

async function bomb(): Promise<void> {
  const base = await baseline();
  const f = join(work, 'bomb.log.gz');
  const bytes = gzipWithLongLine(`${combinedLine({ ip: '192.0.2.1' })}\n`, 10 * 1024 ** 3, `\n${combinedLine({ ip: '192.0.2.2' })}\n`, 0);
  await writeFile(f, bytes);
  const limited = await measure(alfArgs('parse', '-f', 'combined', '--to', 'ndjson', '--max-decompressed-bytes', '1GiB', f));
  console.log(`bomb: ${mb(bytes.length)} gzip → 10 GiB, --max-decompressed-bytes 1GiB: exit ${limited.code}, ${limited.seconds.toFixed(1)} s, peak RSS ${mb(limited.peakRssBytes)} (+${mb(limited.peakRssBytes - base)}); ${summaryLine(limited.stderr)}; ${/flagged: (decompressed_limit)/.exec(limited.stderr)?.[1] ?? 'NOT FLAGGED'}`);
  const full = await measure(alfArgs('parse', '-f', 'combined', '--to', 'ndjson', f));
  console.log(`bomb: no limit: exit ${full.code}, ${full.seconds.toFixed(1)} s (${mb(10 * 1024 ** 3 / full.seconds)}/s decompressed), peak RSS ${mb(full.peakRssBytes)} (+${mb(full.peakRssBytes - base)}); ${summaryLine(full.stderr)}`);
  await rm(f);
}

async function urls(lines: number): Promise<void> {
  const want = urlsExpected(lines);
  const pack = join(work, 'urls-pack');
  const r = await measureFed(alfArgs('analyze', '-', '-f', 'combined', '--records', 'none', '-o', pack), urlsLog({ lines }));
  const bursts = await csvRows(join(pack, 'bursts.csv'));
  const paths = await csvRows(join(pack, 'paths.csv'));
  const agents = await csvRows(join(pack, 'user_agents.csv'));
  const login = paths.find((p) => p['path'] === '/login');
  const bot = agents.find((a) => a['user_agent'] === 'evil-bot/1.0');
  console.log(`urls: ${n(want.lines)} requests, ${n(want.distinctPaths)} distinct paths and as many agents, \`alf analyze -\`: exit ${r.code}, ${r.seconds.toFixed(1)} s (${n(want.lines / r.seconds)} lines/s), peak RSS ${mb(r.peakRssBytes)}; ${bursts.length} burst(s) ${bursts.map((b) => `${b['start'] ?? ''}–${b['end'] ?? ''}`).join(', ')}; rows: paths.csv ${paths.length}, user_agents.csv ${agents.length}; /login ${login ? `burst ${login['burst_id']} ${login['requests']} requests (want ${n(want.loginRequests)})` : 'NOT LISTED'}; evil-bot/1.0 ${bot ? `${bot['requests']} requests` : 'NOT LISTED'}; ${summaryLine(r.stderr)}`);
  if (r.code !== 0 && r.code !== 1) console.log(r.stderr.slice(-2000));
  await rm(pack, { recursive: true, force: true });
}

async function heavy(heavyCount: number, singles: number): Promise<void> {
  const pack = join(work, 'heavy-pack');
  const lines = heavyCount + singles;
  const r = await measureFed(alfArgs('analyze', '-', '-f', 'combined', '--records', 'none', '-o', pack), heavyLog({ heavy: heavyCount, singles }));
  const bursts = await csvRows(join(pack, 'bursts.csv'));
  const attackers = await csvRows(join(pack, 'attackers.csv'));
  const hit = attackers.filter((a) => a['ip'] === HEAVY_IP);
  const others = attackers.filter((a) => a['ip'] !== HEAVY_IP);
  console.log(`heavy: ${HEAVY_IP} sending ${n(heavyCount)} requests among ${n(singles)} single-request IPs (${n(lines)} lines), \`alf analyze -\`: exit ${r.code}, ${r.seconds.toFixed(1)} s (${n(lines / r.seconds)} lines/s), peak RSS ${mb(r.peakRssBytes)}; ${bursts.length} burst(s); ${HEAVY_IP}: ${hit.map((a) => `burst ${a['burst_id']} ${a['requests']} requests (excess ${a['excess_requests']}, ${a['first_seen']}–${a['last_seen']})`).join('; ') || 'NOT AN ATTACKER'}; other attackers: ${others.length}; ${summaryLine(r.stderr)}`);
  if (r.code !== 0 && r.code !== 1) console.log(r.stderr.slice(-2000));
  await rm(pack, { recursive: true, force: true });
}

// ---- in-child measurements (the parser alone) ----

async function childIps(count: number): Promise<object> {
  const { parseStream } = await import('@alf/parser');
  async function* lines(): AsyncGenerator<Uint8Array> {
    const per = 20_000;
    for (let start = 0; start < count; start += per) {
      let s = '';
      for (let i = start; i < Math.min(count, start + per); i++) {
        const ip = `${(i >>> 24) + 1}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
        s += `${ip} - - [10/Oct/2020:13:${String(Math.floor(i / 1e6) % 60).padStart(2, '0')}:36 +0000] "GET /u/${i} HTTP/1.1" 200 512 "-" "agent-${i}"\n`;
      }
      yield Buffer.from(s, 'latin1');
    }
  }
  const t = performance.now();
  const handle = parseStream(lines(), { format: 'combined' });
  let records = 0;
  const distinctPerBatch: number[] = [];
  for await (const chunk of handle.chunks) {
    records += chunk.records.length;
    distinctPerBatch.push(chunk.records.ip.values.length);
  }
  const a = handle.result().accounting;
  return { records, linesRead: a.linesRead, rejected: a.rejected, seconds: (performance.now() - t) / 1000, maxDictPerBatch: Math.max(...distinctPerBatch), peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

/** Hostile line shapes, each a function of a target length. */
const SHAPES: Record<string, (len: number) => string> = {
  'quotes': (len) => combinedLine({ ua: '"'.repeat(len) }),
  'escaped quotes': (len) => combinedLine({ ua: '\\"'.repeat(len / 2) }),
  'backslashes': (len) => combinedLine({ request: `GET /${'\\'.repeat(len)} HTTP/1.1` }),
  'spaces': (len) => combinedLine({ request: `GET /a${' '.repeat(len)}HTTP/1.1` }),
  '" 200 1 " repeated': (len) => combinedLine({ request: `GET /${'" 200 1 "'.repeat(len / 9)} HTTP/1.1` }),
  'brackets': (len) => combinedLine({ user: '['.repeat(len) }),
  'digits': (len) => combinedLine({ bytes: '9'.repeat(len) }),
  'long path': (len) => combinedLine({ request: `GET /${'a/'.repeat(len / 2)} HTTP/1.1` }),
  'long query': (len) => combinedLine({ request: `GET /x?${'a=1&'.repeat(len / 4)} HTTP/1.1` }),
  'long user agent': (len) => combinedLine({ ua: 'Mozilla/5.0 '.repeat(len / 12) }),
  'no quotes at all': (len) => `203.0.113.7 - - [10/Oct/2020:13:55:36 +0000] ${'x'.repeat(len)}`,
  'invalid UTF-8': (len) => combinedLine({ ua: '\xff\xfe'.repeat(len / 2) }),
  'tab and NUL': (len) => combinedLine({ ua: '\t\0'.repeat(len / 2) }),
};

async function childLineTime(): Promise<object> {
  const { parseLines } = await import('@alf/parser');
  const rows: { shape: string; bytes: number; nsPerByte: number }[] = [];
  for (const [shape, make] of Object.entries(SHAPES)) {
    for (const len of [1_000, 10_000, 100_000, 1_000_000]) {
      const line = Buffer.from(`${make(len)}\n`, 'latin1');
      const copies = Math.max(1, Math.floor(4_000_000 / line.length));
      const block = Buffer.concat(Array.from({ length: copies }, () => line));
      parseLines(block, { format: 'combined', maxLineBytes: 4 * 1024 * 1024 }); // warm
      let best = Infinity;
      for (let k = 0; k < 3; k++) {
        const t = process.hrtime.bigint();
        parseLines(block, { format: 'combined', maxLineBytes: 4 * 1024 * 1024 });
        best = Math.min(best, Number(process.hrtime.bigint() - t));
      }
      rows.push({ shape, bytes: line.length, nsPerByte: best / block.length });
    }
  }
  return { rows };
}

async function childThroughput(): Promise<object> {
  const { parseLines } = await import('@alf/parser');
  const hostile = Buffer.concat(hostileCorpus().filter((c) => c.group === 'grammar' || c.name === 'lone-cr.log' || c.name === 'invalid-utf8.log' || c.name === 'nul.log' || c.name === 'unicode-separators.log' || c.name === 'escaped-quotes.log').map((c) => c.bytes));
  const clean = cleanLog(20_000);
  const run = (unit: Buffer, targetBytes: number) => {
    const block = Buffer.concat(Array.from({ length: Math.ceil(targetBytes / unit.length) }, () => unit));
    parseLines(block.subarray(0, 1_000_000), { format: 'combined' });
    const t = performance.now();
    const r = parseLines(block, { format: 'combined' });
    const s = (performance.now() - t) / 1000;
    return { bytes: block.length, lines: r.accounting.linesRead, rejected: r.accounting.rejected, linesPerS: r.accounting.linesRead / s, mbPerS: block.length / 1024 / 1024 / s };
  };
  return { hostile: run(hostile, 64 * 1024 * 1024), clean: run(clean, 64 * 1024 * 1024) };
}

async function inChild(part: string, arg: string): Promise<object> {
  const m = await measure(['--conditions=alf-source', '--import', 'tsx', new URL(import.meta.url).pathname, '--child', part, '--ips', arg], true);
  if (m.code !== 0) throw new Error(`${part} child failed: ${m.stderr}`);
  return { ...(JSON.parse(m.stdout) as object), peakRssBytes: m.peakRssBytes, wallSeconds: m.seconds };
}

async function ips(count: number): Promise<void> {
  const r = await inChild('ips', String(count)) as { records: number; linesRead: number; seconds: number; maxDictPerBatch: number; peakRssBytes: number };
  console.log(`ips: ${n(count)} distinct IPv4 (and as many paths and user agents) through parseStream: ${n(r.records)} records of ${n(r.linesRead)} lines in ${r.seconds.toFixed(1)} s (${n(r.linesRead / r.seconds)} lines/s), largest per-batch IP dictionary ${n(r.maxDictPerBatch)}, peak RSS ${mb(r.peakRssBytes)}`);
}

async function lineTime(): Promise<void> {
  const r = await inChild('line-time', '0') as { rows: { shape: string; bytes: number; nsPerByte: number }[] };
  console.log('line-time: best of 3 parses of ~4 MB of copies of each line (format combined, cap raised to 4 MiB)');
  const shapes = [...new Set(r.rows.map((x) => x.shape))];
  console.log(`  ${'shape'.padEnd(22)} ${['1 KB', '10 KB', '100 KB', '1 MB'].map((h) => h.padStart(9)).join('')}   (ns per byte)`);
  for (const s of shapes) {
    const xs = r.rows.filter((x) => x.shape === s);
    console.log(`  ${s.padEnd(22)} ${xs.map((x) => x.nsPerByte.toFixed(2).padStart(9)).join('')}`);
  }
  const worst = r.rows.reduce((a, b) => (b.nsPerByte > a.nsPerByte ? b : a));
  console.log(`  worst: ${worst.nsPerByte.toFixed(2)} ns/byte (${worst.shape}, ${n(worst.bytes)} bytes); limit 100 ns/byte: ${worst.nsPerByte < 100 ? 'met' : 'EXCEEDED'}`);
}

async function throughput(): Promise<void> {
  type T = { lines: number; rejected: number; linesPerS: number; mbPerS: number; bytes: number };
  const r = await inChild('throughput', '0') as { hostile: T; clean: T };
  const show = (name: string, t: T): string => `${name} ${n(t.lines)} lines (${n(t.rejected)} rejected), ${n(t.linesPerS)} lines/s, ${t.mbPerS.toFixed(1)} MB/s`;
  console.log(`throughput (parseLines, 64 MiB each): ${show('hostile', r.hostile)}; ${show('clean', r.clean)}; hostile/clean = ${(r.hostile.mbPerS / r.clean.mbPerS).toFixed(2)} by bytes, ${(r.hostile.linesPerS / r.clean.linesPerS).toFixed(2)} by lines`);
}

async function kills(count: number): Promise<void> {
  const dir = await mkdtemp(join(work, 'kills-'));
  const input = join(dir, 'input.log');
  await writeFile(input, cleanLog(60_000));
  const seed = Date.now() % 2 ** 31;
  const { referenceMs, results } = await killCampaign([input], dir, count, seed);
  const by = (o: string): number => results.filter((r) => r.outcome === o).length;
  const problems = results.flatMap((r, i) => r.problems.map((p) => `kill ${i} at ${r.delayMs} ms: ${p}`));
  console.log(`kills: ${count} SIGKILLs of \`alf analyze\` (60k lines, reference run ${(referenceMs / 1000).toFixed(1)} s, seed ${seed}): ${by('absent')} no directory, ${by('empty')} empty directory, ${by('interrupted')} interrupted (${results.filter((r) => r.outcome === 'interrupted').reduce((s, r) => s + r.finalFiles, 0)} final files, all identical to the reference; ${results.reduce((s, r) => s + r.tempFiles, 0)} temp files left), ${by('complete')} complete and verified; problems: ${problems.length === 0 ? 'none' : `\n  ${problems.join('\n  ')}`}`);
  await rm(dir, { recursive: true, force: true });
}

if (values.child) {
  const out = values.child === 'ips' ? await childIps(Number(values.ips))
    : values.child === 'line-time' ? await childLineTime()
    : await childThroughput();
  process.stdout.write(JSON.stringify(out));
} else {
  const only = values.only ? values.only.split(',') as Part[] : [...PARTS];
  const unknown = only.filter((p) => !PARTS.includes(p));
  if (unknown.length > 0) {
    console.error(`unknown part ${unknown.join(', ')}; parts: ${PARTS.join(', ')}`);
    process.exit(2);
  }
  work = await mkdtemp(join(tmpdir(), 'alf-hostile-run-'));
  console.log(`alf hostile run, ${new Date().toISOString()}, node ${process.version}`);
  try {
    for (const part of only) {
      if (part === 'long-line') await longLine();
      if (part === 'empty') await emptyLines();
      if (part === 'bomb') await bomb();
      if (part === 'ips') await ips(Number(values.ips));
      if (part === 'line-time') await lineTime();
      if (part === 'throughput') await throughput();
      if (part === 'kills') await kills(Number(values.kills));
      if (part === 'urls') await urls(Number(values.urls));
      if (part === 'heavy') await heavy(Number(values.heavy), Number(values.singles));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
