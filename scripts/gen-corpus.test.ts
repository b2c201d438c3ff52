import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from 'vitest';
import { createCorpus } from './bench/corpus/generate.ts';
import type { CorpusLabels } from './bench/corpus/generate.ts';

function generate(lines: number, seed: number, extra: { distinctIps?: number; chunkBytes?: number } = {}): { text: string; labels: CorpusLabels } {
  const corpus = createCorpus({ lines, seed, ...extra });
  let text = '';
  for (const chunk of corpus.chunks) text += chunk.toString('latin1');
  return { text, labels: corpus.labels };
}

/** Combined format, checked by structure only: client, ident, user, [time], "request", status, bytes, "referer", "agent". */
const COMBINED = /^(\S+) (\S+) (\S+) \[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function epochMs(m: RegExpExecArray): number {
  const offsetMin = (m[10]!.startsWith('-') ? -1 : 1) * (Number(m[10]!.slice(1, 3)) * 60 + Number(m[10]!.slice(3)));
  const local = Date.UTC(Number(m[6]), MONTHS.indexOf(m[5]!), Number(m[4]), Number(m[7]), Number(m[8]), Number(m[9]));
  return local - offsetMin * 60_000;
}

const sample = generate(6000, 7);
const lines = sample.text.split('\n');
const oddLineNumbers = new Set(sample.labels.odd.lines.map(([line]) => line));

describe('synthetic corpus', () => {
  test('the same seed gives the same bytes, whatever the chunk size; another seed does not', () => {
    const again = generate(6000, 7, { chunkBytes: 1024 });
    expect(again.text).toBe(sample.text);
    expect(generate(6000, 8).text).not.toBe(sample.text);
  });

  test('writes exactly the requested number of newline-terminated lines', () => {
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(6000);
  });

  test('every line not labelled odd is a well-formed combined line in +0200', () => {
    const bad: string[] = [];
    lines.forEach((line, i) => {
      if (oddLineNumbers.has(i + 1)) return;
      const m = COMBINED.exec(line);
      if (!m || m[10] !== '+0200' || !/^[A-Z]+ \S+ HTTP\/[12]\.[01]$/.test(m[11]!)) bad.push(line);
    });
    expect(bad).toEqual([]);
  });

  test('the flood comes from the labelled /24s, inside its window, at tens of times the baseline rate', () => {
    const { flood } = sample.labels;
    const floodIps = new Set(flood.ips);
    expect(floodIps.size).toBeGreaterThanOrEqual(200);
    let inWindow = 0;
    let floodLines = 0;
    let first = Infinity;
    let last = -Infinity;
    for (const line of lines) {
      const m = COMBINED.exec(line);
      if (!m) continue;
      const t = epochMs(m);
      first = Math.min(first, t);
      last = Math.max(last, t);
      if (t >= flood.startMs && t < flood.endMs) inWindow++;
      if (floodIps.has(m[1]!)) {
        floodLines++;
        expect(flood.prefixes.some((p) => m[1]!.startsWith(p.replace(/0\/24$/, '')))).toBe(true);
        expect(t).toBeGreaterThanOrEqual(flood.startMs);
        expect(t).toBeLessThan(flood.endMs);
        expect(m[11]!.startsWith(`GET ${flood.path}?`)).toBe(true);
      }
    }
    expect(floodLines).toBe(flood.lines);
    const windowRate = inWindow / (flood.endMs - flood.startMs);
    const outsideRate = (lines.length - inWindow) / (last - first - (flood.endMs - flood.startMs));
    expect(windowRate / outsideRate).toBeGreaterThan(20);
  });

  test('about 5% of background lines come from IPv6 clients', () => {
    const floodIps = new Set(sample.labels.flood.ips);
    let background = 0;
    let v6 = 0;
    for (const line of lines) {
      const ip = line.slice(0, line.indexOf(' '));
      if (ip === '' || floodIps.has(ip)) continue;
      background++;
      if (ip.includes(':')) v6++;
    }
    expect(v6 / background).toBeGreaterThan(0.035);
    expect(v6 / background).toBeLessThan(0.065);
  });

  test('clients are heavy-tailed: the busiest tenth of clients send most background requests', () => {
    const counts = new Map<string, number>();
    const floodIps = new Set(sample.labels.flood.ips);
    for (const line of lines) {
      const ip = line.slice(0, line.indexOf(' '));
      if (ip !== '' && !floodIps.has(ip)) counts.set(ip, (counts.get(ip) ?? 0) + 1);
    }
    const sorted = [...counts.values()].sort((a, b) => b - a);
    const total = sorted.reduce((a, b) => a + b, 0);
    const top = sorted.slice(0, Math.ceil(sorted.length / 10)).reduce((a, b) => a + b, 0);
    expect(top / total).toBeGreaterThan(0.4);
  });

  test('--distinct-ips: every client of the pool appears once background lines cover it', () => {
    const { text, labels } = generate(20_000, 3, { distinctIps: 12_000 });
    const floodIps = new Set(labels.flood.ips);
    const distinct = new Set<string>();
    for (const line of text.split('\n')) {
      const ip = line.slice(0, line.indexOf(' '));
      if (ip !== '' && !floodIps.has(ip) && !ip.includes('.googlebot.')) distinct.add(ip);
    }
    expect(distinct.size).toBeGreaterThan(11_500);
    expect(distinct.size).toBeLessThanOrEqual(12_000);
  });
});

describe('gen-corpus command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-gen-corpus-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('writes the same bytes as the generator, gzipped, with labels', () => {
    const out = join(dir, 'c.log.gz');
    const labelsPath = join(dir, 'labels.json');
    const run = spawnSync(
      process.execPath,
      ['--conditions=alf-source', '--import', 'tsx', 'scripts/gen-corpus.ts', '--lines', '3k', '--seed', '7', '--out', out, '--gzip', '--labels', labelsPath],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toContain('gen-corpus: 3000 lines');
    expect(run.status).toBe(0);
    const expected = generate(3000, 7);
    expect(gunzipSync(readFileSync(out)).toString('latin1')).toBe(expected.text);
    expect(JSON.parse(readFileSync(labelsPath, 'utf8'))).toEqual(expected.labels);
  });
});
