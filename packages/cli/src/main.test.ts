/**
 * `main()` in-process on in-memory streams: usage errors and exit statuses that
 * need no real pipe (cli.test.ts spawns the real CLI for those that do).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { main } from './main.ts';

const root = new URL('../../../', import.meta.url).pathname;
const secrepo = join(root, 'testdata/real/secrepo/access.log.2022-12-22.gz');

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(argv, { stdin: Readable.from([]), stdout, stderr });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

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
});
