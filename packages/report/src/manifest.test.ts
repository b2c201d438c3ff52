import { afterAll, describe, expect, test } from 'vitest';
import * as fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AlfError } from '@alf/parser';
import { MANIFEST_NAME, buildManifest, canonicalJson, parseManifest, serializeManifest, type ManifestParts } from './manifest.ts';
import { createPack } from './pack-writer.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
});

const parts = (over: Partial<ManifestParts> = {}): ManifestParts => ({
  status: 'complete',
  tool: { name: 'alf', version: '0.1.0' },
  argv: ['alf', 'analyze', '--format', 'nginx', 'b.log', 'a.log'],
  options: { tz: 'UTC', format: 'nginx', windows: [60, 900] },
  inputs: [
    { path: 'b.log', stdin: false, size: 10, sha256: 'b'.repeat(64), complete: true },
    { path: 'a.log', stdin: false, size: 5, sha256: 'a'.repeat(64), complete: true },
  ],
  databases: [{ type: 'asn', sha256: 'c'.repeat(64), buildEpoch: 1700000000 }],
  counts: { parsed: 9, lines: 10, rejected: { bad_ip: 1 } },
  files: [
    { path: 'summary.md', size: 1, sha256: '1'.repeat(64) },
    { path: 'bursts.csv', size: 2, sha256: '2'.repeat(64) },
    { path: 'evidence/b1.log', size: 3, sha256: '3'.repeat(64) },
  ],
  startedAt: new Date(Date.UTC(2026, 10, 26, 10, 0, 0)),
  finishedAt: new Date(Date.UTC(2026, 10, 26, 10, 1, 0)),
  ...over,
});

describe('serializeManifest', () => {
  test('fixed top-level order, sorted nested keys, files sorted by path, caller order for inputs', () => {
    const text = serializeManifest(buildManifest(parts()));
    const top = [...text.matchAll(/^ {2}"(\w+)":/gm)].map((m) => m[1]);
    expect(top).toEqual(['format', 'formatVersion', 'status', 'statusReason', 'tool', 'command', 'inputs', 'databases', 'counts', 'notes', 'files', 'run']);
    const m = JSON.parse(text);
    expect(Object.keys(m.counts)).toEqual(['lines', 'parsed', 'rejected']);
    expect(Object.keys(m.command.options)).toEqual(['format', 'tz', 'windows']);
    expect(m.files.map((f: { path: string }) => f.path)).toEqual(['bursts.csv', 'evidence/b1.log', 'summary.md']);
    expect(m.inputs.map((i: { path: string }) => i.path)).toEqual(['b.log', 'a.log']);
    expect(m.run).toEqual({ startedAt: '2026-11-26T10:00:00.000Z', finishedAt: '2026-11-26T10:01:00.000Z' });
    expect(text.endsWith('}\n')).toBe(true);
    expect(parseManifest(text)).toEqual(m);
  });

  test('the same content in any key order gives the same bytes', () => {
    const a = serializeManifest(buildManifest(parts()));
    const b = serializeManifest(
      buildManifest(parts({ options: { windows: [60, 900], format: 'nginx', tz: 'UTC' }, counts: { rejected: { bad_ip: 1 }, lines: 10, parsed: 9 } })),
    );
    expect(b).toBe(a);
  });

  test('attacker text in options or notes stays inert JSON', () => {
    const evil = '</script><script>alert(1)</script>\u2028\u2029\x1b[2J';
    const text = serializeManifest(buildManifest(parts({ options: { path: evil }, notes: [evil] })));
    expect(text).not.toMatch(/[<>\u2028\u2029\x1b]/);
    expect(JSON.parse(text).notes).toEqual([evil]);
  });

  test('canonicalJson: bigint as a number, undefined members dropped, non-finite numbers and cycles refused', () => {
    expect(canonicalJson({ b: 2n ** 64n, a: undefined, c: [] })).toBe('{\n  "b": 18446744073709551616,\n  "c": []\n}\n');
    expect(() => canonicalJson({ x: NaN })).toThrow(AlfError);
    const cyc: Record<string, unknown> = {};
    cyc['self'] = cyc;
    expect(() => canonicalJson(cyc as never)).toThrow(/cycle/);
  });

  test.for([
    ['not json', /invalid JSON/],
    ['[]', /not a JSON object/],
    ['{"format":"other"}', /"format"/],
    ['{"format":"alf-evidence-pack","formatVersion":1,"status":"done","files":[],"inputs":[]}', /"status"/],
    ['{"format":"alf-evidence-pack","formatVersion":1,"status":"complete","files":[{"path":"a","size":1,"sha256":"xyz"}],"inputs":[]}', /sha256/],
  ] as const)('parseManifest refuses %j', ([text, re]) => {
    expect(() => parseManifest(text)).toThrow(re);
  });
});

describe('deterministic packs', () => {
  async function makePack(clock: Date, tz: string): Promise<string> {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'alf-manifest-'));
    dirs.push(dir);
    const prevTz = process.env['TZ'];
    process.env['TZ'] = tz;
    try {
      const pack = await createPack(path.join(dir, 'pack'), {
        tool: { name: 'alf', version: '0.1.0' },
        argv: ['alf', 'analyze', 'x.log'],
        options: { to: null, from: null, format: 'nginx' },
        now: () => clock,
      });
      // Written in a different order each time: the manifest must not care.
      const files: Array<[string, string]> = [
        ['bursts.csv', 'burst_id,start\nb1,2021-03-29T10:15:00Z\n'],
        ['evidence/b1.log', '1.2.3.4 - - [29/Mar/2021:10:15:00 +0000] "GET / HTTP/1.1" 200 1\n'],
        ['summary.md', '# Summary\n'],
      ];
      if (clock.getUTCSeconds() % 2 === 1) files.reverse();
      await Promise.all(files.map(([n, d]) => pack.writeFile(n, d)));
      await pack.finish({
        inputs: [{ path: 'x.log', stdin: false, size: 3, sha256: 'f'.repeat(64), complete: true }],
        counts: { lines: 1, parsed: 1 },
        databases: [],
      });
      return path.join(dir, 'pack');
    } finally {
      if (prevTz === undefined) delete process.env['TZ'];
      else process.env['TZ'] = prevTz;
    }
  }

  test('same inputs give the same bytes in every file; the manifest differs only in run timestamps', async () => {
    const a = await makePack(new Date(Date.UTC(2026, 0, 1, 0, 0, 0)), 'UTC');
    const b = await makePack(new Date(Date.UTC(2026, 5, 30, 23, 59, 59)), 'Pacific/Chatham');
    for (const f of ['bursts.csv', 'evidence/b1.log', 'summary.md']) {
      expect(await fsp.readFile(path.join(b, f))).toEqual(await fsp.readFile(path.join(a, f)));
    }
    const ma = await fsp.readFile(path.join(a, MANIFEST_NAME), 'utf8');
    const mb = await fsp.readFile(path.join(b, MANIFEST_NAME), 'utf8');
    expect(ma).not.toBe(mb);
    const stripRun = (s: string): string => s.replace(/"(startedAt|finishedAt)": "[^"]*"/g, '"$1": "…"');
    expect(stripRun(mb)).toBe(stripRun(ma));
    expect(JSON.parse(ma).run).toEqual({ startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:00.000Z' });
  });
});
