import { afterAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadPayloads } from '../../../testdata/hostile/load-payloads.ts';
import {
  ANALYSIS_PACK_FILES, analysisPackCounts, databaseManifestEntries, openRejectsCsv, writeAnalysisPack,
} from './analysis-pack.ts';
import { createPack } from './pack-writer.ts';
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

function readPack(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) out[name] = readFileSync(path.join(dir, name), 'utf8');
  return out;
}

describe('writeAnalysisPack', () => {
  test('writes every file of the pack, listed with its SHA-256 in the manifest, no temp files left', async () => {
    const dir = await writePack(testPackInput(HOSTILE), HOSTILE);
    const files = readPack(dir);
    expect(Object.keys(files)).toEqual([...Object.values(ANALYSIS_PACK_FILES), 'manifest.json'].sort());
    const manifest = JSON.parse(files['manifest.json']!) as { status: string; files: { path: string; sha256: string }[]; counts: Record<string, unknown> };
    expect(manifest.status).toBe('complete');
    expect(manifest.files.map((f) => f.path)).toEqual(Object.values(ANALYSIS_PACK_FILES).sort());
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
