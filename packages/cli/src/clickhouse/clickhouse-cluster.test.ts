/**
 * A real 2-shard ClickHouse cluster (two clickhouse-server processes, a
 * Distributed table sharded by cityHash64(ip) over MergeTree tables): load a
 * labelled corpus with `alf load clickhouse`, analyse it with
 * `--engine clickhouse` and locally, and compare the packs' tables; a mapped
 * user table; a shard stopped part-way through a run; a query that fails
 * part-way through a 200 response. In CI (`CI` set) a missing
 * clickhouse-server fails the suite; locally it skips with the reason printed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALF_TABLE_COLUMNS } from '@alf/core';
import { runAlf } from '../test-cli.ts';
import { setBeforeQuery } from './analyze-run.ts';
import { createClickHouseClient } from './http.ts';
import { findClickHouseServer, startTestCluster } from './test-cluster.ts';
import type { TestCluster } from './test-cluster.ts';
import { TRAIT_STRINGS, expectedTraits, traitsSql, writeTestCorpus } from './test-fixture.ts';

const server = findClickHouseServer();
const inCi = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';
if (server === null && !inCi) console.warn('clickhouse-cluster.test.ts skipped: clickhouse-server is not installed (apt-get install clickhouse-server; CI installs it in .ci/run)');

test.runIf(inCi)('clickhouse-server is installed (CI runs the cluster tests)', () => {
  expect(server, 'clickhouse-server not found: .ci/run installs it with apt-get').not.toBeNull();
});

/** Tables compared between the local and the ClickHouse pack. */
const TABLES = ['bursts.csv', 'attackers.csv', 'asns.csv', 'countries.csv', 'prefixes.csv', 'paths.csv', 'user_agents.csv', 'statuses.csv', 'timeline.csv'];

describe.skipIf(server === null)('alf on a 2-shard ClickHouse cluster', () => {
  let cluster: TestCluster;
  let dir: string;
  let files: string[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alf-ch-test-'));
    files = await writeTestCorpus(dir);
    cluster = await startTestCluster(2);
    await cluster.createTables('logs');
  }, 120_000);
  afterAll(async () => {
    setBeforeQuery(null);
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  test('alf load clickhouse sends every parsed record to both shards and says so', async () => {
    const r = await runAlf(['load', 'clickhouse', '--url', cluster.url, '--table', 'logs', ...files]);
    expect(r.stderr).toMatch(/rows sent, [\d,]+ accepted/);
    expect(r.code, r.stderr).toBe(0);
    const parsed = /alf load clickhouse: 2 inputs, [\d,]+ lines: ([\d,]+) parsed/.exec(r.stderr)?.[1]?.replace(/,/g, '');
    const sent = /([\d,]+) rows sent, ([\d,]+) accepted/.exec(r.stderr)!;
    expect(sent[1]).toBe(sent[2]);
    expect(sent[1]!.replace(/,/g, '')).toBe(parsed);
    const c = createClickHouseClient(cluster.url);
    try {
      const total = await c.query('SELECT count() AS n FROM logs');
      expect(String(total.rows[0]![0])).toBe(parsed);
      // Both shards hold part of it (sharded by cityHash64(ip)), and together all of it.
      const perShard: number[] = [];
      for (const n of cluster.nodes) {
        const s = createClickHouseClient(n.url);
        perShard.push(Number((await s.query('SELECT count() AS n FROM logs_local')).rows[0]![0]));
        s.close();
      }
      expect(perShard.every((n) => n > 0)).toBe(true);
      expect(String(perShard.reduce((a, b) => a + b, 0))).toBe(parsed);
    } finally {
      c.close();
    }
  }, 180_000);

  test('alf analyze --engine clickhouse writes the same bursts, attackers, ASN and country tables as a local run', async () => {
    const local = await runAlf(['analyze', '--quiet', '-o', join(dir, 'local'), ...files]);
    expect(local.code, local.stderr).toBeLessThanOrEqual(1);
    const ch = await runAlf(['analyze', '--engine', 'clickhouse', '--url', cluster.url, '--table', 'logs', '-o', join(dir, 'ch')]);
    expect(ch.code, ch.stderr).toBe(0);
    const bursts = readFileSync(join(dir, 'local', 'bursts.csv'), 'utf8').trim().split('\n');
    expect(bursts.length).toBeGreaterThanOrEqual(4); // header + flood, scanner, botnet
    for (const t of TABLES) expect(readFileSync(join(dir, 'ch', t), 'utf8'), t).toBe(readFileSync(join(dir, 'local', t), 'utf8'));
    const attackers = readFileSync(join(dir, 'ch', 'attackers.csv'), 'utf8');
    expect(attackers).toContain('185.220.102.7');
    expect(attackers).toContain('203.0.113.10');
    const manifest = JSON.parse(readFileSync(join(dir, 'ch', 'manifest.json'), 'utf8')) as { status: string; notes: string[] };
    expect(manifest.status).toBe('complete');
    expect(manifest.notes.join('\n')).toMatch(/No evidence lines/);
    const summary = readFileSync(join(dir, 'ch', 'summary.md'), 'utf8');
    expect(summary).toMatch(/Analysed in ClickHouse/);
    expect(summary).toContain(`# alf analysis: ClickHouse ${cluster.url.replace('http://', 'hxxp\\[://\\]')}, table logs`);
    expect(summary).not.toContain('analysis: no input');
  }, 240_000);

  test('--columns runs on a table with other column names, deriving the rest in SQL', async () => {
    const c = createClickHouseClient(cluster.url);
    try {
      await c.exec('CREATE TABLE user_logs (timestamp DateTime, client_ip String, code UInt16, size Int64, url String, qs String, ref String, agent String) ENGINE = MergeTree() ORDER BY timestamp');
      await c.exec('INSERT INTO user_logs SELECT ts, ip, status, bytes, path, query, referer, ua FROM logs');
    } finally {
      c.close();
    }
    const r = await runAlf(['analyze', '--engine', 'clickhouse', '--url', cluster.url, '--table', 'user_logs', '-o', join(dir, 'mapped'),
      '--columns', 'ts=timestamp,ip=client_ip,status=code,bytes=size,path=url,query=qs,referer=ref,ua=agent']);
    expect(r.code, r.stderr).toBe(0);
    // The corpus has whole-second times, so a DateTime column loses nothing: every table matches.
    for (const t of TABLES) expect(readFileSync(join(dir, 'mapped', t), 'utf8'), t).toBe(readFileSync(join(dir, 'local', t), 'utf8'));
    expect(readFileSync(join(dir, 'mapped', 'summary.md'), 'utf8')).toMatch(/Computed in SQL from the base columns/);
  }, 240_000);

  test('a query that fails part-way through an HTTP 200 response is reported, not read as a short result', async () => {
    const c = createClickHouseClient(cluster.url);
    try {
      const raw = await c.raw('SELECT throwIf(number = 300000) AS x FROM system.numbers LIMIT 1000000 FORMAT TSV', { wait_end_of_query: '0' });
      // What the server does without wait_end_of_query: status 200 (headers already sent), the exception at the end.
      if (raw.status === 200) expect(raw.body).toMatch(/DB::Exception/);
      await expect(c.query('SELECT throwIf(number = 300000) AS x FROM system.numbers LIMIT 1000000', { wait_end_of_query: '0' }))
        .rejects.toThrow(/failed part-way|HTTP 500/);
      await expect(c.query('SELECT throwIf(number = 300000) AS x FROM system.numbers LIMIT 1000000')).rejects.toThrow(/HTTP 500.*DB::Exception/);
    } finally {
      c.close();
    }
  }, 60_000);

  test('the derived-column SQL equals core\'s functions on 18.16, hostile strings included', async () => {
    const c = createClickHouseClient(cluster.url);
    try {
      const rows = (await c.query(traitsSql())).rows;
      expect(rows.map((r) => r[0])).toEqual(TRAIT_STRINGS);
      for (const [s, h, a, r, k, host] of rows) expect({ s, h: Number(h), a, r, c: k, host }).toEqual(expectedTraits(s as string, Number(h)));
    } finally {
      c.close();
    }
  });

  test('--workers 2 loads plain files in byte ranges on worker threads: the same rows, line numbers and offsets as one thread', async () => {
    const before = process.env['ALF_RANGE_BYTES'];
    process.env['ALF_RANGE_BYTES'] = '4096';
    const c = createClickHouseClient(cluster.url);
    try {
      const one = await runAlf(['load', 'clickhouse', '--url', cluster.url, '--table', 'logs', '--workers', '1', '--batch-rows', '3000', ...files]);
      const two = await runAlf(['load', 'clickhouse', '--url', cluster.url, '--table', 'logs', '--workers', '2', '--batch-rows', '3000', ...files]);
      expect(one.code, one.stderr).toBe(0);
      expect(two.code, two.stderr).toBe(0);
      expect(one.stderr).not.toMatch(/byte ranges/);
      expect(two.stderr).toMatch(/2 of 2 inputs parsed in byte ranges by 2 threads/);
      const accounting = (r: { stderr: string }): string => r.stderr.split('\n').filter((l) => !/load_id|took|elapsed/i.test(l)).join('\n');
      expect(accounting(two)).toBe(accounting(one));
      const [id1, id2] = [one, two].map((r) => /load_id ([0-9a-f-]{36})/.exec(r.stderr)![1]!);
      const columns = ALF_TABLE_COLUMNS.map(([n]) => n).filter((n) => n !== 'load_id' && n !== 'batch');
      const rows = async (id: string): Promise<readonly (readonly unknown[])[]> =>
        (await c.query(`SELECT ${columns.join(', ')} FROM logs WHERE load_id = '${id}' ORDER BY input, line`)).rows;
      const [r1, r2] = [await rows(id1!), await rows(id2!)];
      expect(r2.length).toBeGreaterThan(1000);
      expect(r2).toEqual(r1);
      const batches = Number(/accepted in (\d+) batches/.exec(two.stderr)![1]);
      const b = await c.query(`SELECT uniqExact(batch) AS n, uniqExact(batch, input, line) AS rows FROM logs WHERE load_id = '${id2}'`);
      expect(b.rows[0]!.map(Number)).toEqual([batches, r2.length]);
    } finally {
      c.close();
      if (before === undefined) delete process.env['ALF_RANGE_BYTES'];
      else process.env['ALF_RANGE_BYTES'] = before;
    }
  }, 180_000);

  test('a load while a shard is down retries, resends only the rows that did not land, and ends with every row once', async () => {
    const c = createClickHouseClient(cluster.url);
    try {
      await cluster.kill(1);
      const load = runAlf(['load', 'clickhouse', '--url', cluster.url, '--table', 'logs', '--batch-rows', '1000', files[1]!]);
      await new Promise((r) => setTimeout(r, 2500));
      await cluster.restart(1);
      const r = await load;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/retried: batch 0 \(/);
      const id = /load_id ([0-9a-f-]{36})/.exec(r.stderr)![1]!;
      const parsed = Number(/([\d,]+) parsed/.exec(r.stderr)![1]!.replace(/,/g, ''));
      const q = await c.query(`SELECT count() AS n, uniqExact(input, line) AS distinct_lines FROM logs WHERE load_id = '${id}'`);
      expect(q.rows[0]!.map(Number)).toEqual([parsed, parsed]);
    } finally {
      c.close();
    }
  }, 180_000);

  // Last: it stops a shard.
  test('a shard stopped part-way through a run fails it loudly: exit 3, pack marked interrupted, no tables', async () => {
    setBeforeQuery(async (_q, index) => {
      if (index === 3) await cluster.kill(1);
    });
    const out = join(dir, 'killed');
    const r = await runAlf(['analyze', '--engine', 'clickhouse', '--url', cluster.url, '--table', 'logs', '-o', out]);
    setBeforeQuery(null);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/ClickHouse at http:\/\/127\.0\.0\.1:\d+ failed a query \(HTTP 5\d\d\): Code: \d+/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { status: string; statusReason: string };
    expect(manifest.status).toBe('interrupted');
    expect(manifest.statusReason).toMatch(/ClickHouse/);
    for (const t of TABLES) expect(existsSync(join(out, t)), t).toBe(false);
  }, 120_000);
});
