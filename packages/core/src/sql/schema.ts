/**
 * The table `alf load clickhouse` fills: one row per parsed record, with the
 * awkward fields precomputed (UTC seconds and ms, /24 or /48 prefix, ASN,
 * country, core's request traits and IP hash) and the source line reference.
 * DDL for one node (ClickHouse 18.16 needs ZooKeeper for ON CLUSTER, so each
 * node gets its own statements).
 */
import { quoteIdent, quoteTable, sqlString } from './columns.ts';

/** Column name and ClickHouse type, in TSV order (`ts` is computed from `ts_ms` by the server). */
export const ALF_TABLE_COLUMNS: readonly (readonly [string, string])[] = [
  ['ts_ms', 'Int64'],
  ['ts_ok', 'UInt8'],
  ['ip', 'String'],
  ['ip_kind', 'UInt8'],
  ['ip_hash', 'UInt32'],
  ['prefix', 'String'],
  ['asn', 'UInt32'],
  ['as_org', 'String'],
  ['country', 'String'],
  ['method', 'String'],
  ['path', 'String'],
  ['query', 'String'],
  ['protocol', 'String'],
  ['status', 'UInt16'],
  ['bytes', 'Int64'],
  ['duration_ms', 'Float64'],
  ['referer', 'String'],
  ['ua', 'String'],
  ['vhost', 'String'],
  ['path_asset', 'UInt8'],
  ['query_random', 'UInt8'],
  ['ref_class', 'UInt8'],
  ['ref_host', 'String'],
  ['input', 'String'],
  ['line', 'UInt64'],
  ['byte_offset', 'UInt64'],
  ['load_id', 'String'],
  ['batch', 'UInt32'],
];

const columnDefs = (): string => [
  'ts DateTime DEFAULT toDateTime(intDiv(ts_ms, 1000))',
  ...ALF_TABLE_COLUMNS.map(([n, t]) => `${n} ${t}`),
].join(', ');

/** A MergeTree table for one node (or a single server). */
export function createLocalTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (${columnDefs()}) ENGINE = MergeTree() PARTITION BY toYYYYMM(ts) ORDER BY (ts, ip)`;
}

/** A Distributed table over `localTable` on every shard of `cluster`, sharded by cityHash64(ip). */
export function createDistributedTableSql(table: string, cluster: string, database: string, localTable: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (${columnDefs()}) ENGINE = Distributed(${quoteIdent(cluster)}, ${quoteIdent(database)}, ${quoteIdent(localTable)}, cityHash64(ip))`;
}

/** The INSERT statement of one TSV batch. */
export function insertSql(table: string): string {
  return `INSERT INTO ${quoteTable(table)} (${ALF_TABLE_COLUMNS.map(([n]) => n).join(', ')}) FORMAT TabSeparated`;
}

/** The (input, line) of the rows of one batch already in the table (to resend only the others after a failed insert). */
export function batchRowsSql(table: string, loadId: string, batch: number): string {
  return `SELECT input, line FROM ${quoteTable(table)} WHERE load_id = ${sqlString(loadId)} AND batch = ${Math.trunc(batch)}`;
}
