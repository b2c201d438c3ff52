/**
 * Geo lookup throughput, standalone:
 *   node --conditions=alf-source --import tsx scripts/bench/geo.ts [--distinct 1000000] [--cached 5000000]
 *
 * Prints `name: value unit` lines (run.ts prefixes them with `geo.`):
 * - `<db>.uncached`: distinct public addresses per second on a fresh lookup (each one
 *   resolved once; the network memo fills as it goes), with the database searches done;
 * - `<db>.uncached-v6`: the same for random IPv6 addresses;
 * - `<db>.cached`: lookups per second of addresses already resolved (per-address memo);
 * - `<db>.flood-walks`: database searches for 100,000 distinct addresses in one /16;
 * - `embedded.open`: time to open the embedded default (first run includes building the
 *   ASN table cache from the package CSV).
 * - `embedded.corpus`: lookups per second over the client field of the bench corpus
 *   (`ALF_BENCH_CORPUS`, set by run.ts; first 64 MB), one lookup per line in log order.
 * `<db>` is `embedded` (the registry-package default) and `testdb` (MaxMind's
 * GeoLite2-ASN-Test + GeoLite2-City-Test from testdata/real). Addresses come from a fixed
 * pseudo-random sequence, so runs are comparable. Exits 0 with `skipped:` when a data set
 * is missing. Rates are per CPU-second of this process (process.cpuUsage), not wall time.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatIpv4, formatIpv6, ipv4Label, openGeo } from '@alf/geo';
import type { Geo, OpenGeoOptions } from '@alf/geo';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TEST_DBS = join(ROOT, 'testdata/real/maxmind-db/test-data');

function emit(key: string, value: number | string, unit = ''): void {
  process.stdout.write(`${key}: ${value}${unit ? ` ${unit}` : ''}\n`);
}

/** xorshift32: a fixed, fast sequence of 32-bit values. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** `count` distinct public IPv4 addresses (special-purpose ranges skipped), as text. */
function publicAddresses(count: number, seed: number): string[] {
  const next = prng(seed);
  const seen = new Set<number>();
  const out: string[] = [];
  while (out.length < count) {
    const v = next();
    if (ipv4Label(v) !== null || seen.has(v)) continue;
    seen.add(v);
    out.push(formatIpv4(v));
  }
  return out;
}

/** `count` random IPv6 addresses under common allocated /16s (2001, 2400, 2600, 2a00…). */
function ipv6Addresses(count: number, seed: number): string[] {
  const next = prng(seed);
  const tops = [0x2001, 0x2400, 0x2600, 0x2a00, 0x2a01, 0x2a02, 0x2c0f, 0x2800];
  const h = new Uint16Array(8);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    h[0] = tops[i & 7]!;
    for (let k = 1; k < 8; k++) h[k] = next() & 0xffff;
    out.push(formatIpv6(h));
  }
  return out;
}

/** `count` distinct addresses inside one /16 (203.0.113.0/24 excluded by construction: 8.8.0.0/16). */
function floodAddresses(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`8.8.${(i >>> 8) & 255}.${i & 255}`);
  return out;
}

function rate(n: number, ms: number): string {
  return ms > 0 ? Math.round((n * 1000) / ms).toString() : 'inf';
}

/**
 * A stopwatch on this process's CPU time (user + system), so that other jobs sharing the
 * machine do not skew the rates; GC threads count too.
 */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function benchOne(name: string, opts: OpenGeoOptions, distinct: number, cached: number): Promise<void> {
  let t = cpuMs();
  let geo: Geo = await openGeo(opts);
  emit(`${name}.open`, (cpuMs() - t).toFixed(0), 'ms');

  const ips = publicAddresses(distinct, 0x9e3779b9);
  t = cpuMs();
  for (let i = 0; i < ips.length; i++) geo.lookup(ips[i]!);
  const uncachedMs = cpuMs() - t;
  const s1 = geo.stats;
  emit(`${name}.uncached`, rate(ips.length, uncachedMs), 'distinct IPs/s');
  emit(`${name}.uncached-walks`, s1.treeWalks, `searches for ${ips.length} distinct IPs`);
  emit(`${name}.uncached-network-hits`, s1.networkHits, 'searches saved by the network memo');

  const v6 = ipv6Addresses(Math.min(distinct, 300_000), 0x2545f491);
  const geo6 = await openGeo(opts);
  t = cpuMs();
  for (let i = 0; i < v6.length; i++) geo6.lookup(v6[i]!);
  emit(`${name}.uncached-v6`, rate(v6.length, cpuMs() - t), `distinct IPv6/s (${v6.length}, random under 8 /16s)`);
  geo6.close();

  // cached: addresses already resolved, looked up again and again (a log's repeat visitors)
  const hot = ips.slice(0, 10_000);
  let sink = 0;
  t = cpuMs();
  for (let i = 0; i < cached; i++) {
    const a = geo.lookup(hot[i % hot.length]!);
    if (a.asn !== null) sink++;
  }
  const cachedMs = cpuMs() - t;
  emit(`${name}.cached`, rate(cached, cachedMs), 'lookups/s');
  if (sink < 0) emit('sink', sink);
  geo.close();

  // flood: 100k distinct addresses from one /16 on a fresh instance
  geo = await openGeo(opts);
  const flood = floodAddresses(65_536);
  t = cpuMs();
  for (let i = 0; i < flood.length; i++) geo.lookup(flood[i]!);
  const floodMs = cpuMs() - t;
  emit(`${name}.flood`, rate(flood.length, floodMs), `distinct IPs/s (one /16, ${flood.length} IPs)`);
  emit(`${name}.flood-walks`, geo.stats.treeWalks, `searches for ${flood.length} IPs in one /16`);
  geo.close();
}

/** First field of each line of the first `maxBytes` of a log. */
function corpusClients(path: string, maxBytes: number): string[] {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(maxBytes);
  const n = readSync(fd, buf, 0, maxBytes, 0);
  closeSync(fd);
  const text = buf.toString('latin1', 0, n);
  const out: string[] = [];
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    const sp = text.indexOf(' ', start);
    out.push(text.slice(start, sp >= 0 && sp < nl ? sp : nl));
    start = nl + 1;
  }
  return out;
}

async function benchCorpus(opts: OpenGeoOptions, path: string): Promise<void> {
  const clients = corpusClients(path, 64 * 1024 * 1024);
  const geo = await openGeo(opts);
  const t = cpuMs();
  for (let i = 0; i < clients.length; i++) geo.lookup(clients[i]!);
  const ms = cpuMs() - t;
  const s = geo.stats;
  emit('embedded.corpus', rate(clients.length, ms), `lookups/s (${clients.length} lines, ${new Set(clients).size} distinct clients, ${s.treeWalks} searches)`);
  geo.close();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { distinct: { type: 'string', default: '1000000' }, cached: { type: 'string', default: '5000000' } },
  });
  const distinct = Number(values.distinct);
  const cached = Number(values.cached);
  const env = { ...process.env };
  delete env['ALF_ASN_DB'];
  delete env['ALF_GEO_DB'];

  await benchOne('embedded', { env, searchDirs: [] }, distinct, cached);
  const corpus = process.env['ALF_BENCH_CORPUS'];
  if (corpus && existsSync(corpus)) await benchCorpus({ env, searchDirs: [] }, corpus);

  const asnDb = join(TEST_DBS, 'GeoLite2-ASN-Test.mmdb');
  const geoDb = join(TEST_DBS, 'GeoLite2-City-Test.mmdb');
  if (existsSync(asnDb) && existsSync(geoDb)) {
    await benchOne('testdb', { env, asnDb, geoDb, searchDirs: [], embedded: false }, distinct, cached);
  } else {
    emit('testdb', 'skipped: testdata/real/maxmind-db/test-data not present');
  }
  emit('peak-rss', (process.resourceUsage().maxRSS / 1024).toFixed(1), 'MB');
}

main().catch((e: unknown) => {
  process.stderr.write(`geo bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
