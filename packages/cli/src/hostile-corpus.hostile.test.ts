/**
 * The hostile corpus (testdata/hostile/corpus.ts: framing, grammar and
 * compression cases) through the real CLI, spawned through pipes, together
 * with a clean real log. Checked for every input: lines read = parsed +
 * rejected (by reason) and equal to an independent count of the decoded
 * lines; every line number is a record or a reject exactly once; the flags
 * and reasons each case must raise; no internal error; the clean input's
 * records are the same as when it runs alone; nothing is written outside the
 * output. Then hostile payloads in every field of a burst, through every
 * output of the evidence pack.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readRecordsArrow } from '@alf/report';
import { hostileCorpus, payloadBurstLog } from '../../../testdata/hostile/corpus.ts';
import type { HostileCase } from '../../../testdata/hostile/corpus.ts';
import { loadPayloads } from '../../../testdata/hostile/load-payloads.ts';
import { parseXmlStrict } from '../../report/src/charts/test-xml.ts';
import { ROOT, spawnAlf } from './test-cli.ts';
import type { SpawnResult } from './test-cli.ts';

const clean = join(ROOT, 'testdata/real/secrepo/access.log.2018-12-15.gz');
const corpus = hostileCorpus();
let dir: string;
let inputs: string;

/** `alf …` as a child in `cwd` with its own TMPDIR, so stray files would show. */
const alfIn = (cwd: string, tmp: string, args: readonly string[]): Promise<SpawnResult> => spawnAlf(args, undefined, { ...process.env, TMPDIR: tmp }, cwd);

/** Entries of a directory tree, relative, sorted. */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) out.push(relative(root, join(e.parentPath, e.name)));
  return out.sort();
}

interface Counted { lines: number; parsed: number; rejected: number; reasons: Record<string, number>; flags: string[] }

/** Per-input accounting from the stderr summary of `alf parse`/`alf analyze`. */
function summaryCounts(stderr: string, path: string): Counted {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`  ${path} (`));
  expect(at, `summary line for ${path}\n${stderr}`).toBeGreaterThanOrEqual(0);
  const m = /; ([\d,]+) lines?: ([\d,]+) parsed, ([\d,]+) rejected/.exec(lines[at]!);
  expect(m, lines[at]).not.toBeNull();
  if (m === null) throw new Error('unreachable');
  const num = (s: string): number => Number(s.replace(/,/g, ''));
  const c: Counted = { lines: num(m[1]!), parsed: num(m[2]!), rejected: num(m[3]!), reasons: {}, flags: [] };
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith('    ')) break;
    const r = /^ {4}rejected: (.*)$/.exec(l);
    if (r) for (const part of r[1]!.split(', ')) { const [k, v] = part.split(' '); c.reasons[k!] = num(v!); }
    const f = /^ {4}flagged: ([a-z_, ]+?)(?: \(|$)/.exec(l);
    if (f) c.flags = f[1]!.split(', ');
  }
  return c;
}

function checkCase(c: HostileCase, got: Counted): void {
  const what = `${c.name}: ${JSON.stringify(got)}`;
  expect(got.parsed + got.rejected, what).toBe(got.lines);
  expect(Object.values(got.reasons).reduce((s, n) => s + n, 0), what).toBe(got.rejected);
  if (c.lines !== undefined) expect(got.lines, what).toBe(c.lines);
  expect(got.flags.sort(), what).toEqual([...c.flags].sort());
  for (const [reason, n] of Object.entries(c.reasons)) expect(got.reasons[reason] ?? 0, `${what} ${reason}`).toBeGreaterThanOrEqual(n);
  expect(got.parsed, what).toBeGreaterThanOrEqual(c.parsedAtLeast);
}

type Row = Record<string, unknown>;
const ndjson = (b: Buffer): Row[] => b.toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alf-hostile-'));
  inputs = join(dir, 'inputs');
  await rm(inputs, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(inputs));
  await Promise.all(corpus.map((c) => writeFile(join(inputs, c.name), c.bytes)));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hostile corpus through `alf parse`', () => {
  test('every input accounted for exactly, flags and reasons raised, the clean input unaffected, nothing written elsewhere', async () => {
    const work = await mkdtemp(join(dir, 'parse-cwd-'));
    const tmp = await mkdtemp(join(dir, 'parse-tmp-'));
    const files = [...corpus.map((c) => join(inputs, c.name)), clean];
    const [all, alone] = await Promise.all([
      alfIn(work, tmp, ['parse', '-f', 'combined', '--to', 'ndjson', ...files]),
      alfIn(work, tmp, ['parse', '-f', 'combined', '--to', 'ndjson', clean]),
    ]);
    expect(all.stderr).not.toMatch(/internal error|at .*\.ts:\d+/);
    expect(all.code, all.stderr).toBe(1); // flagged inputs and rejects: completed with warnings
    const rows = ndjson(all.stdout);
    for (const c of corpus) {
      const path = join(inputs, c.name);
      const got = summaryCounts(all.stderr, path);
      checkCase(c, got);
      const mine = rows.filter((r) => r['input'] === path);
      expect(mine.length, c.name).toBe(got.parsed);
      const lineNumbers = new Set(mine.map((r) => r['line'] as number));
      expect(lineNumbers.size, `${c.name}: one record per line at most`).toBe(mine.length);
      for (const n of lineNumbers) expect(n >= 1 && n <= got.lines, `${c.name} line ${n}`).toBe(true);
    }
    // The clean input: the same records as alone, and its accounting intact.
    expect(alone.code, alone.stderr).toBe(0);
    expect(summaryCounts(all.stderr, clean)).toEqual(summaryCounts(alone.stderr, clean));
    expect(rows.filter((r) => r['input'] === clean)).toEqual(ndjson(alone.stdout));
    // Case-specific verdicts.
    const of = (name: string): Row[] => rows.filter((r) => r['input'] === join(inputs, name));
    const forged = of('forged-user.log');
    expect(forged.map((r) => [r['line'], r['ip']])).toEqual([[3, '203.0.113.7'], [4, '203.0.113.7'], [5, '203.0.113.7']]);
    expect(forged[0]!['ts']).toBe('2020-10-10T13:55:37.000Z'); // the server's time, not the forged one
    expect(rows.some((r) => r['ip'] === '192.0.2.99' || r['path'] === '/forged')).toBe(false);
    expect(of('bad-ips.log').map((r) => r['ip']).slice(3)).toEqual(['host.example.com', '192.0.2.1', 'fe80::1', '2001:db8::1']);
    expect(of('bad-ips.log').find((r) => r['ip'] === 'host.example.com')?.['ipKind']).toBe(0);
    expect(of('big-bytes.log').map((r) => r['bytesSent']).slice(3)).toEqual([9007199254740991, null]);
    const ts = (name: string): string[] => of(name).map((r) => String(r['ts'])).sort();
    expect(ts('zone-berlin.log')).toEqual(['2021-03-28T00:59:59.000Z', '2021-03-28T01:00:00.000Z', '2021-10-31T00:30:00.000Z', '2021-10-31T01:30:00.000Z']);
    expect(ts('zone-newyork.log')).toEqual(ts('zone-berlin.log'));
    expect(of('bad-dates.log').map((r) => r['ts'])).toContain('2020-02-29T13:55:36.000Z');
    expect(of('plain-text-named.log.gz')).toHaveLength(40);
    expect(of('gzip-named.log').map((r) => r['path'])).toEqual(of('plain-text-named.log.gz').map((r) => r['path']));
    expect(of('multi-member.log.gz')).toHaveLength(50);
    // Nothing but stdout: the working directory and TMPDIR stay empty (tsx keeps a cache there).
    expect(await tree(work)).toEqual([]);
    expect((await readdir(tmp)).filter((f) => !f.startsWith('tsx-'))).toEqual([]);
  });
});

describe('hostile corpus through `alf analyze --records all`', () => {
  test('every line of every input is a record or a reject, exactly once; nothing written outside the pack', async () => {
    const work = await mkdtemp(join(dir, 'analyze-cwd-'));
    const tmp = await mkdtemp(join(dir, 'analyze-tmp-'));
    const files = [...corpus.map((c) => join(inputs, c.name)), clean];
    const run = await alfIn(work, tmp, ['analyze', '-f', 'combined', '--records', 'all', '--out', 'pack', ...files]);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code, run.stderr).toBe(1);
    for (const c of corpus) checkCase(c, summaryCounts(run.stderr, join(inputs, c.name)));
    const pack = join(work, 'pack');
    const manifest = JSON.parse(await readFile(join(pack, 'manifest.json'), 'utf8')) as { status: string; inputs: { path: string; sha256: string }[]; counts: Record<string, number> };
    // The records and the rejects, keyed by the pack's input names (file name + sha256 prefix).
    const seen = new Map<string, Map<number, string>>();
    const mark = (input: string, line: number, what: string): void => {
      const m = seen.get(input) ?? new Map<number, string>();
      seen.set(input, m);
      expect(m.has(line), `${input}:${line} is both ${m.get(line)} and ${what}`).toBe(false);
      m.set(line, what);
    };
    for (const r of readRecordsArrow(await readFile(join(pack, 'records.arrow'))).rows) mark(String(r['input']), r['line'] as number, 'record');
    const rejects = (await readFile(join(pack, 'rejects.csv'), 'utf8')).split('\n').slice(1).filter((l) => l !== '');
    for (const l of rejects) {
      const m = /^(.*?),(\d+),(\d+),([a-z_]+),/.exec(l)!;
      mark(m[1]!.replace(/^"|"$/g, ''), Number(m[2]), m[4]!);
    }
    expect(manifest.counts['linesRead']).toBe(manifest.counts['parsed']! + manifest.counts['rejected']!);
    // An input refused for its encoding (UTF-16) is one reject row (line 1, reason encoding) standing for all its lines.
    const refused = corpus.filter((c) => c.flags.includes('encoding'));
    const refusedLines = refused.reduce((s, c) => s + summaryCounts(run.stderr, join(inputs, c.name)).lines, 0);
    expect(rejects.length).toBe(manifest.counts['rejected']! - refusedLines + refused.length);
    for (const c of corpus) {
      const got = summaryCounts(run.stderr, join(inputs, c.name));
      const key = [...seen.keys()].find((k) => k.startsWith(`${c.name} (sha256:`));
      const lines = key ? seen.get(key)! : new Map<number, string>();
      if (c.flags.includes('encoding')) {
        expect([...lines], c.name).toEqual([[1, 'encoding']]);
        continue;
      }
      expect(lines.size, c.name).toBe(got.lines);
      expect([...lines.keys()].sort((a, b) => a - b), c.name).toEqual(Array.from({ length: got.lines }, (_, i) => i + 1));
    }
    expect(await tree(work).then((t) => t.filter((p) => !p.startsWith('pack')))).toEqual([]);
    expect((await readdir(tmp)).filter((f) => !f.startsWith('tsx-'))).toEqual([]);
    expect((await tree(pack)).filter((p) => /alf-tmp|partial/.test(p))).toEqual([]);
  });
});

/** Minimal RFC 4180 reader (quoted cells, doubled quotes, CRLF or LF). */
function csvCells(text: string): string[] {
  const cells: string[] = [];
  let i = 0;
  while (i < text.length) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) throw new Error('unterminated quoted cell');
        cell += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') { cell += '"'; i++; } else break;
      }
    } else {
      const m = /[,\r\n]/g;
      m.lastIndex = i;
      const e = m.exec(text);
      const end = e ? e.index : text.length;
      cell = text.slice(i, end);
      i = end;
    }
    cells.push(cell);
    if (text[i] === ',') i++;
    else if (text[i] === '\r') i += 2;
    else if (text[i] === '\n') i++;
  }
  return cells;
}

// Characters that must never reach a text output raw: C0 controls but tab and newline, DEL, C1,
// bidi embeddings/overrides/isolates, line/paragraph separators.
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

describe('hostile payloads in every field of a burst', () => {
  test('reach every output escaped: CSV formulas neutralised, no raw HTML/Markdown, well-formed SVG, no control or bidi characters', async () => {
    const payloads = loadPayloads().map((p) => p.text);
    const log = join(dir, 'payload-burst.log');
    await writeFile(log, payloadBurstLog(payloads));
    const work = await mkdtemp(join(dir, 'payload-cwd-'));
    const tmp = await mkdtemp(join(dir, 'payload-tmp-'));
    const run = await alfIn(work, tmp, ['analyze', '--records', 'all', '--out', 'pack', log]);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code === 0 || run.code === 1, run.stderr).toBe(true);
    expect(run.stderr.split('\n').filter((l) => RAW_CONTROL.test(l))).toEqual([]);
    const pack = join(work, 'pack');
    const files = (await readdir(pack, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => relative(pack, join(e.parentPath, e.name)));
    expect(files).toEqual(expect.arrayContaining(['summary.md', 'attackers.csv', 'paths.csv', 'user_agents.csv', 'charts/timeline.svg', 'evidence/burst-1.log', 'blocklists/burst-1.txt']));
    const attackers = (await readFile(join(pack, 'attackers.csv'), 'utf8'));
    expect(attackers).toMatch(/203\.0\.113\.\d+/); // the flood was found and attributed
    for (const f of files) {
      if (f === 'records.arrow') continue;
      const text = await readFile(join(pack, f), 'utf8');
      const bad = text.split('\n').findIndex((l) => RAW_CONTROL.test(l));
      expect(bad, `${f}:${bad + 1} holds a raw control/bidi character: ${JSON.stringify(text.split('\n')[bad])}`).toBe(-1);
      if (f.endsWith('.csv')) {
        for (const cell of csvCells(text)) {
          if (/^[-+]?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(cell)) continue;
          expect(/^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/.test(cell), `${f}: formula cell ${JSON.stringify(cell)}`).toBe(false);
        }
      }
      if (f.endsWith('.md')) {
        const body = text.split('\n').filter((l) => !l.startsWith('<!-- alf ')).join('\n'); // alf's own header comment
        expect(body, f).not.toMatch(/<[A-Za-z!/?]/);
        expect(text, f).not.toMatch(/\]\((?:javascript|data|https?):/i);
        expect(text, f).not.toMatch(/evil\.example/);
      }
      if (f.endsWith('.svg')) {
        expect(() => parseXmlStrict(text), f).not.toThrow();
        expect(text, f).not.toMatch(/<script|\son[a-z]+=/i);
      }
      if (f.endsWith('.json')) expect(() => JSON.parse(text) as unknown, f).not.toThrow();
    }
    // records.arrow keeps values exactly as parsed: the payloads are there, raw, and only there.
    const rows = readRecordsArrow(await readFile(join(pack, 'records.arrow'))).rows;
    expect(rows.some((r) => String(r['user_agent']).includes('<script>alert(1)</script>'))).toBe(true);
    expect(rows).toHaveLength(360 + 4000);
  });
});

describe('gzip bomb', () => {
  test('--max-decompressed-bytes stops it with a partial-result flag (exit 1); without it the bomb streams to its end', async () => {
    const { gzipWithLongLine, combinedLine } = await import('../../../testdata/hostile/corpus.ts');
    const bomb = join(dir, 'bomb.log.gz');
    // 64 MiB of NUL between two good lines, ~64 KB compressed (1000:1; the script runs 10 GB)
    await writeFile(bomb, gzipWithLongLine(`${combinedLine({ ip: '192.0.2.1' })}\n`, 64 * 1024 * 1024, `\n${combinedLine({ ip: '192.0.2.2' })}\n`, 0));
    const work = await mkdtemp(join(dir, 'bomb-cwd-'));
    const [limited, full] = await Promise.all([
      alfIn(work, work, ['parse', '-f', 'combined', '--to', 'ndjson', '--max-decompressed-bytes', '16MiB', bomb]),
      alfIn(work, work, ['parse', '-f', 'combined', '--to', 'ndjson', bomb]),
    ]);
    expect(limited.code, limited.stderr).toBe(1);
    const l = summaryCounts(limited.stderr, bomb);
    expect(l.flags).toEqual(['decompressed_limit']);
    expect(limited.stderr).toMatch(/stopped after 16777216 decompressed bytes .*results are partial/);
    expect(l.parsed + l.rejected).toBe(l.lines);
    expect(ndjson(limited.stdout).map((r) => r['ip'])).toEqual(['192.0.2.1']);
    const f = summaryCounts(full.stderr, bomb);
    expect(f).toMatchObject({ lines: 3, parsed: 2, rejected: 1, reasons: { line_too_long: 1 }, flags: [] });
    expect(ndjson(full.stdout).map((r) => r['ip'])).toEqual(['192.0.2.1', '192.0.2.2']);
  });
});
