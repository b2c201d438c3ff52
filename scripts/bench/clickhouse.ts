/**
 * `alf load clickhouse` and `alf analyze --engine clickhouse` on a real 2-shard
 * cluster (two clickhouse-server processes started for the step, a Distributed
 * table sharded by cityHash64(ip)), each command in its own process. Skipped
 * when clickhouse-server is not installed.
 *
 *   node --conditions=alf-source --import tsx scripts/bench/clickhouse.ts FILE --lines N --out DIR
 *
 * Prints `seconds` (the load, wall time, start-up included), `insert-rows-per-s`
 * (rows accepted / load seconds) and `analyze-seconds` (the engine run), and the
 * CPU seconds the load cost the client (`load-client-cpu`, /usr/bin/time) and the
 * two servers (`load-server-cpu`, from /proc/PID/stat before and after, merges
 * included), which hold up better than wall time on a shared machine.
 *
 * On SIGTERM or SIGINT, or when its parent (run.ts) goes away, the step ends the
 * alf command it is running (its whole process group) and the servers it started
 * (SIGTERM, then SIGKILL), removes their directories, and exits 143 / 130.
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findClickHouseServer, startTestCluster, stopAllTestClusters } from '../../packages/cli/src/clickhouse/test-cluster.ts';
import { emit, runTimed, skipStep } from './protocol.ts';
import { alfCommand } from './alf-code.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = alfCommand();

const abort = new AbortController();

/** User + system CPU seconds of a process so far (Linux /proc), undefined elsewhere. */
function cpuOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function serversCpu(pids: readonly (number | undefined)[]): number | undefined {
  let sum = 0;
  for (const pid of pids) {
    const c = cpuOf(pid);
    if (c === undefined) return undefined;
    sum += c;
  }
  return sum;
}
let ending: Promise<never> | null = null;

/** Ends the running alf command and every server of this step, then exits 128 + the signal number. */
function endOn(signal: 'SIGTERM' | 'SIGINT'): void {
  ending ??= (async () => {
    abort.abort();
    try {
      await stopAllTestClusters(5_000);
    } finally {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
  })();
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { lines: { type: 'string' }, out: { type: 'string' } } });
  const file = positionals[0];
  if (!file || !values.lines || !values.out) throw new Error('usage: clickhouse.ts FILE --lines N --out DIR');
  if (findClickHouseServer() === null) skipStep('clickhouse-server is not installed (apt-get install clickhouse-server)');
  process.on('SIGTERM', () => endOn('SIGTERM'));
  process.on('SIGINT', () => endOn('SIGINT'));
  // run.ts killed (SIGKILL, or a SIGTERM it does not pass on): this step is re-parented.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) endOn('SIGTERM');
  }, 500).unref();
  const cluster = await startTestCluster(2);
  try {
    await cluster.createTables('logs');
    const pids = cluster.nodes.map((n) => n.process?.pid);
    const serverBefore = serversCpu(pids);
    const load = await runTimed(process.execPath, [...CLI, 'load', 'clickhouse', '--url', cluster.url, '--table', 'logs', resolve(file)], { cwd: ROOT, signal: abort.signal });
    if (load.code !== 0) {
      process.stderr.write(load.stderr);
      throw new Error(`alf load clickhouse exited with ${load.code}`);
    }
    const accepted = Number(/([\d,]+) accepted/.exec(load.stderr)?.[1]?.replace(/,/g, '') ?? NaN);
    // Parts the servers are still merging belong to the load's cost.
    await new Promise((r) => setTimeout(r, 2000));
    const serverAfter = serversCpu(pids);
    const out = resolve(values.out);
    rmSync(out, { recursive: true, force: true });
    const analyze = await runTimed(process.execPath, [...CLI, 'analyze', '--engine', 'clickhouse', '--url', cluster.url, '--table', 'logs', '--out', out], { cwd: ROOT, signal: abort.signal });
    if (analyze.code !== 0) {
      process.stderr.write(analyze.stderr);
      throw new Error(`alf analyze --engine clickhouse exited with ${analyze.code}`);
    }
    emit('lines', Number(values.lines), 'lines');
    emit('seconds', load.wallSeconds.toFixed(3), 's');
    if (load.maxRssMb !== undefined) emit('peak-rss', load.maxRssMb.toFixed(1), 'MB');
    emit('insert-rows', accepted, 'rows');
    emit('insert-rows-per-s', Math.round(accepted / load.wallSeconds), 'rows/s (one client, 2 shards, start-up included)');
    if (load.cpuSeconds !== undefined) emit('load-client-cpu', load.cpuSeconds.toFixed(2), 's (alf load: user + system)');
    if (serverBefore !== undefined && serverAfter !== undefined) emit('load-server-cpu', (serverAfter - serverBefore).toFixed(2), 's (both servers during the load and 2 s after)');
    emit('analyze-seconds', analyze.wallSeconds.toFixed(3), 's (alf analyze --engine clickhouse, 2 shards)');
    if (analyze.maxRssMb !== undefined) emit('analyze-peak-rss', analyze.maxRssMb.toFixed(1), 'MB');
  } finally {
    if (ending === null) await cluster.stop();
  }
  if (ending !== null) await ending;
}

await main(process.argv.slice(2)).catch(async (e: unknown) => {
  if (ending !== null) await ending; // a signal arrived: the failure is its doing
  throw e;
});
