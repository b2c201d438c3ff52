/**
 * `alf lookup` run through yargs with the command module alone (main.ts registers it),
 * on in-memory streams.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import yargs from 'yargs';
import { isAlfError } from '@alf/parser';
import type { CommandContext } from '../context.ts';
import { lookupCommand } from './lookup.ts';

const TEST_DBS = join(import.meta.dirname, '../../../../testdata/real/maxmind-db/test-data');
const ASN_DB = join(TEST_DBS, 'GeoLite2-ASN-Test.mmdb');
const CITY_DB = join(TEST_DBS, 'GeoIP2-City-Test.mmdb');
const DBS = ['--asn-db', ASN_DB, '--geo-db', CITY_DB];

interface Run { code: number; stdout: string; stderr: string }

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  return () => Buffer.concat(chunks).toString('utf8');
}

async function lookup(args: string[], stdin?: string | null): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  let code = 0;
  const input = stdin === null || stdin === undefined ? Readable.from([]) : Readable.from([Buffer.from(stdin)]);
  const ctx: CommandContext = {
    stdin: Object.assign(input, { isTTY: stdin === null ? true : undefined }),
    stdout,
    stderr,
    signal: new AbortController().signal,
    version: '0.0.0-test',
    setExitCode: (c) => {
      code = c;
    },
  };
  await yargs()
    .command(lookupCommand)
    .strict()
    .exitProcess(false)
    .fail((msg: string | null, e: Error | undefined) => {
      throw e ?? new Error(msg ?? 'usage');
    })
    .parseAsync(['lookup', ...args], { alf: ctx });
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out(), stderr: err() };
}

describe('alf lookup', () => {
  test('prints a table: ASN, organisation, country, city, network, label', async () => {
    const run = await lookup([...DBS, '1.128.3.4', '81.2.69.160', '10.0.0.1', 'monitoring-server', '2001:db8::1']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^IP\s+ASN\s+AS_ORG\s+COUNTRY\s+CITY\s+NETWORK\s+LABEL$/);
    expect(lines[1]).toMatch(/^1\.128\.3\.4\s+1221\s+Telstra Pty Ltd\s+1\.128\.0\.0\/11$/);
    expect(lines[2]).toMatch(/^81\.2\.69\.160\s+GB\s+London\s+81\.2\.69\.160\/27$/);
    expect(lines[3]).toMatch(/^10\.0\.0\.1\s+private$/);
    expect(lines[4]).toMatch(/^monitoring-server\s+not_an_ip$/);
    expect(lines[5]).toMatch(/^2001:db8::1\s+documentation$/);
    // columns line up
    expect(lines[1]!.indexOf('1221')).toBe(lines[0]!.indexOf('ASN'));
    // stderr says which database answered which role
    expect(run.stderr).toMatch(/^asn: GeoLite2-ASN, built 2026-02-04, flag .*GeoLite2-ASN-Test\.mmdb$/m);
    expect(run.stderr).toMatch(/^geo: GeoIP2-City, built 2026-02-04, flag .*GeoIP2-City-Test\.mmdb$/m);
    expect(run.stderr).toMatch(/GeoLite2 data created by MaxMind/);
  });

  test('--csv writes CSV with a header; names with commas are quoted', async () => {
    const run = await lookup([...DBS, '--csv', '1.128.3.4', '214.78.120.5', '12.81.92.7']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'ip,asn,as_org,country,city,network,label\n' +
        '1.128.3.4,1221,Telstra Pty Ltd,,,1.128.0.0/11,\n' +
        '214.78.120.5,721,DoD Network Information Center,US,San Diego,214.0.0.0/8,\n' +
        '12.81.92.7,7018,AT&T Services,,,12.81.92.0/22,\n',
    );
  });

  test('`-` reads addresses from standard input, one per line', async () => {
    const run = await lookup([...DBS, '--csv', '-'], '1.128.3.4\r\n# a comment\n\n  81.2.69.160  \n175.16.199.7');
    expect(run.stdout.split('\n').slice(1, -1).map((l) => l.split(',')[0])).toEqual(['1.128.3.4', '81.2.69.160', '175.16.199.7']);
    expect(run.stdout).toMatch(/175\.16\.199\.7,,,CN,Changchun,/);
  });

  test('with no addresses and a piped stdin, stdin is read', async () => {
    const run = await lookup([...DBS, '--csv'], '1.128.3.4\n');
    expect(run.stdout).toMatch(/^1\.128\.3\.4,1221,/m);
  });

  test('with no addresses on a terminal it is a usage error', async () => {
    const err = await lookup(DBS, null).catch((e: unknown) => e);
    expect(isAlfError(err) && err.code).toBe('ALF_USAGE');
  });

  test('control characters in echoed input never reach the terminal raw', async () => {
    const run = await lookup([...DBS, '-'], 'evil\u001b[31mred\u202e\n');
    expect(run.stdout).not.toMatch(/[\u001b\u202e]/);
    expect(run.stdout).toMatch(/not_an_ip/);
    const csv = await lookup([...DBS, '--csv', '-'], '=HYPERLINK("x")\n');
    expect(csv.stdout).toMatch(/^"'=HYPERLINK/m); // formula neutralised (report's csvStringifyCast)
  });

  test('a database that cannot be opened is an ALF_GEO_DB_OPEN error naming it', async () => {
    const err = await lookup(['--asn-db', join(TEST_DBS, 'missing.mmdb'), '1.1.1.1']).catch((e: unknown) => e);
    expect(isAlfError(err) && err.code).toBe('ALF_GEO_DB_OPEN');
    expect((err as Error).message).toMatch(/missing\.mmdb/);
  });

  test('failed database searches are labelled geo_error and end with status 1', async () => {
    const run = await lookup(['--asn-db', ASN_DB, '--geo-db', join(TEST_DBS, 'GeoIP2-City-Test-Invalid-Node-Count.mmdb'), '81.2.69.160']);
    expect(run.stdout).toMatch(/81\.2\.69\.160\s+.*geo_error/);
    expect(run.stderr).toMatch(/1 database search\(es\) failed/);
    expect(run.code).toBe(1);
  });

  test('without flags the embedded default answers, with its attribution on stderr', async () => {
    const saved = { ...process.env };
    process.env['XDG_CACHE_HOME'] = join(tmpdir(), 'alf-geo-test-xdg');
    delete process.env['ALF_ASN_DB'];
    delete process.env['ALF_GEO_DB'];
    process.env['GEOIP_DIR'] = join(tmpdir(), 'alf-no-such-geoip-dir');
    try {
      const run = await lookup(['--csv', '8.8.8.8', '1.1.1.1']);
      expect(run.stdout).toMatch(/^8\.8\.8\.8,15169,Google LLC,US,,8\.8\.8\.0\/24,$/m);
      expect(run.stdout).toMatch(/^1\.1\.1\.1,13335,"Cloudflare, Inc\.",[A-Z]{2},/m);
      expect(run.stderr).toMatch(/^asn: ip-location-db-asn .*embedded/m);
      expect(run.stderr).toMatch(/Creative Commons Attribution 4\.0/);
    } finally {
      process.env = saved;
    }
  });
});
