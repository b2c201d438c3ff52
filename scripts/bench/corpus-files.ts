/**
 * The bench corpora under .bench/: generated when missing or stale (a sidecar
 * `.meta.json`, written last, records the generator version and options), and
 * gzipped from the plain file with `pigz -1`/`gzip -1` (node zlib otherwise).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, createReadStream, createWriteStream, existsSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { CORPUS_VERSION } from './corpus/generate.ts';

export interface CorpusSpec {
  /** File name part: `1m`, `5m`, `15m-d10m`. */
  readonly label: string;
  readonly lines: number;
  readonly distinctIps?: number;
  readonly gzip: boolean;
}

export interface CorpusFiles {
  readonly label: string;
  readonly lines: number;
  readonly plain: string;
  readonly gzip?: string;
  readonly labels: string;
  /** Size of the plain file: the uncompressed bytes every MB/s figure is computed on. */
  readonly plainBytes: number;
}

interface Meta {
  version: number;
  lines: number;
  seed: number;
  distinctIps: number | null;
  plainBytes: number;
  gzip: boolean;
}

const SEED = 1;

function readMeta(path: string): Meta | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Meta;
  } catch {
    return undefined;
  }
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}`);
}

async function gzipFile(src: string, dest: string): Promise<void> {
  const tmp = `${dest}.tmp-${process.pid}`;
  const cmd = ['pigz', 'gzip'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0);
  if (cmd) {
    const fd = openSync(tmp, 'w');
    try {
      const child = spawn(cmd, ['-1', '-n', '-c', src], { stdio: ['ignore', fd, 'inherit'] });
      const [code] = (await once(child, 'close')) as [number | null];
      if (code !== 0) throw new Error(`${cmd} exited with ${code}`);
    } finally {
      closeSync(fd);
    }
  } else {
    await pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), createGzip({ level: 1 }), createWriteStream(tmp));
  }
  renameSync(tmp, dest);
}

/** Makes sure the corpus (and its gzip when asked) exists and is current; generates what is missing. */
export async function ensureCorpus(spec: CorpusSpec, dir: string, root: string, log: (msg: string) => void): Promise<CorpusFiles> {
  const base = join(dir, `corpus-${spec.label}`);
  const plain = `${base}.log`;
  const gz = `${base}.log.gz`;
  const labels = `${base}.labels.json`;
  const metaPath = `${base}.meta.json`;
  let meta = readMeta(metaPath);
  const current =
    meta !== undefined && meta.version === CORPUS_VERSION && meta.lines === spec.lines && meta.seed === SEED &&
    meta.distinctIps === (spec.distinctIps ?? null) && existsSync(plain) && statSync(plain).size === meta.plainBytes;
  if (!current || !meta) {
    log(`generating ${plain} (${spec.lines.toLocaleString('en-US')} lines)…`);
    const started = performance.now();
    const args = ['--conditions=alf-source', '--import', 'tsx', 'scripts/gen-corpus.ts', '--lines', String(spec.lines), '--out', plain, '--seed', String(SEED), '--labels', labels];
    if (spec.distinctIps !== undefined) args.push('--distinct-ips', String(spec.distinctIps));
    await run(process.execPath, args, root);
    meta = { version: CORPUS_VERSION, lines: spec.lines, seed: SEED, distinctIps: spec.distinctIps ?? null, plainBytes: statSync(plain).size, gzip: false };
    writeFileSync(metaPath, `${JSON.stringify(meta)}\n`);
    log(`generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  if (spec.gzip && (!meta.gzip || !existsSync(gz))) {
    log(`compressing ${gz}…`);
    const started = performance.now();
    await gzipFile(plain, gz);
    meta.gzip = true;
    writeFileSync(metaPath, `${JSON.stringify(meta)}\n`);
    log(`compressed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const files = { label: spec.label, lines: spec.lines, plain, labels, plainBytes: meta.plainBytes };
  return spec.gzip ? { ...files, gzip: gz } : files;
}
