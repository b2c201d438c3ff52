/**
 * `alf analyze` at its limits.
 * - The attacker-detail pass: a burst window with more distinct IPs than the
 *   per-IP detail cap (core's maxIpsPerWindow, 100,000) keeps exact counts for
 *   every IP but detail (paths, agents, first/last seen) only for a hash sample;
 *   attackers outside the sample get theirs from one more read.
 * - `--max-decompressed-bytes`: the gzip-bomb guard, per input.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DEFAULT_ANALYSIS_OPTIONS } from '@alf/core';
import { runAlf } from './test-cli.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alf-analyze-detail-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function clf(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
const line = (ip: string, ms: number, path: string, ua: string): string =>
  `${ip} - - [${clf(ms)}] "GET ${path} HTTP/1.1" 200 512 "-" "${ua}"`;

test('every attacker of a window past the detail cap gets its own exact top path and agent', async () => {
  const start = Date.UTC(2024, 2, 1, 0, 0, 0);
  const lines: string[] = [];
  // Six quiet hours: 200 regular visitors, one request every 2 s in all.
  for (let s = 0; s < 6 * 3600; s += 2) lines.push(line(`198.51.100.${s % 200}`, start + s * 1000, '/index.html', 'Mozilla/5.0 (regular)'));
  // A 10-minute flood from more distinct IPs than the detail cap, one request each ...
  const burst = start + 3 * 3600 * 1000;
  const flood = DEFAULT_ANALYSIS_OPTIONS.maxIpsPerWindow + 20_000;
  for (let i = 0; i < flood; i++) {
    lines.push(line(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, burst + Math.floor((i * 600_000) / flood), '/', 'Mozilla/5.0 (bot)'));
  }
  // ... and 30 heavy attackers, each with its own path and agent.
  for (let a = 0; a < 30; a++) {
    for (let r = 0; r < 300; r++) lines.push(line(`203.0.113.${a + 1}`, burst + r * 2000 + a * 10, `/attack-${a + 1}`, `AttackBot/${a + 1}`));
  }
  const log = join(dir, 'flood.log');
  await writeFile(log, `${lines.join('\n')}\n`);
  // One thread, and two with the file cut into ~1 MiB ranges (the detail pass then runs as worker tasks whose detail is merged).
  const packs: string[] = [];
  for (const workers of ['1', '2']) {
    const out = join(dir, `pack-${workers}`);
    const saved = process.env['ALF_RANGE_BYTES'];
    if (workers === '2') process.env['ALF_RANGE_BYTES'] = String(1 << 20);
    let r;
    try {
      r = await runAlf(['analyze', log, '--out', out, '--quiet', '--workers', workers]);
    } finally {
      if (saved === undefined) delete process.env['ALF_RANGE_BYTES'];
      else process.env['ALF_RANGE_BYTES'] = saved;
    }
    expect(r.stderr).not.toMatch(/error/i);
    const csv = await readFile(join(out, 'attackers.csv'), 'utf8');
    packs.push(csv);
    const rows = csv.trim().split('\n');
    const header = rows[0]!.split(',');
    const col = (name: string): number => header.indexOf(name);
    const heavy = rows.slice(1).map((x) => x.split(',')).filter((f) => f[col('ip')]!.startsWith('203.0.113.'));
    expect(heavy).toHaveLength(30);
    for (const f of heavy) {
      const n = f[col('ip')]!.split('.')[3];
      expect(Number(f[col('requests')])).toBe(300);
      expect(f[col('top_path')]).toBe(`/attack-${n}`);
      expect(f[col('top_user_agent')]).toBe(`AttackBot/${n}`);
    }
  }
  expect(packs[1]).toBe(packs[0]);
}, 300_000);

test('--max-decompressed-bytes stops a gzip input at the limit: flagged decompressed_limit, pack partial, exit 1, with 1 and 2 threads', async () => {
  const { gzipSync } = await import('node:zlib');
  const start = Date.UTC(2024, 2, 1, 0, 0, 0);
  const body = Array.from({ length: 40_000 }, (_, i) => line(`198.51.100.${i % 250}`, start + i * 1000, '/x', 'Mozilla/5.0')).join('\n');
  const bomb = join(dir, 'bomb.log.gz');
  await writeFile(bomb, gzipSync(`${body}\n`));
  const plain = join(dir, 'big.log');
  await writeFile(plain, `${body}\n`);
  const packs: string[] = [];
  for (const workers of ['1', '2']) {
    const out = join(dir, `limited-${workers}`);
    const r = await runAlf(['analyze', bomb, plain, '--out', out, '--quiet', '--workers', workers, '--max-decompressed-bytes', '1MiB']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/decompressed_limit/);
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { status: string; statusReason: string; command: { options: Record<string, unknown> }; inputs: { decode?: { flags: string[]; bytesOut: number } }[] };
    expect(m.status).toBe('partial');
    expect(m.command.options['maxDecompressedBytes']).toBe(1024 ** 2);
    // Both inputs stop at the limit (it is per input, plain ones included, as in `alf parse`).
    for (const i of m.inputs) {
      expect(i.decode?.flags).toContain('decompressed_limit');
      expect(i.decode?.bytesOut).toBe(1024 ** 2);
    }
    packs.push(await readFile(join(out, 'timeline.csv'), 'utf8'));
  }
  expect(packs[1]).toBe(packs[0]);
}, 300_000);
