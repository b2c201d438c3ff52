import { afterAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { ClientSet } from '@alf/core';
import type { Attacker } from '@alf/core';
import { loadPayloads } from '../../../testdata/hostile/load-payloads.ts';
import { ABUSE_COLUMNS, abuseCsv, abuseRows, blocklistAndAbuseFiles } from './abuse-csv.ts';
import { writeAnalysisPack } from './analysis-pack.ts';
import { burstBlocklists } from './blocklist.ts';
import { createPack } from './pack-writer.ts';
import { testPackInput } from './test-analysis.ts';
import type { AnalysisPackInput } from './types.ts';
import { verifyPack } from './verify.ts';

const HOSTILE = loadPayloads().map((p) => p.text);

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'alf-abuse-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

/** The two-burst test input with a client set: the attackers plus two normal clients near them. */
function inputWithClients(hostile: readonly string[]): AnalysisPackInput {
  const base = testPackInput(hostile);
  const clients = new ClientSet();
  for (const a of base.result.attackers) clients.addText(a.ip);
  clients.addText('192.0.2.200'); // keeps burst 2 from taking the whole 192.0.2.0/24
  clients.addText('203.0.113.8');
  return { ...base, clients: clients.snapshot() };
}

describe('abuse.csv', () => {
  test('one row per (burst, ASN), most requests first, hostile AS names neutralised; re-parses with a fixed width', () => {
    const input = inputWithClients(HOSTILE);
    const rows = abuseRows(input.result.bursts, input.result.attackers, burstBlocklists(input)!);
    expect(rows.map((r) => [r.burstId, r.asn, r.attackerIps, r.requests])).toEqual([
      [1, 64500, 2, 180_000],
      [1, 64501, 1, 70_000],
      [1, null, 1, 30_000],
      [2, 64502, 3, 1900],
    ]);
    expect(rows[0]!.prefixes).toEqual(['198.51.100.23/32', '203.0.113.7/32']);
    expect(rows[1]!.prefixes).toEqual(['2001:db8:1::5/128']);
    expect(rows[2]!.prefixes).toEqual([]); // a host name has no prefix
    expect(rows[3]!.prefixes).toEqual(['192.0.2.0/30']);

    const csv = abuseCsv(rows);
    const parsed = parse(csv) as string[][];
    expect(parsed).toHaveLength(rows.length + 1);
    expect(parsed[0]).toEqual([...ABUSE_COLUMNS]);
    for (const r of parsed) expect(r).toHaveLength(ABUSE_COLUMNS.length);
    const byName = parse(csv, { columns: true }) as Record<string, string>[];
    expect(byName[0]).toMatchObject({
      burst_id: '1', asn: '64500', attacker_ips: '2', requests: '180000', window_start: '2021-03-29T10:15:00Z', window_end: '2021-03-29T10:45:59Z',
      first_seen: '2021-03-29T10:15:01Z', prefixes: '198.51.100.23/32 203.0.113.7/32',
    });
    for (const cell of parsed.flat()) {
      if (/^-?\d+(?:\.\d+)?$/.test(cell)) continue;
      expect(cell, JSON.stringify(cell)).not.toMatch(/^[\s\u200b\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\u0000-\u001f]/);
    }
  });

  test('every hostile payload as an AS organisation stays one cell', () => {
    const attackers: Attacker[] = HOSTILE.map((h, i) => ({
      burstId: 1, ip: `10.0.${i >> 8}.${i & 255}`, requests: 1000 - i, excessRequests: 1, expectedRequests: 0, firstSeenMs: 0, lastSeenMs: 1000,
      isNew: true, prefix: null, asn: 65000 + i, asOrg: h, country: null, topPath: null, topUserAgent: null,
    }));
    const input = testPackInput(HOSTILE);
    const rows = abuseRows(input.result.bursts.filter((b) => b.burstId === 1), attackers, new Map());
    const parsed = parse(abuseCsv(rows)) as string[][];
    expect(parsed).toHaveLength(HOSTILE.length + 1);
    for (const r of parsed) expect(r).toHaveLength(ABUSE_COLUMNS.length);
    for (const r of parsed.slice(1)) expect(r[2]).not.toMatch(/^[\s\u200b\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\u0000-\u001f]/);
  });

  test('no client set: no blocklists and no abuse.csv', () => {
    expect(blocklistAndAbuseFiles(testPackInput(HOSTILE))).toEqual([]);
  });
});

describe('in the pack', () => {
  test('blocklists/ and abuse.csv are written, hashed in the manifest and named in summary.md', async () => {
    const input = inputWithClients(HOSTILE);
    const dir = path.join(tmpRoot, 'pack');
    const pack = await createPack(dir, { tool: { name: 'alf', version: input.toolVersion }, argv: ['analyze', 'x'], now: () => new Date(0) });
    const entries = await writeAnalysisPack(pack, input);
    await pack.finish({});
    const names = entries.map((e) => e.path);
    for (const id of [1, 2]) {
      for (const ext of ['txt', 'nginx.conf', 'nft', 'ipset']) expect(names).toContain(`blocklists/burst-${id}.${ext}`);
    }
    expect(names).toContain('abuse.csv');
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { files: { path: string }[] };
    expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(['abuse.csv', 'blocklists/burst-1.txt', 'blocklists/burst-2.nft']));
    expect((await verifyPack(dir)).ok).toBe(true);
    const txt = readFileSync(path.join(dir, 'blocklists/burst-2.txt'), 'utf8');
    expect(txt).toContain('# normal clients covered: 0 (of 5 normal clients seen in the inputs)');
    expect(txt.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual(['192.0.2.0/30']);
    const summary = readFileSync(path.join(dir, 'summary.md'), 'utf8');
    expect(summary).toContain('- **Blocklist:** `blocklists/burst-1.txt` (3 prefixes, 0 normal clients covered)');
    expect(summary).toContain('- **Blocklist:** `blocklists/burst-2.txt` (1 prefix, 0 normal clients covered)');
  });
});
