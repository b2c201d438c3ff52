/**
 * The real CLI, spawned through real pipes: stdout carries only data, every
 * message goes to stderr, exit statuses as documented.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, test } from 'vitest';
import { NODE_ARGS, spawnAlf as alf, type SpawnResult } from './test-cli.ts';

const root = new URL('../../../', import.meta.url).pathname;
const secrepo = join(root, 'testdata/real/secrepo/access.log.2022-12-22.gz'); // 1,262 lines, Apache combined
const elastic = join(root, 'testdata/real/elastic-examples/apache_logs.gz'); // 10,000 lines, Apache combined

const hasScript = spawnSync('script', ['--version']).status === 0;
const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

let plain: string;
let outDir: string;
beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'alf-cli-'));
  plain = join(outDir, 'access.log.2022-12-22');
  await writeFile(plain, gunzipSync(await readFile(secrepo)));
});

function ndjsonRecords(stdout: Buffer): Record<string, unknown>[] {
  return stdout.toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('alf basics', () => {
  test('--help shows commands, examples and exit statuses', async () => {
    const run = await alf(['parse', '--help']);
    expect(run.code).toBe(0);
    const help = run.stdout.toString();
    expect(help).toMatch(/--format/);
    expect(help).toMatch(/Examples:/);
    expect(help).toMatch(/--to/);
  });

  test('a misspelt --format gives exit 2 with did-you-mean', async () => {
    const run = await alf(['parse', '--format', 'ngnix', secrepo]);
    expect(run.code).toBe(2);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr).toMatch(/`--format` must be .*; got `ngnix` \(did you mean `nginx`\?\)/);
  });

  test('a missing file gives exit 3 before any output', async () => {
    const run = await alf(['parse', '--to', 'ndjson', secrepo, 'no/such/access.log']);
    expect(run.code).toBe(3);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr).toMatch(/cannot read `no\/such\/access.log`: no such file/);
  });

  test.skipIf(!hasScript)('standard input on a terminal and no files gives usage, not a hang (exit 2)', () => {
    // `script` gives the CLI a pseudo-terminal as stdin/stdout.
    const command = [process.execPath, ...NODE_ARGS, 'parse'].map(shellQuote).join(' ');
    const result = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: root, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(/no input: name log files/);
    expect(result.stdout).toMatch(/alf parse \[files\.\.\]/);
  });
});

describe('alf parse', () => {
  test.skipIf(!hasScript)('on a terminal without --to: a short table of the first records, and it says so', () => {
    const command = [process.execPath, ...NODE_ARGS, 'parse', secrepo].map(shellQuote).join(' ');
    const result = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/time \(UTC\)\s+client\s+method\s+status\s+bytes\s+path/);
    expect(result.stdout).toMatch(/showed the first 20 records as a table/);
    expect(result.stdout).toMatch(/1,262 lines: 1,262 parsed/);
  });

  test.skipIf(!hasScript)('on a terminal, --to arrow is refused rather than printing binary (exit 2)', () => {
    const command = [process.execPath, ...NODE_ARGS, 'parse', '--to', 'arrow', secrepo].map(shellQuote).join(' ');
    const result = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(/refusing to write binary Arrow to a terminal/);
  });

  test('a gzip file as NDJSON: every line accounted for, summary on stderr', async () => {
    const run = await alf(['parse', '--to', 'ndjson', secrepo]);
    expect(run.stderr).toMatch(/1,262 lines: 1,262 parsed, 0 rejected/);
    expect(run.stderr).toMatch(/gzip/);
    expect(run.code).toBe(0);
    const records = ndjsonRecords(run.stdout);
    expect(records).toHaveLength(1262);
    expect(records[0]).toMatchObject({ input: secrepo, line: 1, byteOffset: 0 });
    expect(typeof records[0]!['ts']).toBe('string');
    expect(typeof records[0]!['status']).toBe('number');
  });

  test('the plain file, the gzip file and standard input give the same records', async () => {
    const [fromGzip, fromPlain, fromStdin] = await Promise.all([
      alf(['parse', '--to', 'ndjson', secrepo]),
      alf(['parse', '--to', 'ndjson', plain]),
      alf(['parse', '--to', 'ndjson', '-'], await readFile(secrepo)),
    ]);
    const strip = (r: SpawnResult): unknown[] => ndjsonRecords(r.stdout).map(({ input: _input, ...rest }) => rest);
    expect(fromPlain.code).toBe(0);
    expect(fromStdin.code).toBe(0);
    expect(strip(fromPlain)).toEqual(strip(fromGzip));
    expect(strip(fromStdin)).toEqual(strip(fromGzip));
    expect(fromStdin.stderr).toMatch(/\(standard input\)/);
  });

  test('standard input is read when no file is named and stdin is a pipe', async () => {
    const run = await alf(['parse', '--to', 'csv'], await readFile(secrepo));
    expect(run.code).toBe(0);
    const lines = run.stdout.toString().trimEnd().split('\n');
    expect(lines).toHaveLength(1263);
    expect(lines[0]).toMatch(/^input,line,byteOffset,ts,ip,/);
  });

  test('`alf parse … | head -1` stops quietly with exit 0', () => {
    const command = `${[process.execPath, ...NODE_ARGS, 'parse', '--to', 'ndjson', elastic].map(shellQuote).join(' ')} 2>"$ALF_ERR" | head -1; echo "alf=\${PIPESTATUS[0]}"`;
    const errFile = join(outDir, 'head.err');
    const stdout = execFileSync('bash', ['-c', command], { cwd: root, encoding: 'utf8', env: { ...process.env, ALF_ERR: errFile } });
    const [first, status] = stdout.trimEnd().split('\n');
    expect(JSON.parse(first!)).toMatchObject({ line: 1 });
    expect(status).toBe('alf=0');
    return readFile(errFile, 'utf8').then((err) => expect(err).toBe(''));
  });

  test('Arrow IPC stream is the default on a pipe and reads back with apache-arrow', async () => {
    const run = await alf(['parse', secrepo, elastic]);
    expect(run.code).toBe(0);
    const require = createRequire(join(root, 'packages/report/package.json'));
    // apache-arrow is @alf/report's dependency; read back through its copy.
    const arrow = (await import(pathToFileURL(require.resolve('apache-arrow')).href)) as {
      tableFromIPC(bytes: Uint8Array): { numRows: number; get(i: number): Record<string, unknown> | null; schema: { metadata: Map<string, string> } };
    };
    const table = arrow.tableFromIPC(run.stdout);
    expect(table.numRows).toBe(11_262);
    const first = table.get(0)!;
    expect(first['input']).toBe(0);
    expect(first['line']).toBe(1);
    expect(typeof first['ip']).toBe('string');
    expect(table.get(1262)!['input']).toBe(1);
    expect(JSON.parse(table.schema.metadata.get('alf.inputs')!)).toEqual([secrepo, elastic]);
    expect(run.stderr).toMatch(/2 inputs, 11,262 lines/);
  });

  test('-o FILE writes there (format from the extension) and says where', async () => {
    const target = join(outDir, 'records.csv');
    const run = await alf(['parse', '-o', target, secrepo]);
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr).toMatch(/records written to .*records\.csv \(csv\)/);
    expect((await readFile(target, 'utf8')).trimEnd().split('\n')).toHaveLength(1263);
  });

  test.for([
    ['SIGINT', 130, false],
    ['SIGTERM', 143, true],
  ] as const)('%s while reading standard input exits %i (with -o: no file left behind: %s)', async ([signal, status, toFile]) => {
    const target = join(outDir, `interrupted-${signal}.csv`);
    const args = ['parse', '--to', 'csv', ...(toFile ? ['-o', target] : []), '-'];
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: root, stdio: ['pipe', 'ignore', 'pipe'] });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.on('error', () => undefined);
    // More than a pipe buffer: the write completes only once the CLI is reading (handlers installed).
    await new Promise<void>((resolve) => child.stdin.write(Buffer.alloc(1024 * 1024, 0x20), () => resolve()));
    child.kill(signal);
    expect(await closed).toBe(status);
    child.stdin.destroy();
    if (toFile) expect((await readdir(outDir)).filter((f) => f.startsWith(`interrupted-${signal}`))).toEqual([]);
  });
});
