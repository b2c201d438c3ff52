/**
 * Mutation fuzzer for the parser: `node --conditions=alf-source --import tsx scripts/fuzz.ts --seconds N [--seed S] [--out DIR]`.
 *
 * Seeds: real log lines (testdata/real: secrepo combined, NASA common), the
 * sample lines of every preset (with their format), the lines of the hostile
 * corpus, and random bytes. Each round mutates 100 seed lines (1 to 8
 * mutations each: byte flips, hostile bytes, deletions, duplications, splices,
 * truncation, long runs, extreme numbers), parses them as one input and checks
 * the line-by-line accounting oracle (scripts/hostile/parse-oracle.ts). A
 * round that fails is cut down to the failing line(s), which are saved as
 * `testdata/hostile/regressions/<format or detect>--<sha256 prefix>.log`; the test
 * packages/parser/src/regressions.fuzz.test.ts replays every file there.
 * Prints rounds, lines and lines/s; exit status 1 when anything was found.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { listFormats } from '@alf/parser';
import { hostileCorpus } from '../testdata/hostile/corpus.ts';
import { HOSTILE_BYTES, mutate, parseProblems } from './hostile/parse-oracle.ts';
import { seededRandom } from './hostile/kill-runs.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const USAGE = 'usage: scripts/fuzz.ts --seconds N [--seed S] [--out DIR]';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const seconds = Number(values.seconds);
if (!(seconds > 0)) {
  console.error(`--seconds must be a positive number; got ${values.seconds}\n${USAGE}`);
  process.exit(2);
}
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const outDir = values.out ?? join(ROOT, 'testdata/hostile/regressions');
const random = seededRandom(seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

function linesOf(bytes: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (out.length < max && at < bytes.length) {
    const nl = bytes.indexOf(0x0a, at);
    const end = nl === -1 ? bytes.length : nl;
    out.push(bytes.subarray(at, end));
    at = end + 1;
  }
  return out;
}

interface Pool { readonly format: string; readonly lines: readonly Buffer[] }
const real = (rel: string): Buffer => gunzipSync(readFileSync(join(ROOT, 'testdata/real', rel)));
const corpusLines = hostileCorpus({ longLineBytes: 2000, emptyLines: 10 })
  .filter((c) => c.group === 'grammar' || c.name.endsWith('.log') && !c.name.startsWith('utf16'))
  .flatMap((c) => linesOf(c.bytes, 50));
const pools: Pool[] = [
  { format: 'combined', lines: linesOf(real('secrepo/access.log.2018-12-15.gz'), 5000) },
  { format: 'combined', lines: corpusLines },
  { format: 'common', lines: linesOf(real('nasa-http/NASA_access_log_Aug95.first20000.log.gz'), 5000) },
  ...listFormats().map((f) => ({ format: f.id, lines: f.sampleLines.map((s) => Buffer.from(s, 'utf8')) })),
];

function randomBytes(): Buffer {
  const n = Math.floor(random() * 240);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = random() < 0.5 ? Math.floor(random() * 256) : pick(HOSTILE_BYTES);
  return b;
}

function round(pool: Pool, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < size; i++) {
    if (random() < 0.05) { out.push(randomBytes()); continue; }
    let line: Uint8Array = pick(pool.lines);
    const n = 1 + Math.floor(random() * 8);
    for (let k = 0; k < n; k++) line = mutate(line, pick(pool.lines), random);
    out.push(Buffer.from(line));
  }
  return out;
}

const join1 = (lines: readonly Buffer[]): Buffer => Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));

/** The failing line alone when one line fails alone; else the whole round. */
function cutDown(lines: readonly Buffer[], format: string | undefined): Buffer {
  for (const l of lines) if (parseProblems(join1([l]), format === undefined ? {} : { format }).length > 0) return join1([l]);
  return join1(lines);
}

const found: string[] = [];
const start = performance.now();
let rounds = 0;
let lines = 0;
while (performance.now() - start < seconds * 1000) {
  const pool = pick(pools);
  const batch = round(pool, 100);
  const bytes = join1(batch);
  rounds++;
  lines += batch.length;
  // One round in ten lets the parser detect the format from the mutated lines.
  const format = random() < 0.1 ? undefined : pool.format;
  const problems = parseProblems(bytes, format === undefined ? {} : { format });
  if (problems.length === 0) continue;
  const minimal = cutDown(batch, format);
  const name = `${format ?? 'detect'}--${createHash('sha256').update(minimal).digest('hex').slice(0, 16)}.log`;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, name), minimal);
  found.push(name);
  console.error(`found (${name}): ${problems.join('; ').slice(0, 500)}`);
}
const s = (performance.now() - start) / 1000;
console.log(`fuzz: seed ${seed}, ${s.toFixed(1)} s, ${rounds.toLocaleString('en-US')} rounds, ${lines.toLocaleString('en-US')} lines (${Math.round(lines / s).toLocaleString('en-US')} lines/s), ${found.length} finding(s)${found.length > 0 ? ` saved in ${outDir}: ${[...new Set(found)].join(', ')}` : ''}`);
process.exitCode = found.length > 0 ? 1 : 0;
