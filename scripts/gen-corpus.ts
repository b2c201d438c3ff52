/**
 * Writes the synthetic combined-format corpus for the benchmarks.
 *
 *   node --conditions=alf-source --import tsx scripts/gen-corpus.ts --lines 5000000 \
 *     --out .bench/corpus-5m.log [--gzip] [--seed N] [--distinct-ips N] [--days N] [--labels out.json]
 *
 * Deterministic: the same options give the same bytes. Output goes to a temporary
 * name and is renamed when complete, so an interrupted run never leaves a corpus
 * that looks finished. `--gzip` compresses through `pigz -1`/`gzip -1` (a second
 * process, so it overlaps with generation) or node's zlib when neither exists.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, openSync, closeSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createCorpus } from './bench/corpus/generate.ts';
import type { CorpusLabels } from './bench/corpus/generate.ts';

/** `5000000`, `5m`, `200k`, `1.5M` → a count. */
export function parseCount(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!m) throw new Error(`${flag} must be a count like 5000000, 5m or 200k; got \`${text}\``);
  const unit = m[2]?.toLowerCase() === 'm' ? 1e6 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1;
  return Math.round(Number(m[1]) * unit);
}

export interface WriteCorpusOptions {
  lines: number;
  out: string;
  gzip?: boolean;
  seed?: number;
  distinctIps?: number;
  days?: number;
  labels?: string;
}

function gzipCommand(): string | undefined {
  for (const cmd of ['pigz', 'gzip']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0) return cmd;
  }
  return undefined;
}

async function writeChunks(chunks: Iterable<Buffer>, sink: Writable): Promise<number> {
  let bytes = 0;
  for (const buf of chunks) {
    bytes += buf.length;
    if (!sink.write(buf)) await once(sink, 'drain');
  }
  sink.end();
  return bytes;
}

/** Generates and writes the corpus; returns its labels and the uncompressed size. */
export async function writeCorpus(opts: WriteCorpusOptions): Promise<{ labels: CorpusLabels; bytes: number }> {
  mkdirSync(dirname(opts.out), { recursive: true });
  const tmp = `${opts.out}.tmp-${process.pid}`;
  const corpus = createCorpus({ lines: opts.lines, seed: opts.seed, distinctIps: opts.distinctIps, days: opts.days });
  let bytes: number;
  const cmd = opts.gzip ? gzipCommand() : undefined;
  if (opts.gzip && cmd) {
    const fd = openSync(tmp, 'w');
    const child = spawn(cmd, ['-1', '-n', '-c'], { stdio: ['pipe', fd, 'inherit'] });
    const exited = once(child, 'exit');
    if (!child.stdin) throw new Error(`${cmd}: no stdin pipe`);
    bytes = await writeChunks(corpus.chunks, child.stdin);
    const [code] = (await exited) as [number | null];
    closeSync(fd);
    if (code !== 0) throw new Error(`${cmd} exited with ${code}`);
  } else {
    const file = createWriteStream(tmp, { highWaterMark: 1 << 22 });
    const finished = once(file, 'close');
    if (opts.gzip) {
      const gz = createGzip({ level: 1, chunkSize: 1 << 20 });
      gz.pipe(file);
      bytes = await writeChunks(corpus.chunks, gz);
    } else {
      bytes = await writeChunks(corpus.chunks, file);
    }
    await finished;
  }
  renameSync(tmp, opts.out);
  if (opts.labels) {
    mkdirSync(dirname(opts.labels), { recursive: true });
    writeFileSync(opts.labels, `${JSON.stringify(corpus.labels, null, 1)}\n`);
  }
  return { labels: corpus.labels, bytes };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      lines: { type: 'string' },
      out: { type: 'string' },
      gzip: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      'distinct-ips': { type: 'string' },
      days: { type: 'string' },
      labels: { type: 'string' },
    },
  });
  if (!values.lines || !values.out) {
    process.stderr.write('usage: gen-corpus --lines N --out FILE [--gzip] [--seed N] [--distinct-ips N] [--days N] [--labels FILE]\n');
    return 2;
  }
  const started = performance.now();
  const opts: WriteCorpusOptions = {
    lines: parseCount(values.lines, '--lines'),
    out: values.out,
    gzip: values.gzip,
    seed: parseCount(values.seed, '--seed'),
  };
  if (values['distinct-ips']) opts.distinctIps = parseCount(values['distinct-ips'], '--distinct-ips');
  if (values.days) opts.days = parseCount(values.days, '--days');
  if (values.labels) opts.labels = values.labels;
  const { labels, bytes } = await writeCorpus(opts);
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `gen-corpus: ${labels.lines} lines, ${(bytes / 1e6).toFixed(1)} MB${opts.gzip ? ' (before gzip)' : ''} → ${opts.out} ` +
      `in ${seconds.toFixed(1)} s (${(bytes / 1e6 / seconds).toFixed(0)} MB/s); flood ${labels.flood.lines} lines ` +
      `${labels.flood.start}..${labels.flood.end}; ${labels.odd.total} odd lines\n`,
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      process.stderr.write(`gen-corpus: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
