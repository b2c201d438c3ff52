/**
 * records.arrow and evidence/burst-<id>.log from `alf analyze`, spawned
 * through real pipes: rows and burst ids against bursts.csv, evidence lines
 * against the original (gunzipped) file, hostile bytes escaped, `--records
 * all|none`, standard input = file. DuckDB is tried when installed with its
 * Arrow extension (skipped otherwise: the extension is downloaded at run time).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AnalysisResult } from '@alf/core';
import { readRecordsArrow } from '@alf/report';
import type { RecordsArrowContent } from '@alf/report';
import { validateAnalyzeOptions } from './analyze-options.ts';
import { BurstIndex } from './analyze-records.ts';
import { ROOT, spawnAlf as alf, type SpawnResult as Run } from './test-cli.ts';

const root = ROOT;
const burstLog = join(root, 'testdata/real/secrepo/access.log.2018-12-15.gz');

const HOSTILE = Buffer.concat([
  Buffer.from('evil'), Buffer.from([0x1b]), Buffer.from(']0;pwned'), Buffer.from([0x07]), Buffer.from('\u202Egnp.exe'),
  Buffer.from([0x9b, 0xff, 0xfe]), Buffer.from('\\x41\t'),
]);

/** Six hours of quiet traffic and a 10-minute flood from one IP whose user agent holds ESC, BEL, bidi and invalid UTF-8. */
function hostileLog(): Buffer {
  const MON = ['Jan', 'Feb', 'Mar'];
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = (ms: number): string => {
    const d = new Date(ms);
    return `${p(d.getUTCDate())}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
  };
  const t0 = Date.UTC(2024, 2, 1);
  const rows: [number, Buffer][] = [];
  for (let s = 0; s < 6 * 3600; s += 30) {
    rows.push([t0 + s * 1000, Buffer.from(`198.51.100.${((s / 30) % 20) + 1} - - [${stamp(t0 + s * 1000)}] "GET /page/${s % 7} HTTP/1.1" 200 512 "-" "Mozilla/5.0"`)]);
  }
  for (let i = 0; i < 3000; i++) {
    const ms = t0 + 3 * 3_600_000 + Math.floor(i / 5) * 1000;
    rows.push([ms, Buffer.concat([Buffer.from(`203.0.113.5 - - [${stamp(ms)}] "GET /login?u=${i} HTTP/1.1" 401 12 "-" "`), HOSTILE, Buffer.from('"')])]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  return Buffer.concat(rows.flatMap(([, l]) => [l, Buffer.from('\n')]));
}

/** Undoes the evidence escaping: `\xNN` → byte, `\\` → `\`. */
function unescape(text: string): Buffer {
  const b = Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x5c && b[i + 1] === 0x5c) { out.push(0x5c); i++; continue; }
    if (b[i] === 0x5c && b[i + 1] === 0x78) { out.push(parseInt(b.subarray(i + 2, i + 4).toString('latin1'), 16)); i += 3; continue; }
    out.push(b[i]!);
  }
  return Buffer.from(out);
}

interface Cited { input: string; line: number; byteOffset: number; text: string }

function citedLines(evidence: string): Cited[] {
  return evidence.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const m = /^(.*?):(\d+)@(\d+): (.*)$/.exec(l);
    if (!m) throw new Error(`not a cited line: ${l}`);
    return { input: m[1]!, line: Number(m[2]), byteOffset: Number(m[3]), text: m[4]! };
  });
}

/** Lines of a buffer with their byte offsets. */
function linesOf(bytes: Buffer): { line: Buffer; offset: number }[] {
  const out: { line: Buffer; offset: number }[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(10); nl >= 0; nl = bytes.indexOf(10, start)) {
    out.push({ line: bytes.subarray(start, nl), offset: start });
    start = nl + 1;
  }
  if (start < bytes.length) out.push({ line: bytes.subarray(start), offset: start });
  return out;
}

const burstsCsv = async (pack: string): Promise<{ id: number; requests: number }[]> =>
  (await readFile(join(pack, 'bursts.csv'), 'utf8')).trimEnd().split('\n').slice(1)
    .map((l) => l.split(',')).map((c) => ({ id: Number(c[0]), requests: Number(c[4]) }));

const countBy = (rows: RecordsArrowContent['rows'], col: string): Map<unknown, number> => {
  const m = new Map<unknown, number>();
  for (const r of rows) m.set(r[col], (m.get(r[col]) ?? 0) + 1);
  return m;
};

let dir: string;
const runs: Record<string, Run> = {};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alf-records-test-'));
  await writeFile(join(dir, 'hostile.log'), hostileLog());
  const gz = await readFile(burstLog);
  const [file, stdin, all, none, hostile] = await Promise.all([
    alf(['analyze', burstLog, '--out', join(dir, 'file'), '--quiet']),
    alf(['analyze', '-', '--out', join(dir, 'stdin'), '--quiet'], gz),
    alf(['analyze', burstLog, '--records', 'all', '--out', join(dir, 'all'), '--quiet']),
    alf(['analyze', burstLog, '--records=none', '--out', join(dir, 'none'), '--quiet']),
    alf(['analyze', join(dir, 'hostile.log'), '--out', join(dir, 'hostile'), '--quiet']),
  ]);
  Object.assign(runs, { file, stdin, all, none, hostile });
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('records.arrow', () => {
  test('--records bursts (default): the records of each burst, as many as bursts.csv says, enriched', async () => {
    expect(runs['file']!.code, runs['file']!.stderr).toBe(0);
    const bursts = await burstsCsv(join(dir, 'file'));
    expect(bursts.length).toBeGreaterThan(0);
    const t = readRecordsArrow(await readFile(join(dir, 'file/records.arrow')));
    expect(t.columns).toEqual(['ts', 'ip', 'prefix', 'asn', 'country', 'method', 'path', 'query', 'status', 'bytes', 'referer',
      'user_agent', 'input', 'line', 'byte_offset', 'burst_id']);
    const byBurst = countBy(t.rows, 'burst_id');
    for (const b of bursts) expect(byBurst.get(b.id), `burst ${b.id}`).toBe(b.requests);
    expect(t.rows.length).toBe(bursts.reduce((s, b) => s + b.requests, 0));
    expect(byBurst.get(1)).toBe(4162);
    const top = t.rows.find((r) => r['ip'] === '198.72.227.213')!;
    expect(top).toMatchObject({ prefix: '198.72.227.0/24', burst_id: 1, method: 'GET', input: expect.stringMatching(/^access\.log\.2018-12-15\.gz \(sha256:[0-9a-f]{16}\)$/) });
    expect(typeof top['asn']).toBe('number');
    // Every row points at its original line.
    const original = linesOf(gunzipSync(await readFile(burstLog)));
    for (const r of t.rows.slice(0, 50)) {
      const at = original[(r['line'] as number) - 1]!;
      expect(at.offset).toBe(r['byte_offset']);
      expect(at.line.toString('utf8')).toContain(String(r['ip']));
    }
    const summary = await readFile(join(dir, 'file/summary.md'), 'utf8');
    expect(summary).toContain('- **Records:** `records.arrow` (burst_id = 1, 4,162 rows); evidence lines: `evidence/burst-1.log`');
    const manifest = JSON.parse(await readFile(join(dir, 'file/manifest.json'), 'utf8')) as { files: { path: string }[]; counts: Record<string, unknown> };
    expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(['records.arrow', 'evidence/burst-1.log']));
    expect(manifest.counts['recordsArrowRows']).toBe(t.rows.length);
  });

  test('--records all: every parsed record; burst_id null outside the bursts', async () => {
    expect(runs['all']!.code).toBe(0);
    const t = readRecordsArrow(await readFile(join(dir, 'all/records.arrow')));
    expect(t.rows.length).toBe(4961);
    expect(t.metadata.get('alf.records')).toBe('all');
    const byBurst = countBy(t.rows, 'burst_id');
    expect(byBurst.get(1)).toBe(4162);
    expect(byBurst.get(null)).toBe(4961 - 4162);
    expect(t.rows.map((r) => r['line'])).toEqual(Array.from({ length: 4961 }, (_, i) => i + 1));
  });

  test('--records none: no records.arrow, evidence lines still written', async () => {
    expect(runs['none']!.code).toBe(0);
    expect(existsSync(join(dir, 'none/records.arrow'))).toBe(false);
    expect(existsSync(join(dir, 'none/evidence/burst-1.log'))).toBe(true);
    expect(await readFile(join(dir, 'none/summary.md'), 'utf8')).toContain('- **Records:** evidence lines: `evidence/burst-1.log`');
  });

  test('standard input gives the same records as the file (input named stdin)', async () => {
    expect(runs['stdin']!.code).toBe(0);
    const a = readRecordsArrow(await readFile(join(dir, 'file/records.arrow')));
    const b = readRecordsArrow(await readFile(join(dir, 'stdin/records.arrow')));
    const unnamed = (t: RecordsArrowContent): unknown[] => t.rows.map((r) => ({ ...r, input: String(r['input']).replace(/^.* \(sha256:/, '(sha256:') }));
    expect(unnamed(b)).toEqual(unnamed(a));
    expect(b.rows[0]!['input']).toMatch(/^stdin \(sha256:/);
    const evidence = async (d: string): Promise<string> =>
      (await readFile(join(dir, d, 'evidence/burst-1.log'), 'utf8')).replaceAll(/^(stdin|access\.log\.2018-12-15\.gz) \(sha256:/gm, '(sha256:');
    expect(await evidence('stdin')).toBe(await evidence('file'));
  });

  test('DuckDB reads it (when @duckdb/node-api and its arrow extension are available)', async (ctx) => {
    let duck: { DuckDBInstance: { create(path: string): Promise<{ connect(): Promise<{ runAndReadAll(sql: string): Promise<{ getRows(): unknown[][] }> }> }> } };
    try {
      duck = (await import(process.env['ALF_TEST_DUCKDB'] ?? '@duckdb/node-api')) as typeof duck;
    } catch {
      ctx.skip();
      return;
    }
    const con = await (await duck.DuckDBInstance.create(':memory:')).connect();
    try {
      await con.runAndReadAll('LOAD nanoarrow');
    } catch {
      try {
        await con.runAndReadAll('INSTALL nanoarrow FROM community');
        await con.runAndReadAll('LOAD nanoarrow');
      } catch {
        ctx.skip();
        return;
      }
    }
    const file = join(dir, 'file/records.arrow').replaceAll("'", "''");
    const rows = (await con.runAndReadAll(`SELECT burst_id, count(*) AS n FROM read_arrow('${file}') GROUP BY burst_id`)).getRows();
    const bursts = await burstsCsv(join(dir, 'file'));
    expect(rows.map(([id, n]) => [Number(id), Number(n)]).sort()).toEqual(bursts.map((b) => [b.id, b.requests]).sort());
  });
});

describe('evidence/burst-<id>.log', () => {
  test('each cited line is the original line at that line number and byte offset, byte for byte', async () => {
    const text = await readFile(join(dir, 'file/evidence/burst-1.log'), 'utf8');
    expect(text).toMatch(/^# alf evidence lines: burst 1 \(attack\)/);
    expect(text).toContain('DECOMPRESSED');
    const cited = citedLines(text);
    // first 20 + 20 spread + last 20 + 5 per attacker (one attacker here), repeats allowed across sections
    expect(cited.length).toBeGreaterThanOrEqual(60);
    const original = linesOf(gunzipSync(await readFile(burstLog)));
    for (const c of cited) {
      expect(c.input).toMatch(/^access\.log\.2018-12-15\.gz \(sha256:[0-9a-f]{16}\)$/);
      const at = original[c.line - 1]!;
      expect(at.offset, `line ${c.line}`).toBe(c.byteOffset);
      expect(unescape(c.text).equals(at.line), `line ${c.line}`).toBe(true);
    }
    const records = readRecordsArrow(await readFile(join(dir, 'file/records.arrow')));
    const inBurst = new Set(records.rows.filter((r) => r['burst_id'] === 1).map((r) => r['line']));
    for (const c of cited) expect(inBurst.has(c.line)).toBe(true);
  });

  test('hostile bytes (ESC, BEL, bidi override, 8-bit CSI, invalid UTF-8, tab) come out as visible escapes', async () => {
    expect(runs['hostile']!.code, runs['hostile']!.stderr).toBe(0);
    const raw = await readFile(join(dir, 'hostile/evidence/burst-1.log'));
    const text = raw.toString('utf8');
    expect(text).toContain('"evil\\x1B]0;pwned\\x07\\xE2\\x80\\xAEgnp.exe\\x9B\\xFF\\xFE\\\\x41\\x09"');
    // Nothing a terminal would act on, and the file is valid UTF-8.
    expect(raw.includes(0x1b)).toBe(false);
    expect(raw.includes(0x07)).toBe(false);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufffd]/);
    const original = linesOf(await readFile(join(dir, 'hostile.log')));
    const cited = citedLines(text);
    expect(cited.some((c) => c.text.includes('pwned'))).toBe(true);
    for (const c of cited) expect(unescape(c.text).equals(original[c.line - 1]!.line)).toBe(true);
    // records.arrow keeps the parsed (decoded) user agent as data.
    const t = readRecordsArrow(await readFile(join(dir, 'hostile/records.arrow')));
    expect(String(t.rows.find((r) => r['ip'] === '203.0.113.5')!['user_agent'])).toContain('\u202E');
  });
});

describe('which burst a record belongs to', () => {
  // Window 0 (10:00:00–10:09:59) split into bursts 1 and 2; window 1 (12:00:00–12:00:59) is burst 3.
  const t = (h: number, m: number, sec = 0): number => Date.UTC(2024, 0, 1, h, m, sec);
  const result = {
    windows: [{ startMs: t(10, 0), endMs: t(10, 9, 59) }, { startMs: t(12, 0), endMs: t(12, 0, 59) }],
    bursts: [
      { burstId: 1, windowIndex: 0, startMs: t(10, 0), endMs: t(10, 5) },
      { burstId: 2, windowIndex: 0, startMs: t(10, 2), endMs: t(10, 9, 59) },
      { burstId: 3, windowIndex: 1, startMs: t(12, 0), endMs: t(12, 0, 59) },
    ],
    attackers: [{ burstId: 1, ip: '192.0.2.1' }, { burstId: 2, ip: '198.51.100.2' }, { burstId: 3, ip: '203.0.113.3' }],
  } as unknown as AnalysisResult;
  const index = new BurstIndex(result);

  test.for([
    ['attacker of burst 2 in the split window', t(10, 1), '198.51.100.2', 2],
    ['attacker of burst 1', t(10, 8), '192.0.2.1', 1],
    ['a bystander in the split window: its first burst', t(10, 3), '10.0.0.9', 1],
    ['the last second of a window is inside', t(10, 9, 59) + 999, '198.51.100.2', 2],
    ['just after a window: outside', t(10, 10), '198.51.100.2', -1],
    ['any IP in an unsplit window', t(12, 0, 30), '10.0.0.9', 3],
    ['an attacker of burst 3 outside its window', t(11, 0), '203.0.113.3', -1],
    ['a host name client', t(12, 0, 0), null, 3],
  ] as const)('%s', ([, ts, ip, burst]) => {
    expect(index.burstOf(ts, ip)).toBe(burst);
  });
});

describe('--records', () => {
  test('defaults to bursts; takes all or none; anything else is a usage error naming the choices', () => {
    expect(validateAnalyzeOptions({}).records).toBe('bursts');
    expect(validateAnalyzeOptions({ records: 'all' }).records).toBe('all');
    expect(validateAnalyzeOptions({ records: 'none' }).records).toBe('none');
    expect(() => validateAnalyzeOptions({ records: 'burst' })).toThrow(/`--records` must be one of bursts, all, none; got `burst` \(did you mean `bursts`\?\)/);
  });
});
