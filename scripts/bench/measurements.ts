/**
 * What `pnpm bench` measures at each corpus size, in order. Each entry is one
 * child process: `node --conditions=alf-source --import tsx scripts/bench/<script> <args>`.
 * Adding a measurement is adding an entry here.
 */
import type { CorpusFiles } from './corpus-files.ts';

export interface Measurement {
  /** `<step>.<input>`: printed as `<name>.<size>.<figure>`. */
  readonly name: string;
  readonly script: string;
  /** Which corpus file is handed to the step (`stdin` gets the plain file, fed as stdin by the step). */
  readonly input: 'plain' | 'gzip' | 'stdin';
  /** Measurement (same size) whose lines/s this one is compared to. */
  readonly baseline?: string;
  /** An external tool: run at the smallest size only unless `--tools all`. */
  readonly tool?: boolean;
  readonly args: (file: string, corpus: CorpusFiles, outDir: string) => string[];
}

const lines = (c: CorpusFiles): string[] => ['--lines', String(c.lines)];

export const MEASUREMENTS: readonly Measurement[] = [
  { name: 'newline-count.plain', script: 'newline-count.ts', input: 'plain', args: (f) => [f] },
  { name: 'newline-count.gzip', script: 'newline-count.ts', input: 'gzip', args: (f) => [f] },
  { name: 'line-strings.plain', script: 'line-strings.ts', input: 'plain', baseline: 'newline-count.plain', args: (f) => [f] },
  { name: 'parse-only.plain', script: 'parse-only.ts', input: 'plain', baseline: 'newline-count.plain', args: (f, c) => [f, '--expect-lines', String(c.lines)] },
  { name: 'parse-only.gzip', script: 'parse-only.ts', input: 'gzip', baseline: 'newline-count.gzip', args: (f, c) => [f, '--expect-lines', String(c.lines)] },
  { name: 'analyze.plain', script: 'analyze.ts', input: 'plain', baseline: 'newline-count.plain', args: (f, c, out) => [f, ...lines(c), '--out', out] },
  { name: 'analyze.gzip', script: 'analyze.ts', input: 'gzip', baseline: 'newline-count.gzip', args: (f, c, out) => [f, ...lines(c), '--out', out] },
  { name: 'analyze.stdin', script: 'analyze.ts', input: 'stdin', baseline: 'newline-count.plain', args: (f, c, out) => [f, ...lines(c), '--out', out, '--stdin'] },
  // Runs only where clickhouse-server is installed (skipped otherwise): load rows/s and engine analysis time on 2 shards.
  { name: 'clickhouse.plain', script: 'clickhouse.ts', input: 'plain', baseline: 'newline-count.plain', args: (f, c, out) => [f, ...lines(c), '--out', out] },
  { name: 'mawk', script: 'external.ts', input: 'plain', tool: true, baseline: 'newline-count.plain', args: (f, c, out) => ['mawk', f, ...lines(c), '--out', out] },
  { name: 'goaccess', script: 'external.ts', input: 'plain', tool: true, baseline: 'newline-count.plain', args: (f, c, out) => ['goaccess', f, ...lines(c), '--out', out] },
  { name: 'lnav', script: 'external.ts', input: 'plain', tool: true, baseline: 'newline-count.plain', args: (f, c, out) => ['lnav', f, ...lines(c), '--out', out] },
];
