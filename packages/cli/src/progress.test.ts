import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { progressLine } from './progress.ts';
import { NODE_ARGS } from './test-cli.ts';

const root = new URL('../../../', import.meta.url).pathname;

describe('progress line', () => {
  test('a file shows bytes of total, rate, lines and ETA', () => {
    expect(progressLine('access.log', 100 * 1024 * 1024, 25 * 1024 * 1024, 100_000, 2000))
      .toBe('access.log  25 MiB / 100 MiB (25%)  13 MiB/s  50,000 lines/s  ETA 6s');
  });
  test('standard input shows lines and rate', () => {
    expect(progressLine('-', undefined, 5000, 1234, 1000)).toBe('(standard input)  1,234 lines  1,234 lines/s');
  });
  test('names are made safe for the terminal', () => {
    expect(progressLine('a\u001b[2Jb', undefined, 0, 0, 1000)).toMatch(/^a\\x1b\[2Jb/);
  });
});

const hasTools = spawnSync('script', ['--version']).status === 0 && spawnSync('mkfifo', ['--version']).status === 0;

describe.skipIf(!hasTools)('progress under a pseudo-terminal', () => {
  test('renders on a terminal stderr while reading, then clears before the summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alf-progress-'));
    const fifo = join(dir, 'in.fifo');
    spawnSync('mkfifo', [fifo]);
    const alf = [process.execPath, ...NODE_ARGS, 'parse', '--to', 'ndjson', '-']
      .map((s) => `'${s}'`).join(' ');
    const child = spawn('script', ['-qec', `${alf} < '${fifo}' > /dev/null`, '/dev/null'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    const sawProgress = new Promise<void>((resolve) => {
      child.stdout.on('data', (c: Buffer) => {
        screen += c.toString('utf8');
        if (screen.includes('(standard input)  0 lines')) resolve();
      });
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const writer = await open(fifo, 'w'); // returns once the CLI opened its stdin
    await sawProgress; // still waiting for data: progress is on screen
    await writer.write(gunzipSync(await readFile(join(root, 'testdata/real/secrepo/access.log.2022-12-22.gz'))));
    await writer.close();
    expect(await closed).toBe(0);
    const summaryAt = screen.indexOf('alf parse: 1 input, 1,262 lines');
    expect(summaryAt).toBeGreaterThan(0);
    expect(screen.lastIndexOf('\r\u001b[2K', summaryAt)).toBeGreaterThan(screen.indexOf('(standard input)  0 lines'));
    expect(screen.slice(summaryAt)).not.toMatch(/lines\/s/);
  });
});
