/**
 * `alf analyze` end to end, run as a user runs it (the CLI in its own process,
 * under /usr/bin/time for its peak RSS): from a file, or from stdin with `--stdin`.
 * Skipped until the CLI has an `analyze` command.
 *
 *   node --conditions=alf-source --import tsx scripts/bench/analyze.ts FILE --lines N --out DIR [--stdin]
 */
import { rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { alfCommand } from './alf-code.ts';
import { emit, runTimed, skipStep } from './protocol.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = alfCommand();

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { lines: { type: 'string' }, out: { type: 'string' }, stdin: { type: 'boolean', default: false } },
  });
  const file = positionals[0];
  if (!file || !values.lines || !values.out) throw new Error('usage: analyze.ts FILE --lines N --out DIR [--stdin]');

  const help = await runTimed(process.execPath, [...CLI, 'analyze', '--help'], { cwd: ROOT });
  // yargs lists registered commands as `alf <command> …` lines; an unknown one prints the general help.
  if (help.code !== 0 || !/^\s*alf analyze\b/m.test(help.stdout + help.stderr)) skipStep('alf analyze not available yet (packages/cli/src/main.ts)');

  const out = resolve(values.out);
  rmSync(out, { recursive: true, force: true });
  const input = values.stdin ? '-' : resolve(file);
  const run = await runTimed(process.execPath, [...CLI, 'analyze', input, '--out', out], values.stdin ? { cwd: ROOT, stdinFile: file } : { cwd: ROOT });
  if (run.code !== 0) {
    process.stderr.write(run.stderr);
    throw new Error(`alf analyze exited with ${run.code}`);
  }
  emit('lines', Number(values.lines), 'lines');
  // Wall time of the whole command, start-up included.
  emit('seconds', run.wallSeconds.toFixed(3), 's');
  if (run.maxRssMb !== undefined) emit('peak-rss', run.maxRssMb.toFixed(1), 'MB');
}

await main(process.argv.slice(2));
