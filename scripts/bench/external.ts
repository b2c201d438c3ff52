/**
 * Other log tools on the same file, for comparison: mawk (requests per minute and
 * top IPs only), GoAccess (full report to JSON), lnav (headless SQL count).
 * Skipped with a note when the tool is not installed.
 *
 *   node --conditions=alf-source --import tsx scripts/bench/external.ts TOOL FILE --lines N --out DIR
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { commandExists, emit, runTimed, skipStep } from './protocol.ts';

/** Requests per minute and the top 10 client IPs: the least a responder asks of a log. */
const MAWK_PROGRAM = `
{ split($4, t, ":"); rpm[t[1] ":" t[2] ":" t[3]]++; ip[$1]++ }
END {
  for (k in ip) {
    c = ip[k]
    for (i = 1; i <= 10; i++) if (c > top[i]) {
      for (j = 10; j > i; j--) { top[j] = top[j - 1]; name[j] = name[j - 1] }
      top[i] = c; name[i] = k; break
    }
  }
  n = 0; for (m in rpm) n++
  print "tool-lines: " NR " lines"; print "minutes: " n; print "top-ip: " name[1] " " top[1]
}`;

interface ToolRun {
  readonly cmd: string;
  readonly args: string[];
}

export const TOOLS: Record<string, (file: string, out: string) => ToolRun> = {
  mawk: (file) => ({ cmd: 'mawk', args: [MAWK_PROGRAM, file] }),
  goaccess: (file, out) => ({
    cmd: 'goaccess',
    args: [file, '--log-format=COMBINED', '--no-global-config', '--no-progress', '-o', join(out, 'goaccess.json')],
  }),
  lnav: (file) => ({ cmd: 'lnav', args: ['-n', '-c', ';SELECT count(*) AS n FROM access_log', '-c', ':write-csv-to -', file] }),
};

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { lines: { type: 'string' }, out: { type: 'string' } },
  });
  const [tool, file] = positionals;
  const make = tool ? TOOLS[tool] : undefined;
  if (!make || !file || !values.lines || !values.out) throw new Error(`usage: external.ts ${Object.keys(TOOLS).join('|')} FILE --lines N --out DIR`);
  if (!(await commandExists(tool!))) skipStep('not installed (see scripts/bench/README.md)');
  const out = resolve(values.out);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const { cmd, args } = make(resolve(file), out);
  const run = await runTimed(cmd, args, { env: { ...process.env, HOME: out } });
  if (run.code !== 0) {
    process.stderr.write(run.stderr);
    throw new Error(`${tool} exited with ${run.code}`);
  }
  // The tool's own result, for a glance that it read the whole file.
  for (const line of run.stdout.split('\n').slice(0, 5)) if (line.includes(': ')) process.stdout.write(`${line}\n`);
  if (tool === 'lnav') emit('tool-lines', run.stdout.trim().split('\n').slice(-1)[0] ?? '?', 'lines');
  if (tool === 'goaccess') {
    const general = (JSON.parse(readFileSync(join(out, 'goaccess.json'), 'utf8')) as { general?: Record<string, unknown> }).general ?? {};
    emit('tool-lines', `${String(general['total_requests'])} lines (${String(general['valid_requests'])} valid)`);
  }
  emit('lines', Number(values.lines), 'lines');
  emit('seconds', run.wallSeconds.toFixed(3), 's');
  if (run.maxRssMb !== undefined) emit('peak-rss', run.maxRssMb.toFixed(1), 'MB');
}

await main(process.argv.slice(2));
