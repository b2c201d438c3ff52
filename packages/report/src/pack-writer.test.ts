import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { AlfError } from '@alf/parser';
import { MANIFEST_NAME, parseManifest } from './manifest.ts';
import { createPack, validatePackPath, type PackFileHandle, type PackIo, type PackOptions } from './pack-writer.ts';

const TOOL: PackOptions = { tool: { name: 'alf', version: '0.1.0-test' }, argv: ['alf', 'analyze', 'x.log'], options: { format: 'nginx' } };
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

let base = '';
let n = 0;
beforeEach(async () => {
  if (!base) base = await fsp.mkdtemp(path.join(os.tmpdir(), 'alf-pack-writer-'));
});
afterAll(async () => {
  if (base) {
    await fsp.chmod(base, 0o755).catch(() => undefined);
    await fsp.rm(base, { recursive: true, force: true });
  }
});
function fresh(): string {
  return path.join(base, `p${n++}`);
}
const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    const rel = path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
    out.push(e.isDirectory() ? rel + '/' : rel);
  }
  return out.sort();
}
const temps = async (dir: string): Promise<string[]> => (await listAll(dir)).filter((f) => f.includes('.alf-tmp-'));

async function expectAlfError(p: Promise<unknown>, code: string, context: Record<string, unknown> = {}): Promise<AlfError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AlfError);
  const err = e as AlfError;
  expect(err.code).toBe(code);
  expect(err.context).toMatchObject(context);
  return err;
}

function* chunks(count: number, size: number): Generator<Buffer> {
  for (let i = 0; i < count; i++) yield Buffer.alloc(size, 97 + (i % 26));
}

describe('writing a pack', () => {
  test('writes files, sub-folders and streams atomically, hashing while writing; manifest last', async () => {
    const dir = fresh();
    const pack = await createPack(dir, TOOL);
    // The placeholder manifest exists from the start: a killed run says so.
    expect(parseManifest(await fsp.readFile(path.join(dir, MANIFEST_NAME), 'utf8')).status).toBe('interrupted');

    const a = await pack.writeFile('summary.md', '# hi\n');
    const b = await pack.writeFile('evidence/b1.log', new Uint8Array([0, 1, 2, 255]));
    const s = pack.writeStream('rejects.csv', { highWaterMark: 1024 });
    let maxBuffered = 0;
    const src = Readable.from(chunks(200, 4096));
    src.on('data', () => {
      maxBuffered = Math.max(maxBuffered, s.writableLength);
    });
    await pipeline(src, s);
    expect(s.entry).not.toBeNull();
    expect(maxBuffered).toBeLessThanOrEqual(1024 + 4096); // backpressure: the writer never queues the whole input

    const m = await pack.finish({ counts: { lines: 3 } });
    expect(m.status).toBe('complete');
    const big = Buffer.concat([...chunks(200, 4096)]);
    expect(m.files).toEqual([
      { path: 'evidence/b1.log', size: 4, sha256: sha(new Uint8Array([0, 1, 2, 255])) },
      { path: 'rejects.csv', size: big.length, sha256: sha(big) },
      { path: 'summary.md', size: 5, sha256: sha('# hi\n') },
    ]);
    expect(a).toEqual(m.files[2]);
    expect(b).toEqual(m.files[0]);
    expect(await listAll(dir)).toEqual(['evidence/', 'evidence/b1.log', 'manifest.json', 'rejects.csv', 'summary.md']);
    expect(sha(await fsp.readFile(path.join(dir, 'rejects.csv')))).toBe(sha(big));
    const onDisk = parseManifest(await fsp.readFile(path.join(dir, MANIFEST_NAME), 'utf8'));
    expect(onDisk.status).toBe('complete');
    expect(onDisk.counts).toEqual({ lines: 3 });
    expect(onDisk.files).toEqual(m.files);
  });

  test.for([['../x'], ['/etc/passwd'], ['a/../b'], ['./a'], ['.hidden'], ['a\\b'], [''], ['a//b'], ['evidence/'], ['manifest.json'], ['x\u202e.csv'], ['a\0b']])(
    'refuses the file name %j',
    async ([name]) => {
      expect(() => validatePackPath(name as string)).toThrow(AlfError);
      const dir = fresh();
      const pack = await createPack(dir, TOOL);
      await expectAlfError(pack.writeFile(name as string, 'x'), 'ALF_INTERNAL');
      expect(() => pack.writeStream(name as string)).toThrow(AlfError);
      expect(await listAll(dir)).toEqual(['manifest.json']);
    },
  );

  test('refuses to write the same name twice and to finish with an open stream', async () => {
    const pack = await createPack(fresh(), TOOL);
    await pack.writeFile('a.csv', 'x');
    await expectAlfError(pack.writeFile('a.csv', 'y'), 'ALF_INTERNAL');
    const s = pack.writeStream('b.csv');
    s.write('row\n');
    await expectAlfError(pack.finish(), 'ALF_INTERNAL', { open: ['b.csv'] });
    s.end();
    await new Promise((r) => s.on('finish', r));
    const m = await pack.finish();
    expect(m.files.map((f) => f.path)).toEqual(['a.csv', 'b.csv']);
    await expectAlfError(pack.writeFile('c.csv', 'z'), 'ALF_INTERNAL');
  });
});

describe('planted symlinks', () => {
  test('a symlink planted at a final name is replaced, its target stays untouched', async () => {
    const dir = fresh();
    const outside = fresh();
    await fsp.mkdir(outside);
    const target = path.join(outside, 'victim.txt');
    await fsp.writeFile(target, 'ORIGINAL');
    const pack = await createPack(dir, TOOL);
    await fsp.symlink(target, path.join(dir, 'summary.md'));
    await fsp.symlink(target, path.join(dir, 'rejects.csv'));
    await pack.writeFile('summary.md', 'report');
    await pipeline(Readable.from(['a,b\n', '1,2\n']), pack.writeStream('rejects.csv'));
    await pack.finish();
    expect(await fsp.readFile(target, 'utf8')).toBe('ORIGINAL');
    for (const f of ['summary.md', 'rejects.csv']) expect((await fsp.lstat(path.join(dir, f))).isFile()).toBe(true);
    expect(await fsp.readFile(path.join(dir, 'summary.md'), 'utf8')).toBe('report');
  });

  test('a folder that is a symlink is refused, nothing is written through it', async () => {
    const dir = fresh();
    const outside = fresh();
    await fsp.mkdir(outside);
    const pack = await createPack(dir, TOOL);
    await fsp.symlink(outside, path.join(dir, 'evidence'));
    await expectAlfError(pack.writeFile('evidence/b1.log', 'x'), 'ALF_OUTPUT_UNWRITABLE', { reason: 'symlink' });
    const s = pack.writeStream('evidence/b2.log');
    await expectAlfError(pipeline(Readable.from(['x']), s), 'ALF_OUTPUT_UNWRITABLE', { reason: 'symlink' });
    expect(await fsp.readdir(outside)).toEqual([]);
    const m = await pack.finish();
    expect(m.status).toBe('partial');
    expect(m.notes).toEqual(['evidence/b1.log: not written (symlink)', 'evidence/b2.log: not written (symlink)']);
  });

  test('a symlink planted at the manifest name is replaced, its target stays untouched', async () => {
    const dir = fresh();
    const outside = fresh();
    await fsp.mkdir(outside);
    const target = path.join(outside, 'victim.json');
    await fsp.writeFile(target, 'ORIGINAL');
    const pack = await createPack(dir, TOOL);
    await fsp.rm(path.join(dir, MANIFEST_NAME));
    await fsp.symlink(target, path.join(dir, MANIFEST_NAME));
    await pack.finish();
    expect(await fsp.readFile(target, 'utf8')).toBe('ORIGINAL');
    expect((await fsp.lstat(path.join(dir, MANIFEST_NAME))).isFile()).toBe(true);
  });
});

describe('output directory policy', () => {
  test('uses an empty existing directory and creates missing parents', async () => {
    const empty = fresh();
    await fsp.mkdir(empty);
    await (await createPack(empty, TOOL)).finish();
    const nested = path.join(fresh(), 'a', 'b');
    await (await createPack(nested, TOOL)).finish();
    expect(await listAll(nested)).toEqual(['manifest.json']);
  });

  test('refuses a non-empty foreign directory and a file', async () => {
    const dir = fresh();
    await fsp.mkdir(dir);
    await fsp.writeFile(path.join(dir, 'notes.txt'), 'mine');
    const e = await expectAlfError(createPack(dir, { ...TOOL, replace: true }), 'ALF_OUTPUT_UNWRITABLE', { reason: 'not_empty' });
    expect(e.message).toMatch(/not empty.*"notes\.txt".*choose a new or empty directory/);
    expect(await fsp.readFile(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    const file = fresh();
    await fsp.writeFile(file, 'x');
    await expectAlfError(createPack(file, TOOL), 'ALF_OUTPUT_UNWRITABLE', { reason: 'not_a_directory' });
  });

  test('a previous alf pack is refused unless replace is set, then replaced cleanly', async () => {
    const dir = fresh();
    const old = await createPack(dir, TOOL);
    await old.writeFile('evidence/b9.log', 'old');
    await old.writeFile('bursts.csv', 'old');
    await old.finish();
    await fsp.writeFile(path.join(dir, '.bursts.csv.alf-tmp-0123456789ab'), 'leftover of a killed run');
    await expectAlfError(createPack(dir, TOOL), 'ALF_OUTPUT_UNWRITABLE', { reason: 'previous_pack', status: 'complete' });
    const pack = await createPack(dir, { ...TOOL, replace: true });
    await pack.writeFile('bursts.csv', 'new');
    await pack.finish();
    expect(await listAll(dir)).toEqual(['bursts.csv', 'manifest.json']);
  });

  test('a previous pack with a foreign file in it is refused even with replace', async () => {
    const dir = fresh();
    await (await createPack(dir, TOOL)).finish();
    await fsp.writeFile(path.join(dir, 'precious.doc'), 'x');
    await expectAlfError(createPack(dir, { ...TOOL, replace: true }), 'ALF_OUTPUT_UNWRITABLE', { reason: 'not_empty' });
    expect(await listAll(dir)).toEqual(['manifest.json', 'precious.doc']);
  });
});

describe('write failures', () => {
  test.skipIf(isRoot)('a read-only directory gives ALF_OUTPUT_UNWRITABLE with EACCES (skipped as root: root ignores permissions)', async () => {
    const dir = fresh();
    await fsp.mkdir(dir, { mode: 0o555 });
    await expectAlfError(createPack(dir, TOOL), 'ALF_OUTPUT_UNWRITABLE', { errno: 'EACCES' });
    expect(await fsp.readdir(dir)).toEqual([]);
  });

  /** Opens real temp files, but every data write goes to /dev/full: a real ENOSPC from the kernel. */
  function diskFullIo(): Partial<PackIo> {
    return {
      open: async (file: string, flags: number, mode?: number): Promise<PackFileHandle> => {
        const real = await fsp.open(file, flags, mode);
        if (!path.basename(file).includes('.alf-tmp-') || path.basename(file).startsWith('.manifest.json')) return real;
        const full = await fsp.open('/dev/full', 'w');
        return {
          write: (b: Uint8Array, off: number, len: number) => full.write(b, off, len),
          sync: () => real.sync(),
          close: async () => {
            await full.close();
            await real.close();
          },
        };
      },
    };
  }

  test.skipIf(!fs.existsSync('/dev/full'))('ENOSPC (writes to /dev/full) through a stream and writeFile: ALF_OUTPUT_UNWRITABLE, temp files removed, pack partial', async () => {
    const dir = fresh();
    const pack = await createPack(dir, { ...TOOL, io: diskFullIo() });
    const err = await expectAlfError(pipeline(Readable.from(chunks(50, 65536)), pack.writeStream('records.arrow')), 'ALF_OUTPUT_UNWRITABLE', {
      errno: 'ENOSPC',
      path: path.join(await fsp.realpath(dir), 'records.arrow'),
    });
    expect(err.message).toMatch(/disk is full/);
    await expectAlfError(pack.writeFile('bursts.csv', 'a,b\n'), 'ALF_OUTPUT_UNWRITABLE', { errno: 'ENOSPC' });
    expect(await temps(dir)).toEqual([]);
    const m = await pack.finish();
    expect(m.status).toBe('partial');
    expect(m.notes).toEqual(['records.arrow: not written (ENOSPC)', 'bursts.csv: not written (ENOSPC)']);
    expect(await listAll(dir)).toEqual(['manifest.json']);
  });

  test('EACCES from open (injected): ALF_OUTPUT_UNWRITABLE with path and errno, nothing left behind', async () => {
    const dir = fresh();
    const io: Partial<PackIo> = {
      open: async (file: string, flags: number, mode?: number): Promise<PackFileHandle> => {
        if (path.basename(file).startsWith('.summary.md.alf-tmp-')) {
          throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES', syscall: 'open', path: file });
        }
        return fsp.open(file, flags, mode);
      },
    };
    const pack = await createPack(dir, { ...TOOL, io });
    await expectAlfError(pack.writeFile('summary.md', 'x'), 'ALF_OUTPUT_UNWRITABLE', { errno: 'EACCES', syscall: 'open' });
    expect(await listAll(dir)).toEqual(['manifest.json']);
  });

  test('a failed rename removes the temp file', async () => {
    const dir = fresh();
    const io: Partial<PackIo> = {
      rename: async (a: string, b: string) => {
        if (b.endsWith('.csv')) throw Object.assign(new Error('EIO'), { code: 'EIO', syscall: 'rename' });
        return fsp.rename(a, b);
      },
    };
    const pack = await createPack(dir, { ...TOOL, io });
    await expectAlfError(pack.writeFile('bursts.csv', 'x'), 'ALF_OUTPUT_UNWRITABLE', { errno: 'EIO' });
    await expectAlfError(pipeline(Readable.from(['x']), pack.writeStream('rejects.csv')), 'ALF_OUTPUT_UNWRITABLE', { errno: 'EIO' });
    expect(await temps(dir)).toEqual([]);
  });
});

describe('abort', () => {
  test('removes temp files of open streams and writes an interrupted manifest of the completed files', async () => {
    const dir = fresh();
    const pack = await createPack(dir, TOOL);
    await pack.writeFile('bursts.csv', 'id\n1\n');
    const s = pack.writeStream('records.arrow');
    const done = pipeline(
      Readable.from(
        (async function* () {
          for (let i = 0; ; i++) yield Buffer.alloc(4096, i % 256); // endless: only abort stops it
        })(),
      ),
      s,
    ).catch((e: unknown) => e);
    // Wait until data reached the temp file (no timing: poll the tree).
    while ((await temps(dir)).length === 0 || s.writableLength === 0) await new Promise((r) => setImmediate(r));
    const m = await pack.abort('SIGINT', { counts: { lines: 10 } });
    expect(m?.status).toBe('interrupted');
    expect(m?.statusReason).toBe('SIGINT');
    expect(m?.files.map((f) => f.path)).toEqual(['bursts.csv']);
    expect(await done).toBeInstanceOf(Error);
    expect(await listAll(dir)).toEqual(['bursts.csv', 'manifest.json']);
    const onDisk = parseManifest(await fsp.readFile(path.join(dir, MANIFEST_NAME), 'utf8'));
    expect(onDisk.status).toBe('interrupted');
    expect(onDisk.counts).toEqual({ lines: 10 });
    await expectAlfError(pack.writeFile('late.csv', 'x'), 'ALF_INTERNAL', { state: 'aborted' });
    expect(await pack.abort('again')).toEqual(m); // idempotent
  });

  test('abort racing in-flight writes: every file on disk is complete and listed, no temp file is left', async () => {
    for (let round = 0; round < 5; round++) {
      const dir = fresh();
      const pack = await createPack(dir, TOOL);
      const writes = Array.from({ length: 20 }, (_, i) => pack.writeFile(`evidence/b${i}.log`, `line ${i}\n`.repeat(1000)).catch((e: unknown) => e));
      for (let i = 0; i < round * 3; i++) await new Promise((r) => setImmediate(r)); // let a different number of writes through each round
      const m = await pack.abort('SIGTERM');
      await Promise.all(writes);
      const onDisk = (await listAll(dir)).filter((f) => !f.endsWith('/') && f !== MANIFEST_NAME);
      expect(onDisk.filter((f) => f.includes('.alf-tmp-'))).toEqual([]);
      expect(onDisk).toEqual(m?.files.map((f) => f.path));
      for (const f of m?.files ?? []) expect(sha(await fsp.readFile(path.join(dir, f.path)))).toBe(f.sha256);
    }
  });

  test('abort after finish is a no-op', async () => {
    const dir = fresh();
    const pack = await createPack(dir, TOOL);
    await pack.finish();
    expect(await pack.abort('SIGTERM')).toBeNull();
    expect(parseManifest(await fsp.readFile(path.join(dir, MANIFEST_NAME), 'utf8')).status).toBe('complete');
  });
});

describe('SIGKILL mid-write', () => {
  test('leaves no half-written file under a final name; the placeholder manifest says interrupted; replace cleans up', async () => {
    const dir = fresh();
    const child = path.join(base, `child-${n++}.mts`);
    const writerUrl = new URL('./pack-writer.ts', import.meta.url).href;
    await fsp.writeFile(
      child,
      `import { createPack } from ${JSON.stringify(writerUrl)};
const pack = await createPack(process.argv[2], { tool: { name: 'alf', version: '0' }, argv: ['alf'] });
await pack.writeFile('done.csv', 'complete\\n');
const s = pack.writeStream('big.bin');
const chunk = Buffer.alloc(65536, 120);
let written = 0;
let told = false;
const pump = () => {
  for (;;) {
    const more = s.write(chunk);
    written += chunk.length;
    if (!told && written > 4 * 1024 * 1024) { told = true; process.stdout.write('READY\\n'); }
    if (!more) { s.once('drain', pump); return; }
  }
};
pump();
`,
    );
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const proc = spawn(process.execPath, ['--conditions=alf-source', '--import', 'tsx', child, dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, sig) => resolve(sig)));
    await new Promise<void>((resolve, reject) => {
      proc.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('READY')) resolve();
      });
      proc.on('exit', () => reject(new Error(`child exited before READY: ${stderr}`)));
    });
    proc.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const files = await listAll(dir);
    expect(files).not.toContain('big.bin');
    expect(files.filter((f) => !f.startsWith('.big.bin.alf-tmp-'))).toEqual(['done.csv', 'manifest.json']);
    expect(parseManifest(await fsp.readFile(path.join(dir, MANIFEST_NAME), 'utf8')).status).toBe('interrupted');
    await expectAlfError(createPack(dir, TOOL), 'ALF_OUTPUT_UNWRITABLE', { reason: 'previous_pack', status: 'interrupted' });
    const again = await createPack(dir, { ...TOOL, replace: true });
    await again.finish();
    expect(await listAll(dir)).toEqual(['manifest.json']);
  });
});
