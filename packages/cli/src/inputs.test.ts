import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { AlfError } from '@alf/parser';
import { checkInputs, openInput } from './inputs.ts';

const root = new URL('../../../', import.meta.url).pathname;
const gz = join(root, 'testdata/real/secrepo/access.log.2022-12-22.gz');

async function drain(input: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of input) n += c.byteLength;
  return n;
}

describe('openInput', () => {
  test('streams a file once, with its size and the SHA-256 of the bytes read', async () => {
    const input = await openInput(gz);
    const bytes = await readFile(gz);
    expect(input.sizeBytes).toBe(bytes.byteLength);
    expect(input.done()).toBe(false);
    expect(await drain(input.bytes)).toBe(bytes.byteLength);
    expect(input.done()).toBe(true);
    expect(input.bytesRead()).toBe(bytes.byteLength);
    expect(input.sha256()).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  test('`-` reads the given standard input; size unknown', async () => {
    const input = await openInput('-', Readable.from([Buffer.from('a\n'), Buffer.from('b\n')]));
    expect(input.sizeBytes).toBeUndefined();
    expect(await drain(input.bytes)).toBe(4);
    expect(input.sha256()).toBe(createHash('sha256').update('a\nb\n').digest('hex'));
  });

  test.for([
    ['missing file', 'no-such-file.log', /no such file/],
    ['directory', '.', /is a directory/],
  ])('%s is ALF_INPUT_UNREADABLE with a clear message', async ([, path, message]) => {
    const error = await openInput(path as string).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlfError);
    expect((error as AlfError).code).toBe('ALF_INPUT_UNREADABLE');
    expect((error as AlfError).message).toMatch(message as RegExp);
    await expect(checkInputs(['-', path as string])).rejects.toMatchObject({ code: 'ALF_INPUT_UNREADABLE' });
  });

  test.skipIf(process.getuid?.() === 0)('unreadable permissions say so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alf-inputs-'));
    const file = join(dir, 'secret.log');
    await writeFile(file, 'x\n');
    await chmod(file, 0o000);
    await expect(openInput(file)).rejects.toMatchObject({ code: 'ALF_INPUT_UNREADABLE', message: expect.stringMatching(/permission denied/) });
  });

  test('an abort signal stops a read that waits on an idle pipe', async () => {
    const idle = new Readable({ read() {} });
    const controller = new AbortController();
    const input = await openInput('-', idle, controller.signal);
    const reading = drain(input.bytes);
    controller.abort('SIGINT');
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
  });
});
