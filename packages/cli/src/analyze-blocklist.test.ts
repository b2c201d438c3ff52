/**
 * `alf analyze` on the real secrepo burst writes a blocklist that blocks
 * 198.72.227.213 (alone, or in a prefix no other client of the log falls in)
 * and an abuse.csv row for its network.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ROOT as root, spawnAlf } from './test-cli.ts';

const burstLog = join(root, 'testdata/real/secrepo/access.log.2018-12-15.gz');

let dir: string;
let code: number | null;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alf-blocklist-test-'));
  const run = await spawnAlf(['analyze', burstLog, '--out', join(dir, 'pack'), '--quiet']);
  code = run.code;
  if (code !== 0) process.stderr.write(run.stderr);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ipv4(s: string): number {
  return s.split('.').reduce((v, o) => v * 256 + Number(o), 0);
}

test('the secrepo burst pack blocks 198.72.227.213 without covering any other client, and has its abuse.csv row', async () => {
  expect(code).toBe(0);
  const txt = await readFile(join(dir, 'pack/blocklists/burst-1.txt'), 'utf8');
  expect(txt).toMatch(/^# normal clients covered: 0 \(of \d+ normal clients seen in the inputs\)$/m);
  expect(txt).toMatch(/^# normal-client check: complete/m);
  const cidrs = txt.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const holder = cidrs.find((c) => {
    const [a, bits] = c.split('/') as [string, string];
    const size = 2 ** (32 - Number(bits));
    return Math.floor(ipv4(a) / size) === Math.floor(ipv4('198.72.227.213') / size);
  });
  expect(holder).toBeDefined();
  if (holder !== '198.72.227.213/32') {
    // A wider prefix is allowed only when no other client of the log is inside it.
    const [a, bits] = holder!.split('/') as [string, string];
    const lo = ipv4(a);
    const hi = lo + 2 ** (32 - Number(bits)) - 1;
    const { gunzipSync } = await import('node:zlib');
    const clients = new Set(gunzipSync(await readFile(burstLog)).toString('latin1').split('\n').map((l) => l.split(' ')[0]!));
    const inside = [...clients].filter((c) => /^\d+\.\d+\.\d+\.\d+$/.test(c) && ipv4(c) >= lo && ipv4(c) <= hi);
    expect(inside).toEqual(['198.72.227.213']);
  }
  for (const f of ['nginx.conf', 'nft', 'ipset']) expect(await readFile(join(dir, `pack/blocklists/burst-1.${f}`), 'utf8')).toContain(holder!);

  // (the cli package has no CSV parser; this log's abuse.csv has no quoted cells, checked below)
  const abuseText = await readFile(join(dir, 'pack/abuse.csv'), 'utf8');
  expect(abuseText).not.toContain('"');
  const [head, ...lines] = abuseText.trimEnd().split('\n').map((l) => l.split(','));
  const abuse = lines.map((cells) => Object.fromEntries(head!.map((h, i) => [h, cells[i]!])));
  const row = abuse.find((r) => r['burst_id'] === '1' && r['prefixes']!.split(' ').includes(holder!));
  expect(row).toBeDefined();
  expect(Number(row!['requests'])).toBeGreaterThan(4000);
  expect(row!['window_start']).toMatch(/^2018-12-16T08:2\d:\d\dZ$/);

  const manifest = JSON.parse(await readFile(join(dir, 'pack/manifest.json'), 'utf8')) as { files: { path: string }[] };
  expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(['abuse.csv', 'blocklists/burst-1.txt', 'blocklists/burst-1.nginx.conf']));
  const summary = await readFile(join(dir, 'pack/summary.md'), 'utf8');
  expect(summary).toMatch(/- \*\*Blocklist:\*\* `blocklists\/burst-1\.txt` \(1 prefix, 0 normal clients covered\)/);
});
