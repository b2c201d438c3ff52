/**
 * `pnpm bench`: generates the corpora when missing, runs every measurement in
 * its own child process (so peak RSS is per measurement), and prints
 * `name: value unit` lines as it goes, then a table.
 *
 *   pnpm bench [--quick] [--sizes 1m,5m,20m] [--distinct 10m [--distinct-lines 15m]]
 *              [--tools smallest|all|none] [--only parse-only,newline-count] [--repeat N]
 *
 * See scripts/bench/README.md for what each figure means.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseCount } from '../gen-corpus.ts';
import { ensureCorpus } from './corpus-files.ts';
import type { CorpusFiles, CorpusSpec } from './corpus-files.ts';
import { MEASUREMENTS } from './measurements.ts';
import type { Measurement } from './measurements.ts';
import { fromSource, stepArgs } from './alf-code.ts';
import { numberOf, parseStepOutput, runTimed } from './protocol.ts';
import { formatTable } from './table.ts';
import type { Result } from './table.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BENCH_DIR = join(ROOT, '.bench');

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function line(name: string, value: string | number, unit = ''): void {
  process.stdout.write(`${name}: ${value}${unit ? ` ${unit}` : ''}\n`);
}

async function measure(m: Measurement, corpus: CorpusFiles, repeat: number): Promise<Result> {
  const input = m.input === 'gzip' ? corpus.gzip : corpus.plain;
  const base = { name: m.name, size: corpus.label, lines: corpus.lines };
  if (!input) return { ...base, note: 'skipped: no gzip corpus' };
  const script = join(ROOT, 'scripts/bench', m.script);
  if (!existsSync(script)) return { ...base, note: `skipped: ${m.script} not written yet` };
  const outDir = join(BENCH_DIR, 'out', `${m.name}-${corpus.label}`);
  let best: Result | undefined;
  for (let i = 0; i < repeat; i++) {
    const run = await runTimed(process.execPath, [...stepArgs(), script, ...m.args(input, corpus, outDir)], { cwd: ROOT });
    const out = parseStepOutput(run.stdout);
    if (out.skipped !== undefined) return { ...base, note: `skipped: ${out.skipped}` };
    if (run.code !== 0) {
      const why = run.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
      return { ...base, failed: true, note: `failed (exit ${run.code}): ${why}` };
    }
    const seconds = numberOf(out, 'seconds');
    const lines = numberOf(out, 'lines') ?? corpus.lines;
    const result: Result = {
      ...base,
      lines,
      seconds,
      rate: seconds ? lines / seconds : undefined,
      mbPerSecond: seconds ? corpus.plainBytes / 1e6 / seconds : undefined,
      // The step's own maxRSS, else /usr/bin/time's figure for the child.
      rssMb: numberOf(out, 'peak-rss') ?? run.maxRssMb,
      extra: [...out.values].filter(([k]) => !['lines', 'bytes', 'seconds', 'peak-rss'].includes(k)),
    };
    if (!best || (result.seconds ?? Infinity) < (best.seconds ?? Infinity)) best = result;
  }
  return best!;
}

function printResult(r: Result, baseline: Result | undefined): void {
  const key = `${r.name}.${r.size}`;
  if (r.note) {
    line(key, r.note);
    return;
  }
  if (r.rate !== undefined) line(`${key}.rate`, Math.round(r.rate), 'lines/s');
  if (r.mbPerSecond !== undefined) line(`${key}.throughput`, r.mbPerSecond.toFixed(1), 'MB/s');
  if (r.rssMb !== undefined) line(`${key}.peak-rss`, r.rssMb.toFixed(1), 'MB');
  if (r.seconds !== undefined) line(`${key}.seconds`, r.seconds.toFixed(2), 's');
  if (baseline?.rate && r.rate) {
    r.ratio = r.rate / baseline.rate;
    line(`${key}.vs-${baseline.name}`, r.ratio.toFixed(3), 'x');
  }
  for (const [k, v] of r.extra ?? []) line(`${key}.${k}`, v);
}

const USAGE = `pnpm bench [--quick] [--sizes 1m,5m,20m] [--distinct 10m [--distinct-lines 50m]] [--only STEP,…]
            [--tools smallest|all|none] [--repeat N] [--source]
Speed and memory of alf on a generated corpus (regenerated under .bench/ when missing). Builds alf first
and measures the built code; --source measures the TypeScript sources (tsx) instead.
Steps: ${MEASUREMENTS.map((m) => m.name).filter((n, i, a) => a.indexOf(n) === i).join(', ')}, geo.
See scripts/bench/README.md for what each figure means.
`;

/** `pnpm build` in dependency order (tsc per package), so the bench measures the alf a user runs. */
function buildAlf(): void {
  log('building alf (tsc per package; --source measures the TypeScript sources instead)…');
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  for (const pkg of ['parser', 'geo', 'core', 'report', 'cli']) {
    const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'packages', pkg, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building packages/${pkg} failed:\n${r.stdout}${r.stderr}`);
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '1m,5m' },
      quick: { type: 'boolean', default: false },
      distinct: { type: 'string' },
      'distinct-lines': { type: 'string' },
      tools: { type: 'string', default: 'smallest' },
      only: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      source: { type: 'boolean', default: false },
    },
  });
  const sizeLabels = values.quick ? ['200k'] : values.sizes.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const specs: CorpusSpec[] = sizeLabels.map((label) => ({ label, lines: parseCount(label, '--sizes'), gzip: true }));
  specs.sort((a, b) => a.lines - b.lines);
  if (values.distinct) {
    const distinct = parseCount(values.distinct, '--distinct');
    // Background lines must reach distinct / 0.95 for every client to appear (the flood takes ~19%).
    const lines = values['distinct-lines'] ? parseCount(values['distinct-lines'], '--distinct-lines') : Math.ceil((distinct * 1.5) / 1e6) * 1e6;
    specs.push({ label: `${lines / 1e6}m-d${values.distinct.toLowerCase()}`, lines, distinctIps: distinct, gzip: false });
  }
  if (!['smallest', 'all', 'none'].includes(values.tools)) throw new Error(`--tools must be smallest, all or none; got \`${values.tools}\``);
  const only = values.only?.split(',').map((s) => s.trim());
  const repeat = Math.max(1, Number(values.repeat) || 1);
  mkdirSync(BENCH_DIR, { recursive: true });
  if (values.source) process.env['ALF_BENCH_SOURCE'] = '1';
  else buildAlf();

  const hasTime = existsSync('/usr/bin/time');
  const cores = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
  line('machine', `node ${process.version}, ${cores || '?'} cores, /usr/bin/time ${hasTime ? 'yes' : 'no'}`);

  const floor = await measure(
    { name: 'floor', script: 'floor.ts', input: 'plain', args: () => [] },
    { label: '-', lines: 0, plain: '-', labels: '-', plainBytes: 0 },
    1,
  );
  if (floor.rssMb !== undefined) line('floor.peak-rss', floor.rssMb.toFixed(1), 'MB (a bench step doing nothing: node + the tsx loader)');
  line('alf', fromSource() ? 'TypeScript sources (--source)' : 'built (packages/cli/bin/alf.js)');

  const results: Result[] = [];
  const smallest = specs[0]?.label;
  for (const spec of specs) {
    const corpus = await ensureCorpus(spec, BENCH_DIR, ROOT, log);
    line(`corpus.${spec.label}`, `${corpus.lines} lines, ${(corpus.plainBytes / 1e6).toFixed(1)} MB`, `(${corpus.plain})`);
    const bySize = new Map<string, Result>();
    for (const m of MEASUREMENTS) {
      if (only && !only.some((o) => m.name === o || m.name.startsWith(`${o}.`))) continue;
      if (m.tool && (values.tools === 'none' || (values.tools === 'smallest' && spec.label !== smallest) || spec.distinctIps !== undefined)) continue;
      if (m.input === 'gzip' && !spec.gzip) continue;
      if (spec.distinctIps !== undefined && m.input === 'stdin') continue;
      log(`${m.name} ${spec.label}…`);
      const r = await measure(m, corpus, repeat);
      bySize.set(m.name, r);
      results.push(r);
      printResult(r, m.baseline ? bySize.get(m.baseline) : undefined);
    }
    // alf against the other tools on the same file.
    const analyze = bySize.get('analyze.plain');
    for (const tool of MEASUREMENTS.filter((m) => m.tool)) {
      const t = bySize.get(tool.name);
      if (analyze?.rate && t?.rate) line(`analyze.plain.${spec.label}.vs-${tool.name}`, (analyze.rate / t.rate).toFixed(2), 'x');
    }
  }

  // Scaling: rate and peak RSS at the largest size against the smallest.
  const plainSizes = specs.filter((s) => s.distinctIps === undefined);
  const [first, last] = [plainSizes[0], plainSizes[plainSizes.length - 1]];
  if (first && last && first !== last) {
    for (const m of MEASUREMENTS) {
      const a = results.find((r) => r.name === m.name && r.size === first.label);
      const b = results.find((r) => r.name === m.name && r.size === last.label);
      if (a?.rate && b?.rate) line(`${m.name}.scaling`, (b.rate / a.rate).toFixed(3), `x rate (${last.label} vs ${first.label}; 1.0 = linear time)`);
      if (a?.rssMb && b?.rssMb) line(`${m.name}.rss-growth`, (b.rssMb / a.rssMb).toFixed(3), `x peak RSS (${last.label} vs ${first.label}; 1.0 = flat)`);
    }
  }

  if (!only || only.includes('geo')) await runGeo(specs[0] ? join(BENCH_DIR, `corpus-${specs[0].label}.log`) : undefined);
  process.stdout.write(`\n${formatTable(results)}\n`);
  writeFileSync(join(BENCH_DIR, 'last-run.json'), `${JSON.stringify({ argv, results }, null, 1)}\n`);
  return results.some((r) => r.failed) ? 1 : 0;
}

/** The geo engineer's standalone bench (scripts/bench/geo.ts), when present; its lines are prefixed `geo.`. */
async function runGeo(corpus: string | undefined): Promise<void> {
  const script = join(ROOT, 'scripts/bench/geo.ts');
  if (!existsSync(script)) {
    line('geo', 'skipped: scripts/bench/geo.ts not written yet');
    return;
  }
  log('geo…');
  const env = corpus ? { ...process.env, ALF_BENCH_CORPUS: corpus } : process.env;
  const run = await runTimed(process.execPath, [...stepArgs(), script], { cwd: ROOT, env });
  const out = parseStepOutput(run.stdout);
  if (out.skipped !== undefined) line('geo', `skipped: ${out.skipped}`);
  else if (run.code !== 0) line('geo', `failed (exit ${run.code}): ${run.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  for (const [k, v] of out.values) line(k.startsWith('geo') ? k : `geo.${k}`, v);
  if (run.maxRssMb !== undefined && !out.values.has('peak-rss')) line('geo.peak-rss', run.maxRssMb.toFixed(1), 'MB');
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof Error && String((err as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`bench: ${err.message}\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
