/**
 * `--trusted-proxy` and `--vhost` end to end: `alf parse` spawned through a real
 * pipe on a real log with X-Forwarded-For lists and vhosts; `alf analyze`
 * in-process on a small log written here, with options from a config file.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runAlf as run, spawnAlf } from './test-cli.ts';

const root = new URL('../../../', import.meta.url).pathname;
// Filebeat's nginx test log: vhost prefixes, XFF lists before the client, a quoted XFF.
const withHost = join(root, 'testdata/real/elastic-beats/nginx-access-test-with-host.log');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alf-record-scope-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Row { line: number; ip: string; ipKind: number; vhost: string | null }
const rows = (ndjson: Buffer): Row[] => ndjson.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);

describe('alf parse --trusted-proxy --vhost (real pipe, real log)', () => {
  test('clients from X-Forwarded-For only behind trusted proxies; other vhosts and rows without one left out', async () => {
    const r = await spawnAlf(['parse', '-', '--to', 'ndjson', '--trusted-proxy', '10.0.0.0/8,127.0.0.1', '--vhost', 'EXAMPLE.com', '--max-reject-ratio', '1'], await readFile(withHost)); // line 8 is rejected
    expect(r.code).toBe(0);
    expect(rows(r.stdout).map((x) => [x.line, x.ip, x.vhost])).toEqual([
      [1, '10.0.0.2', 'example.com'], // every hop trusted: the left-most (last trusted) hop, kept as a proxy address
      [2, '172.17.0.1', 'example.com'], // no X-Forwarded-For, untrusted peer
      [3, '81.2.69.143', 'example.com'], // untrusted peer: its X-Forwarded-For is ignored
      [4, '81.2.69.143', 'example.com:80'], // the port does not stop a vhost match
      [5, '204.246.1.1', 'example.com:80'], // the right-most untrusted X-Forwarded-For entry
    ]);
    expect(r.stderr).toMatch(/vhost example\.com: 2 records of other vhosts and 2 without a vhost left out/);
    expect(r.stderr).toMatch(/clients from X-Forwarded-For behind 10\.0\.0\.0\/8, 127\.0\.0\.1\/32: 1 record resolved, 1 from a trusted proxy without a usable X-Forwarded-For kept as the proxy address/);
  });

  test('an IPv6 client behind an IPv4 proxy; without --trusted-proxy the logged address', async () => {
    const bytes = await readFile(withHost);
    const resolved = await spawnAlf(['parse', '-', '--to', 'ndjson', '--trusted-proxy', '10.0.0.0/8', '-q'], bytes);
    expect(rows(resolved.stdout).find((x) => x.line === 6)).toMatchObject({ ip: '2a02:cf40:10ff:f00f::8000', ipKind: 6 });
    const logged = await spawnAlf(['parse', '-', '--to', 'ndjson', '-q'], bytes);
    expect(rows(logged.stdout).find((x) => x.line === 6)).toMatchObject({ ip: '10.225.192.17', ipKind: 4 });
    expect(rows(logged.stdout).find((x) => x.line === 5)).toMatchObject({ ip: '10.2.1.185' });
  });

  test('a bad CIDR is a usage error that says what was expected', async () => {
    const r = await spawnAlf(['parse', '-', '--trusted-proxy', '10.1.2.3/8'], Buffer.from(''));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/`--trusted-proxy` must be an IPv4 or IPv6 network in CIDR form .*got `10\.1\.2\.3\/8`: host bits are set \(did you mean 10\.0\.0\.0\/8\?\)/);
  });
});

const FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $host';
const LINES = [
  '10.0.0.5 - - [29/Mar/2021:08:00:01 +0000] "GET /a HTTP/1.1" 200 10 "-" "ua" "203.0.113.9" shop.example.com',
  '10.0.0.5 - - [29/Mar/2021:08:00:02 +0000] "GET /b HTTP/1.1" 200 10 "-" "ua" "198.51.100.1, 203.0.113.10:4711, 10.0.0.7" shop.example.com:443',
  '10.0.0.5 - - [29/Mar/2021:08:00:03 +0000] "GET /c HTTP/1.1" 200 10 "-" "ua" "-" api.shop.example.com',
  '192.0.2.66 - - [29/Mar/2021:08:00:04 +0000] "GET /d HTTP/1.1" 200 10 "-" "ua" "1.1.1.1" shop.example.com',
  '10.0.0.5 - - [29/Mar/2021:08:00:05 +0000] "GET /e HTTP/1.1" 200 10 "-" "ua" "unknown" other.org',
  '10.0.0.5 - - [29/Mar/2021:08:00:06 +0000] "GET /f HTTP/1.1" 200 10 "-" "ua" "[2001:db8::5]:443" -',
];

describe('alf analyze --trusted-proxy --vhost (in-process)', () => {
  test('every pass sees the scoped records; summary.md and the manifest say which field identified clients', async () => {
    const log = join(dir, 'lb.log');
    await writeFile(log, `${LINES.join('\n')}\n`);
    const config = join(dir, 'team.json');
    // camelCase and a list in the config file, as teams write them
    await writeFile(config, JSON.stringify({ analyze: { trustedProxy: ['10.0.0.0/8', '2001:db8::/32'], vhost: 'shop.example.com,*.shop.example.com' } }));
    const out = join(dir, 'pack');
    const r = await run(['analyze', log, '--config', config, '-f', FORMAT, '--out', out, '--records', 'all', '--from', '2021-03-29T08:00:02Z']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/vhost shop\.example\.com, \*\.shop\.example\.com: 1 record of other vhosts and 1 without a vhost left out/);
    expect(r.stderr).toMatch(/clients from X-Forwarded-For behind 10\.0\.0\.0\/8, 2001:db8::\/32: 2 records resolved, 1 from a trusted proxy/);
    // --from applies after the vhost filter: of the 4 records in scope, the one at 08:00:01 is outside
    expect(r.stderr).toMatch(/1 records? outside left out/);
    const summary = await readFile(join(out, 'summary.md'), 'utf8');
    expect(summary).toContain('Clients identified by: X-Forwarded-For behind trusted proxies `10.0.0.0/8`, `2001:db8::/32` (2 records resolved; 1 from a trusted proxy without a usable X-Forwarded-For kept as the proxy address).');
    expect(summary).toContain('Virtual hosts: only `shop.example.com`, `*.shop.example.com` (1 parsed record of other virtual hosts and 1 without a virtual host left out).');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { command: { options: Record<string, unknown> }; counts: Record<string, number> };
    expect(manifest.command.options).toMatchObject({ trustedProxy: ['10.0.0.0/8', '2001:db8::/32'], vhost: ['shop.example.com', '*.shop.example.com'] });
    expect(manifest.counts).toMatchObject({
      records: 3, recordsOutsideTimeRange: 1, recordsArrowRows: 3,
      recordsClientFromForwardedFor: 2, recordsClientTrustedProxyKept: 1, recordsOtherVhost: 1, recordsWithoutVhost: 1,
    });
  });

  test('without the options clients are the logged remote address', async () => {
    const log = join(dir, 'plain.log');
    await writeFile(log, `${LINES.join('\n')}\n`);
    const out = join(dir, 'plain-pack');
    const r = await run(['analyze', log, '-f', FORMAT, '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(await readFile(join(out, 'summary.md'), 'utf8')).toContain('Clients identified by: the logged remote address.');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { command: { options: Record<string, unknown> }; counts: Record<string, number> };
    expect(manifest.command.options).toMatchObject({ trustedProxy: null, vhost: null });
    expect(manifest.counts['recordsClientFromForwardedFor']).toBeUndefined();
  });

  test('a bad --vhost in the config file names the file and key', async () => {
    const config = join(dir, 'bad.json');
    await writeFile(config, JSON.stringify({ analyze: { vhost: 'exa mple.com' } }));
    const r = await run(['analyze', join(dir, 'plain.log'), '--config', config, '--out', join(dir, 'never')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.json: `analyze\.vhost`: `--vhost` must be a host name/);
  });
});
