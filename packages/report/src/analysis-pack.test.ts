import { afterAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import MarkdownIt from 'markdown-it';
import { Timeline, analyze, burstSeries } from '@alf/core';
import type { GeoAnswer, GeoLookup } from '@alf/geo';
import { IP_KIND_V4, type DictColumn, type RecordBatch } from '@alf/parser';
import { verifyPack } from './verify.ts';
import { loadPayloads } from '../../../testdata/hostile/load-payloads.ts';
import {
  ANALYSIS_PACK_FILES, analysisPackCounts, databaseManifestEntries, openRejectsCsv, writeAnalysisPack,
} from './analysis-pack.ts';
import { createPack } from './pack-writer.ts';
import { analysisChartFiles } from './charts/chart-files.ts';
import { serializeManifest } from './manifest.ts';
import { REJECTS_COLUMNS } from './pack-tables.ts';
import { testPackInput, testRejects } from './test-analysis.ts';
import type { AnalysisPackInput } from './types.ts';

const HOSTILE = loadPayloads().map((p) => p.text);
/** A fixed, small set for the goldens (independent of edits to payloads.txt). */
const GOLDEN_HOSTILE = [
  '=1+1', '<script>alert(1)</script>', '![x](http://evil.example/x.png)', 'a | b', '`code`', '\x1b[31mred\x1b[0m',
  'user\u202eexe.txt', '[click](javascript:alert(1))', 'www.evil.example', '@SUM(1+1)', '\t=cmd', 'x"\n=1+1,"y',
];

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'alf-analysis-pack-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));
let seq = 0;

const FIXED_NOW = (): Date => new Date(Date.UTC(2026, 0, 1));

/** Writes a whole pack (rejects streamed in batches) into a fresh directory; returns the directory. */
async function writePack(input: AnalysisPackInput, hostile: readonly string[]): Promise<string> {
  const dir = path.join(tmpRoot, `pack-${++seq}`);
  const pack = await createPack(dir, { tool: { name: 'alf', version: input.toolVersion }, argv: ['analyze', 'x'], now: FIXED_NOW });
  const sink = openRejectsCsv(pack, { inputNames: input.inputs.map((i) => i.name) });
  const rejects = testRejects(hostile);
  for (let i = 0; i < rejects.length; i += 5) await sink.add(rejects.slice(i, i + 5));
  const entry = await sink.close();
  expect(entry.path).toBe('rejects.csv');
  expect(sink.rows).toBe(rejects.length);
  await writeAnalysisPack(pack, input);
  await pack.finish({ databases: databaseManifestEntries(input.databases), counts: analysisPackCounts(input, sink.rows) });
  return dir;
}

/** Every file of the pack (sub-folders such as charts/ included) by its /-separated relative path. */
function readPack(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const names = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
  for (const name of names.sort()) out[name] = readFileSync(path.join(dir, name), 'utf8');
  return out;
}

describe('writeAnalysisPack', () => {
  test('writes every file of the pack, listed with its SHA-256 in the manifest, no temp files left', async () => {
    const input = testPackInput(HOSTILE);
    const dir = await writePack(input, HOSTILE);
    const files = readPack(dir);
    const written = [...Object.values(ANALYSIS_PACK_FILES), ...analysisChartFiles(input.result)];
    expect(analysisChartFiles(input.result)).toEqual([
      'charts/timeline.svg', 'charts/burst-1.svg', 'charts/burst-1-asns.svg', 'charts/burst-1-countries.svg',
      'charts/burst-2.svg', 'charts/burst-2-asns.svg', 'charts/burst-2-countries.svg',
    ]);
    expect(Object.keys(files)).toEqual([...written, 'manifest.json'].sort());
    const manifest = JSON.parse(files['manifest.json']!) as { status: string; files: { path: string; sha256: string }[]; counts: Record<string, unknown> };
    expect(manifest.status).toBe('complete');
    expect(manifest.files.map((f) => f.path)).toEqual(written.sort());
    for (const f of manifest.files) {
      expect(createHash('sha256').update(readFileSync(path.join(dir, f.path))).digest('hex'), f.path).toBe(f.sha256);
    }
    expect(manifest.counts['rejectRows']).toBe(HOSTILE.length);
    expect(manifest.counts['rejectedByReason']).toEqual({ empty: 2, field_count: 4, bad_time: 1 });
  });

  test('rejects.csv re-parses: header, one row per reject, fixed width, escaped excerpts', async () => {
    const dir = await writePack(testPackInput(HOSTILE), HOSTILE);
    const rows = parse(readFileSync(path.join(dir, 'rejects.csv'), 'utf8')) as string[][];
    expect(rows[0]).toEqual(REJECTS_COLUMNS);
    expect(rows).toHaveLength(HOSTILE.length + 1);
    for (const r of rows) expect(r).toHaveLength(5);
    expect(rows.map((r) => r[4]).join('')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
  });

  test('byte-identical across runs and time zones (manifest included, with a fixed clock)', async () => {
    const before = process.env['TZ'];
    try {
      const a = readPack(await writePack(testPackInput(HOSTILE), HOSTILE));
      process.env['TZ'] = 'Australia/Lord_Howe';
      const b = readPack(await writePack(testPackInput(HOSTILE), HOSTILE));
      expect(b).toEqual(a);
    } finally {
      if (before === undefined) delete process.env['TZ'];
      else process.env['TZ'] = before;
    }
  });

  test('golden pack', async () => {
    const dir = await writePack(testPackInput(GOLDEN_HOSTILE), GOLDEN_HOSTILE);
    const files = readPack(dir);
    for (const name of Object.values(ANALYSIS_PACK_FILES)) {
      if (name === 'timeline.csv') continue; // 120 rows of generated numbers; its format is covered in pack-tables tests
      await expect(files[name]).toMatchFileSnapshot(`__snapshots__/analysis-pack/${name}`);
    }
  });
});

describe('openRejectsCsv', () => {
  test('streams many rejects with backpressure and holds none of them', async () => {
    const dir = path.join(tmpRoot, `rejects-${++seq}`);
    const pack = await createPack(dir, { tool: { name: 'alf', version: '0' }, argv: [], now: FIXED_NOW });
    const sink = openRejectsCsv(pack, { inputNames: ['a.log', 'b.log', 'c.log'] });
    const batch = testRejects(HOSTILE);
    const n = 400; // ~50k rows, several times the stream's high-water mark
    for (let i = 0; i < n; i++) await sink.add(batch);
    const entry = await sink.close();
    expect(sink.rows).toBe(n * batch.length);
    const text = readFileSync(path.join(dir, 'rejects.csv'));
    expect(entry.size).toBe(text.length);
    expect(createHash('sha256').update(text).digest('hex')).toBe(entry.sha256);
    expect((parse(text) as string[][]).length).toBe(n * batch.length + 1);
    await pack.finish();
  });

  test('an empty rejects.csv still has its header; close is idempotent; add after close fails', async () => {
    const dir = path.join(tmpRoot, `rejects-${++seq}`);
    const pack = await createPack(dir, { tool: { name: 'alf', version: '0' }, argv: [], now: FIXED_NOW });
    const sink = openRejectsCsv(pack, { inputNames: [] });
    await sink.add([]);
    const [e1, e2] = await Promise.all([sink.close(), sink.close()]);
    expect(e1).toEqual(e2);
    expect(readFileSync(path.join(dir, 'rejects.csv'), 'utf8')).toBe('input,line,byte_offset,reason,excerpt\n');
    await expect(sink.add(testRejects(['x']))).rejects.toThrow(/after close/);
    await pack.finish();
  });

  test('destroy on abort leaves no rejects.csv and an interrupted manifest', async () => {
    const dir = path.join(tmpRoot, `rejects-${++seq}`);
    const pack = await createPack(dir, { tool: { name: 'alf', version: '0' }, argv: [], now: FIXED_NOW });
    const sink = openRejectsCsv(pack, { inputNames: ['a.log'] });
    await sink.add(testRejects(HOSTILE));
    sink.destroy();
    const m = await pack.abort('SIGINT');
    expect(m?.status).toBe('interrupted');
    expect(readdirSync(dir)).toEqual(['manifest.json']);
    expect(serializeManifest(m!)).not.toContain('rejects.csv');
  });
});

// ---------------------------------------------------------------------------
// With a real core analysis: background traffic plus a flood whose paths,
// user agents and AS organisations are hostile payloads.


interface Row { ts: number; ip: string; path: string; ua: string; status: number }

function batchOf(rows: readonly Row[]): RecordBatch {
  const n = rows.length;
  const dict = (get: (r: Row) => string | null): DictColumn => {
    const values: string[] = [];
    const index = new Map<string, number>();
    const ids = new Int32Array(n);
    rows.forEach((r, i) => {
      const v = get(r);
      if (v === null) return void (ids[i] = -1);
      let id = index.get(v);
      if (id === undefined) index.set(v, (id = values.push(v) - 1));
      ids[i] = id;
    });
    return { ids, values };
  };
  const f64 = (get: (r: Row, i: number) => number): Float64Array => Float64Array.from(rows, get);
  const none = dict(() => null);
  return {
    length: n,
    ts: f64((r) => r.ts),
    status: Uint16Array.from(rows, (r) => r.status),
    bytesSent: f64(() => 1000),
    durationMs: f64(() => Number.NaN),
    upstreamMs: f64(() => Number.NaN),
    ip: dict((r) => r.ip),
    ipKind: new Uint8Array(n).fill(IP_KIND_V4),
    method: dict(() => 'GET'),
    path: dict((r) => r.path),
    query: none,
    protocol: dict(() => 'HTTP/1.1'),
    referer: dict(() => '-'),
    userAgent: dict((r) => r.ua),
    vhost: none,
    user: none,
    forwardedFor: none,
    extra: new Map(),
    input: new Uint16Array(n),
    line: f64((_r, i) => i + 1),
    byteOffset: f64((_r, i) => i * 200),
  };
}

function hostileTraffic(): RecordBatch[] {
  const t0 = Date.UTC(2021, 2, 29, 8, 0, 0);
  const rows: Row[] = [];
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/120.0';
  for (let s = 0; s < 4 * 3600; s++) {
    for (let k = 0; k < 3; k++) {
      rows.push({ ts: t0 + s * 1000 + Math.floor(rand() * 1000), ip: `81.${Math.floor(rand() * 20)}.${Math.floor(rand() * 50)}.7`, path: '/', ua, status: 200 });
    }
  }
  const floodStart = 2 * 3600;
  for (let s = floodStart; s < floodStart + 600; s++) {
    for (let k = 0; k < 60; k++) {
      const i = (s + k) % HOSTILE.length;
      rows.push({ ts: t0 + s * 1000 + k * 16, ip: `203.0.113.${1 + (k % 8)}`, path: HOSTILE[i]!, ua: HOSTILE[(i + 7) % HOSTILE.length]!, status: 503 });
    }
  }
  rows.sort((a, b) => a.ts - b.ts);
  const out: RecordBatch[] = [];
  for (let i = 0; i < rows.length; i += 20_000) out.push(batchOf(rows.slice(i, i + 20_000)));
  return out;
}

const hostileGeo: GeoLookup = {
  lookup(ip: string): GeoAnswer {
    const flood = ip.startsWith('203.0.113.');
    const h = HOSTILE[Number(ip.split('.')[3]) % HOSTILE.length]!;
    return {
      asn: flood ? 64500 : 3320, asOrg: flood ? h : 'Deutsche Telekom AG', country: flood ? h.slice(0, 2) : 'DE', continent: null, city: null,
      network: null, aggPrefix: ip.replace(/\.\d+$/, '.0/24'), label: null, error: false,
    };
  },
};

describe('with a real core analysis', () => {
  test('finds the flood, writes a pack that verifies, re-parses and renders safely', async () => {
    const batches = hostileTraffic();
    const result = analyze(batches, hostileGeo);
    expect(result.bursts.length).toBeGreaterThan(0);
    const base = testPackInput(HOSTILE);
    const input: AnalysisPackInput = { ...base, result };
    const dir = await writePack(input, HOSTILE);
    const v = await verifyPack(dir);
    expect(v.ok).toBe(true);
    const files = readPack(dir);
    for (const name of Object.values(ANALYSIS_PACK_FILES).filter((n) => n.endsWith('.csv'))) {
      const rows = parse(files[name]!) as string[][];
      const width = rows[0]!.length;
      for (const r of rows) expect(r, name).toHaveLength(width);
      for (const cell of rows.flat()) {
        if (/^-?\d+(?:\.\d+)?$/.test(cell)) continue;
        expect(cell, `${name}: ${JSON.stringify(cell)}`).not.toMatch(/^[\s\u200b\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\u0000-\u001f]/);
      }
    }
    const attackers = parse(files['attackers.csv']!, { columns: true }) as Record<string, string>[];
    expect(attackers.some((a) => a['ip']!.startsWith('203.0.113.'))).toBe(true);
    const html = new MarkdownIt({ html: true, linkify: true }).render(files['summary.md']!);
    expect(html).not.toMatch(/<script|<svg|<iframe/i);
    // the only images are alf's charts, by fixed paths under charts/
    for (const m of html.matchAll(/<img\b([^>]*)>/g)) {
      expect(m[1], m[0]).toMatch(/^ src="charts\/(?:timeline|burst-\d+(?:-asns|-countries)?)\.svg" alt="[A-Za-z0-9 ,:]+"$/);
    }
    expect([...html.matchAll(/<img\b/g)]).toHaveLength(1 + 3 * result.bursts.length);
    // the only links are the databases' attribution URLs, which alf writes itself
    const attributionUrls = input.databases.flatMap((d) => [...(d.attribution ?? '').matchAll(/https?:\/\/[^\s()]+[^\s().,;]/g)].map((m) => m[0]));
    for (const m of html.matchAll(/<a\b([^>]*)>/g)) expect(attributionUrls.map((u) => ` href="${u}"`), m[0]).toContain(m[1]);
    expect(files['summary.md']).toContain('### Burst 1:');
  });

  test('with core burstSeries the burst zooms are drawn per second or per 10 s', async () => {
    const batches = hostileTraffic();
    const result = analyze(batches, hostileGeo);
    const timeline = new Timeline();
    for (const b of batches) timeline.add(b);
    const series = result.bursts.map((b) => burstSeries(timeline, b));
    const dir = path.join(tmpRoot, `pack-${++seq}`);
    const input: AnalysisPackInput = { ...testPackInput(HOSTILE), result };
    const pack = await createPack(dir, { tool: { name: 'alf', version: input.toolVersion }, argv: ['analyze', 'x'], now: FIXED_NOW });
    await writeAnalysisPack(pack, input, { burstSeries: series });
    await pack.finish({});
    expect((await verifyPack(dir)).ok).toBe(true);
    const zoom = readFileSync(path.join(dir, 'charts/burst-1.svg'), 'utf8');
    expect(zoom).toMatch(/>Each step is (?:one second|the average over 10 s)/);
  });
});
