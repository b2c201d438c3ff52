/**
 * `main()` in-process on in-memory streams: usage errors and exit statuses that
 * need no real pipe (cli.test.ts spawns the real CLI for those that do).
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { runAlf as run } from './test-cli.ts';

const root = new URL('../../../', import.meta.url).pathname;
const secrepo = join(root, 'testdata/real/secrepo/access.log.2022-12-22.gz');


describe('main', () => {
  test('--version prints the package version on stdout', async () => {
    const r = await run(['--version']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test('no command is a usage error on stderr (exit 2)', async () => {
    expect(await run([])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/name a command/) });
  });

  test('an unknown command or option suggests the right one (exit 2)', async () => {
    expect(await run(['pars', secrepo])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown command `pars` \(did you mean `parse`\?\)/) });
    expect(await run(['parse', '--fromat', 'combined', secrepo]))
      .toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/unknown option or command `fromat` \(did you mean `--format`\?\)/) });
  });

  test('a wrong option value says what is expected and what was given (exit 2)', async () => {
    const r = await run(['parse', '--to', 'csvv', '--max-line-bytes', '12', secrepo]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/`--to` must be one of arrow, arrow-file, ndjson, csv; got `csvv` \(did you mean `csv`\?\)/);
    expect(r.stderr).toMatch(/`--max-line-bytes` must be a size .*; got `12`/);
  });

  test('an output that cannot be written gives exit 4', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alf-main-'));
    const r = await run(['parse', '--to', 'csv', '-o', join(dir, 'missing-dir', 'x.csv'), secrepo]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/cannot write .*x\.csv.*: its directory does not exist/);
  });

  test('a directory as input gives exit 3', async () => {
    expect(await run(['parse', '--to', 'csv', root])).toMatchObject({ code: 3, stderr: expect.stringMatching(/is a directory/) });
  });

  test('records can be written in-process too (NDJSON on the given stdout)', async () => {
    const r = await run(['parse', '--to', 'ndjson', '--quiet', secrepo]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1262);
    expect(r.stderr).toBe('');
  });

  test('-o FILE.arrow writes the Arrow IPC file format, readable with apache-arrow', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alf-main-'));
    const target = join(dir, 'records.arrow');
    const r = await run(['parse', '-o', target, secrepo]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/records written to .*records\.arrow \(arrow-file\)/);
    const bytes = await readFile(target);
    expect(bytes.subarray(0, 6).toString()).toBe('ARROW1');
    // apache-arrow is @alf/report's dependency; read back through its copy.
    const require = createRequire(join(root, 'packages/report/package.json'));
    const arrow = (await import(pathToFileURL(require.resolve('apache-arrow')).href)) as {
      tableFromIPC(b: Uint8Array): { numRows: number; get(i: number): Record<string, unknown> | null };
    };
    const table = arrow.tableFromIPC(bytes);
    expect(table.numRows).toBe(1262);
    expect(table.get(1261)).toMatchObject({ line: 1262, input: 0 });
  });

  test('a damaged input (truncated gzip) completes with warnings: exit 1, flagged in the summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alf-main-'));
    const truncated = join(dir, 'truncated.log.gz');
    await writeFile(truncated, (await readFile(join(root, 'testdata/real/elastic-examples/apache_logs.gz'))).subarray(0, 20_000));
    const r = await run(['parse', '--to', 'ndjson', truncated]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/flagged: truncated/);
    expect(r.stderr).toMatch(/warning: 1 input flagged .*truncated.*: exit status 1/);
    expect(r.stdout.split('\n').length).toBeGreaterThan(800);
  });

  test('more rejected lines than --max-reject-ratio: exit 1 with the reasons', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alf-main-'));
    const log = join(dir, 'mixed.log');
    const good = '192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "-" "curl/8"\n';
    await writeFile(log, good.repeat(20) + 'garbage line\n');
    const lenient = await run(['parse', '--to', 'csv', '--format', 'combined', '--max-reject-ratio', '10%', log]);
    expect(lenient.code).toBe(0);
    const strict = await run(['parse', '--to', 'csv', '--format', 'combined', log]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/21 lines: 20 parsed, 1 rejected/);
    expect(strict.stderr).toMatch(/mixed\.log:21 \(byte 1,640\) field_count/);
    expect(strict.stderr).toMatch(/above --max-reject-ratio 0\.01: exit status 1/);
  });

  test('a config file supplies options, the command line wins, problems name the file and key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alf-config-'));
    const config = join(dir, 'team.json');
    await writeFile(config, JSON.stringify({ parse: { to: 'ndjson', quiet: true }, lookup: { 'asn-db': '/srv/x.mmdb' } }));
    const fromFile = await run(['parse', '--config', config, secrepo]);
    expect(fromFile).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(fromFile.stdout.split('\n')[0]!)).toMatchObject({ line: 1 });
    const overridden = await run(['parse', '--config', config, '--to', 'csv', secrepo]);
    expect(overridden.stdout).toMatch(/^input,line,/);

    await writeFile(config, JSON.stringify({ parse: { format: 'ngnix', fromat: 'x' } }));
    const unknownKey = await run(['parse', '--config', config, secrepo]);
    expect(unknownKey.code).toBe(2);
    expect(unknownKey.stderr).toMatch(/team\.json: `parse\.fromat` is not an option of `alf parse` \(did you mean `format`\?\)/);
    await writeFile(config, JSON.stringify({ parse: { format: 'ngnix' } }));
    expect((await run(['parse', '--config', config, secrepo])).stderr).toMatch(/team\.json: `parse\.format`: `--format` must be .*got `ngnix` \(did you mean `nginx`\?\)/);
    await writeFile(config, JSON.stringify({ prase: {} }));
    expect((await run(['parse', '--config', config, secrepo])).stderr).toMatch(/unknown section `prase` \(did you mean `parse`\?\)/);
    await writeFile(config, '{"parse": {');
    expect(await run(['parse', '--config', config, secrepo])).toMatchObject({ code: 2, stderr: expect.stringMatching(/team\.json: not valid JSON/) });
    expect(await run(['parse', '--config', join(dir, 'nope.json'), secrepo])).toMatchObject({ code: 3, stderr: expect.stringMatching(/cannot read config file/) });
  });

  test('colours only on a terminal stderr, and not with NO_COLOR', async () => {
    const saved = process.env['NO_COLOR'];
    try {
      delete process.env['NO_COLOR'];
      expect((await run(['parse', 'no-such.log'], true)).stderr).toContain('\u001b[31malf:\u001b[39m cannot read');
      expect((await run(['parse', 'no-such.log'], false)).stderr).not.toContain('\u001b');
      process.env['NO_COLOR'] = '1';
      expect((await run(['parse', 'no-such.log'], true)).stderr).not.toContain('\u001b');
    } finally {
      if (saved === undefined) delete process.env['NO_COLOR'];
      else process.env['NO_COLOR'] = saved;
    }
  });
});
