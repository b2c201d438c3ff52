/**
 * Test and bench helper: a real ClickHouse cluster of `clickhouse-server`
 * processes (Debian's package) on 127.0.0.1, each with its own ports, config
 * and scratch directory under one temporary directory, and a `Distributed`
 * table sharded by cityHash64(ip) over a MergeTree table on every node (DDL per
 * node). `stop()` ends the servers it started by PID: SIGTERM, then SIGKILL
 * after a timeout; it is safe to call twice. Every server still running when
 * this process exits is killed (SIGKILL, by PID) from an `exit` handler, and
 * `stopAllTestClusters()` lets a signal handler end them all cleanly first (a
 * killed bench must not leave servers behind).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDistributedTableSql, createLocalTableSql } from '@alf/core';
import { createClickHouseClient } from './http.ts';

const CANDIDATES = ['/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server', '/usr/local/bin/clickhouse-server'];

/** Path of clickhouse-server, or null when it is not installed. */
export function findClickHouseServer(): string | null {
  for (const p of [process.env['ALF_CLICKHOUSE_SERVER'], ...CANDIDATES]) {
    if (p === undefined || p === '') continue;
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

export interface TestNode {
  readonly url: string;
  readonly tcpPort: number;
  readonly dir: string;
  process: ChildProcess | null;
}

export interface TestCluster {
  readonly nodes: readonly TestNode[];
  /** The HTTP URL of the first node (where the Distributed table is queried). */
  readonly url: string;
  readonly dir: string;
  /** Creates `table` (Distributed) and `table_local` (MergeTree) on every node. */
  createTables(table: string): Promise<void>;
  /** Ends one node by PID (SIGTERM, then SIGKILL) and waits for its exit. */
  kill(index: number): Promise<void>;
  /** Starts a stopped node again (same ports, config and data) and waits until it answers. */
  restart(index: number): Promise<void>;
  /** Ends every node this cluster started and removes its directory. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolveP(a.port) : reject(new Error('no port'))));
    });
  });
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

async function stopProcess(p: ChildProcess, timeoutMs: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    p.kill('SIGKILL');
    await exited;
  }
}

async function waitReady(url: string, p: ChildProcess, dir: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (p.exitCode !== null) throw new Error(`clickhouse-server exited with status ${p.exitCode} before it was ready (logs in ${dir})`);
    try {
      const res = await fetch(`${url}/ping`);
      if (res.ok && (await res.text()).startsWith('Ok')) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`clickhouse-server did not answer ${url}/ping within ${timeoutMs} ms (logs in ${dir})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Servers started by this process and still running; scratch directories not yet removed. */
const liveServers = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

/** Last resort when the process exits with servers running (an `exit` handler can only act synchronously). */
function killLiveServers(): void {
  for (const p of liveServers) p.kill('SIGKILL');
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
}

function spawnNode(server: string, dir: string): ChildProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killLiveServers);
  }
  const p = spawn(server, [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: 'ignore' });
  p.on('error', () => undefined);
  liveServers.add(p);
  p.once('exit', () => liveServers.delete(p));
  return p;
}

/**
 * Ends every server this process started (SIGTERM, then SIGKILL after a timeout), those of
 * a cluster still starting included, and removes their scratch directories: for a signal handler.
 */
export async function stopAllTestClusters(timeoutMs = 10_000): Promise<void> {
  await Promise.all([...liveServers].map((p) => stopProcess(p, timeoutMs)));
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  liveDirs.clear();
}

/** Starts `shards` servers, each one shard of cluster `alf`. */
export async function startTestCluster(shards = 2, opts: { readonly timeoutMs?: number } = {}): Promise<TestCluster> {
  const server = findClickHouseServer();
  if (server === null) throw new Error('clickhouse-server is not installed (apt-get install clickhouse-server)');
  const dir = mkdtempSync(join(tmpdir(), 'alf-clickhouse-'));
  liveDirs.add(dir);
  const ports: { http: number; tcp: number; inter: number }[] = [];
  for (let i = 0; i < shards; i++) ports.push({ http: await freePort(), tcp: await freePort(), inter: await freePort() });
  const remote = ports.map((p) => `<shard><replica><host>127.0.0.1</host><port>${p.tcp}</port></replica></shard>`).join('');
  const nodes: TestNode[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map(async (n) => {
      if (n.process) await stopProcess(n.process, 10_000);
    }));
  };
  try {
    for (let i = 0; i < shards; i++) {
      const d = join(dir, `node${i}`);
      for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(d, sub), { recursive: true });
      writeFileSync(join(d, 'users.xml'), `<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`);
      writeFileSync(join(d, 'config.xml'), `<yandex>
  <logger><level>warning</level><log>${xml(join(d, 'server.log'))}</log><errorlog>${xml(join(d, 'error.log'))}</errorlog><console>0</console></logger>
  <http_port>${ports[i]!.http}</http_port>
  <tcp_port>${ports[i]!.tcp}</tcp_port>
  <interserver_http_port>${ports[i]!.inter}</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${xml(join(d, 'data'))}/</path>
  <tmp_path>${xml(join(d, 'tmp'))}/</tmp_path>
  <user_files_path>${xml(join(d, 'user_files'))}/</user_files_path>
  <format_schema_path>${xml(join(d, 'format_schemas'))}/</format_schema_path>
  <users_config>${xml(join(d, 'users.xml'))}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>104857600</mark_cache_size>
  <uncompressed_cache_size>104857600</uncompressed_cache_size>
  <remote_servers><alf>${remote}</alf></remote_servers>
</yandex>
`);
      nodes.push({ url: `http://127.0.0.1:${ports[i]!.http}`, tcpPort: ports[i]!.tcp, dir: d, process: spawnNode(server, d) });
    }
    await Promise.all(nodes.map((n) => waitReady(n.url, n.process!, n.dir, opts.timeoutMs ?? 30_000)));
  } catch (e) {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
    throw e;
  }
  let stopped = false;
  return {
    nodes, url: nodes[0]!.url, dir,
    async createTables(table) {
      for (const n of nodes) {
        const c = createClickHouseClient(n.url);
        try {
          await c.exec(createLocalTableSql(`${table}_local`));
          await c.exec(createDistributedTableSql(table, 'alf', 'default', `${table}_local`));
        } finally {
          c.close();
        }
      }
    },
    async kill(index) {
      const n = nodes[index]!;
      if (n.process) await stopProcess(n.process, 10_000);
    },
    async restart(index) {
      const n = nodes[index]!;
      if (n.process && n.process.exitCode === null && n.process.signalCode === null) return;
      n.process = spawnNode(server, n.dir);
      await waitReady(n.url, n.process, n.dir, opts.timeoutMs ?? 30_000);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
  };
}
