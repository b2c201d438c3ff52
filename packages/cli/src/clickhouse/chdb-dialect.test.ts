/**
 * The same SQL on current ClickHouse: chdb (embedded ClickHouse 26.x, a dev
 * dependency) runs the table DDL, the engine's queries and the derived-column
 * expressions; the analysis built from their results must equal core's local
 * analysis of the same records, and the SQL traits must equal core's functions.
 * (The cluster test runs the same on Debian's clickhouse-server 18.16.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Session } from 'chdb';
import {
  ALF_COLUMNS, ALF_TABLE_COLUMNS, analyze, createLocalTableSql, resolveColumns, sqlString,
} from '@alf/core';
import type { AnalysisResult } from '@alf/core';
import { openGeo } from '@alf/geo';
import type { Geo } from '@alf/geo';
import type { RecordBatch } from '@alf/parser';
import { parseInput } from '../parse-input.ts';
import { analyzeTable } from './analyze-run.ts';
import type { ClickHouseClient } from './http.ts';
import { parseJsonCompact } from './http.ts';
import { TRAIT_STRINGS, expectedTraits, traitsSql, writeTestCorpus, writeTsv } from './test-fixture.ts';

function chdbClient(session: Session): ClickHouseClient {
  return {
    url: 'chdb',
    query: async (sql) => parseJsonCompact(session.query(sql, 'JSONCompact'), 'chdb'),
    queryLines: async (sql, onLine) => {
      for (const line of session.query(sql, 'JSONCompact').split('\n')) onLine(line);
    },
    exec: async (sql) => {
      session.query(sql, 'TSV');
    },
    insert: () => Promise.reject(new Error('not used')),
    raw: () => Promise.reject(new Error('not used')),
    close: () => undefined,
  };
}

async function batchesOf(files: readonly string[]): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for (const [k, f] of files.entries()) {
    for await (const chunk of parseInput(createReadStream(f), { maxLineBytes: 1 << 20, inputIndex: k }).chunks) out.push(chunk.records);
  }
  return out;
}

/** The parts of a result the pack's tables come from. */
function tables(r: AnalysisResult): unknown {
  return { bursts: r.bursts, attackers: r.attackers, asns: r.asns, countries: r.countries, prefixes: r.prefixes, records: r.records, firstMs: r.firstMs, lastMs: r.lastMs };
}

describe('the engine SQL on ClickHouse 26 (chdb)', () => {
  let dir: string;
  let session: Session;
  let geo: Geo;
  let files: string[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alf-chdb-test-'));
    session = new Session(join(dir, 'chdb'));
    geo = await openGeo({});
    files = await writeTestCorpus(dir, 100_000);
    const tsv = join(dir, 'rows.tsv');
    for (const f of files) await writeTsv(f, tsv, geo);
    session.query(createLocalTableSql('logs'), 'TSV');
    const structure = ALF_TABLE_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ');
    session.query(`INSERT INTO logs (${ALF_TABLE_COLUMNS.map(([n]) => n).join(', ')}) SELECT * FROM file(${sqlString(tsv)}, 'TabSeparated', ${sqlString(structure)})`, 'TSV');
  }, 120_000);
  afterAll(() => {
    session?.cleanup();
    geo?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the version is a current one', () => {
    expect(Number(session.query('SELECT version()', 'TSV').split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  test('the analysis from the queries equals the local analysis of the same records', async () => {
    const local = analyze(await batchesOf(files), geo);
    expect(local.bursts.length).toBeGreaterThanOrEqual(3);
    const { result } = await analyzeTable(chdbClient(session), 'logs', ALF_COLUMNS, {}, geo);
    expect(tables(result)).toEqual(tables(local));
  }, 120_000);

  test('with small per-window caps the IPs are sampled by hash in SQL and the result still equals the local analysis', async () => {
    const caps = { maxIpsPerWindow: 40, maxTrackedIps: 40 };
    const local = analyze(await batchesOf(files), geo, caps);
    const queries: string[] = [];
    const client = chdbClient(session);
    const spy: ClickHouseClient = { ...client, query: (sql) => { queries.push(sql); return client.query(sql); } };
    const { result } = await analyzeTable(spy, 'logs', ALF_COLUMNS, caps, geo);
    expect(tables(result)).toEqual(tables(local));
    // The per-IP rows were fetched under a hash limit below 2^32 for at least one window.
    expect(queries.some((q) => /AS client, max\(.*toUInt64\(toUInt32\(ip_hash\)\) < (\d+)/.test(q) && Number(/< (\d+) GROUP BY client ORDER/.exec(q)?.[1]) < 2 ** 32)).toBe(true);
    // Core asked for a detail pass (attackers outside the hash sample): their detail was queried by IP list.
    expect(queries.some((q) => /AS client, max\(.* AND ip IN \('/.test(q))).toBe(true);
  }, 120_000);

  test('on a table with other column names, the derived columns give the same analysis', async () => {
    session.query('CREATE TABLE user_logs (timestamp DateTime, client_ip String, code UInt16, size Int64, url String, qs String, ref String, agent String) ENGINE = MergeTree ORDER BY timestamp', 'TSV');
    session.query('INSERT INTO user_logs SELECT ts, ip, status, bytes, path, query, referer, ua FROM logs', 'TSV');
    const existing = ['timestamp', 'client_ip', 'code', 'size', 'url', 'qs', 'ref', 'agent'];
    const { columns, derived } = resolveColumns(existing, { ts: 'timestamp', ip: 'client_ip', status: 'code', bytes: 'size', path: 'url', query: 'qs', referer: 'ref', ua: 'agent' });
    expect(derived).toEqual(expect.arrayContaining(['ip_hash', 'path_asset', 'query_random', 'ref_class', 'ref_host']));
    const local = analyze(await batchesOf(files), geo);
    const { result } = await analyzeTable(chdbClient(session), 'user_logs', columns, {}, geo);
    // Whole-second times in the corpus: a DateTime column loses nothing.
    expect(tables(result)).toEqual(tables(local));
  }, 120_000);

  test('an empty table gives an empty analysis', async () => {
    session.query(createLocalTableSql('empty_logs'), 'TSV');
    const { result } = await analyzeTable(chdbClient(session), 'empty_logs', ALF_COLUMNS, {}, geo);
    expect({ records: result.records, bursts: result.bursts, firstMs: result.firstMs }).toEqual({ records: 0, bursts: [], firstMs: null });
  });

  test('the SQL traits equal core\'s functions, hostile strings included', () => {
    const strings = TRAIT_STRINGS;
    const rows = parseJsonCompact(session.query(traitsSql(), 'JSONCompact'), 'chdb').rows;
    expect(rows.map((r) => r[0])).toEqual(strings);
    for (const [s, h, a, r, c, host] of rows) {
      expect({ s, h: Number(h), a, r, c, host }).toEqual(expectedTraits(s as string, Number(h)));
    }
  });
});
