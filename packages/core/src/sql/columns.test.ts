import { describe, expect, test } from 'vitest';
import { ALF_COLUMNS, parseColumnMapping, quoteIdent, quoteTable, resolveColumns, sqlString } from './columns.ts';

describe('column mapping', () => {
  test('parses FIELD=COLUMN pairs', () => {
    expect(parseColumnMapping(' ts=timestamp, ip=client_ip ,status=code,')).toEqual({ ts: 'timestamp', ip: 'client_ip', status: 'code' });
    expect(parseColumnMapping('')).toEqual({});
  });
  test.for(['when=timestamp', 'ts', 'ts=', '=x'])('rejects `%s` naming the fields it takes', (text) => {
    expect(() => parseColumnMapping(text)).toThrow(/FIELD=COLUMN pairs .* FIELD one of ts, ts_ms, ts_ok, ip/);
  });
  test('an alf table needs no mapping: every field is its own column', () => {
    const { columns, derived } = resolveColumns(Object.keys(ALF_COLUMNS), {});
    expect(columns).toEqual(ALF_COLUMNS);
    expect(derived).toEqual([]);
  });
  test('a user table: base fields mapped, the rest derived in SQL', () => {
    const { columns, derived } = resolveColumns(['timestamp', 'client_ip', 'code'], { ts: 'timestamp', ip: 'client_ip', status: 'code' });
    expect(columns.ts_ms).toBe('(toInt64(toUInt32(timestamp)) * 1000)');
    expect(columns.ip).toBe('client_ip');
    expect(columns.path).toBe("''");
    expect(derived).toEqual(['ts_ms', 'path', 'query', 'referer', 'ts_ok', 'ip_kind', 'ip_hash', 'bytes', 'ua', 'path_asset', 'query_random', 'ref_class', 'ref_host']);
  });
  test('says which column is missing and how to map it', () => {
    expect(() => resolveColumns(['timestamp', 'client_ip'], { ts: 'timestamp', ip: 'client_ip' })).toThrow('the table has no `status` column: map one with --columns status=COLUMN');
    expect(() => resolveColumns(['a'], { ts: 'a', ip: 'nope' })).toThrow('--columns maps ip to `nope`, which the table does not have (it has: a)');
  });
});

describe('quoting', () => {
  test('identifiers and tables: plain names stay, others are backquoted with escapes', () => {
    expect(quoteIdent('client_ip')).toBe('client_ip');
    expect(quoteIdent('my col`; DROP TABLE x; --')).toBe('`my col\\`; DROP TABLE x; --`');
    expect(quoteTable('web.access')).toBe('web.access');
    expect(quoteTable('a b.c')).toBe('`a b.c`');
  });
  test('string literals escape quotes, backslashes and control characters', () => {
    expect(sqlString("it's \\ a\ttab\nline\0")).toBe("'it\\'s \\\\ a\\ttab\\nline\\0'");
  });
});
