/**
 * recheckFile: a later pass trusts the first pass's SHA-256 of a plain file only while the
 * file's identity (device, inode, size, mtime, ctime) is what it was during that hash, and
 * never for a file changed within the racy interval before the hash.
 */
import { appendFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hashFile, recheckFile } from './analyze-parallel.ts';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'alf-recheck-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const body = 'GET / 200\n'.repeat(1000);

describe('recheckFile', () => {
  test('a file just written has no identity (racy): a later pass hashes it again', async () => {
    const path = join(dir, 'fresh.log');
    await writeFile(path, body);
    const first = await hashFile(path);
    expect(first).toMatchObject({ sizeBytes: body.length, sha256: sha(body), sizeStable: true, identity: null });
    const again = await recheckFile(path, first);
    expect(again).not.toBe(first);
    expect(again.sha256).toBe(first.sha256);
  });

  test('an unchanged file is not read again; appending, truncating or rewriting it in place is seen', async () => {
    const path = join(dir, 'spill.log');
    for (const change of ['append', 'truncate', 'same size'] as const) {
      await writeFile(path, body);
      // `trusted`: this run's own spill (its identity holds however recent the write).
      const first = await hashFile(path, undefined, true);
      expect(first.identity).toMatch(/^\d+:\d+:\d+:\d+:\d+$/);
      expect(await recheckFile(path, first)).toBe(first);
      await sleep(30); // past the kernel's coarse ctime tick
      if (change === 'append') await appendFile(path, 'x\n');
      else if (change === 'truncate') {
        const fh = await open(path, 'r+');
        await fh.truncate(body.length - 10);
        await fh.close();
      } else {
        const fh = await open(path, 'r+');
        await fh.write('P', 0);
        await fh.close();
      }
      const after = await recheckFile(path, first);
      expect(after).not.toBe(first);
      expect(after.sha256).not.toBe(first.sha256);
      expect(after.sizeBytes).toBe(change === 'append' ? body.length + 2 : change === 'truncate' ? body.length - 10 : body.length);
    }
  });

  test('a file replaced by another (new inode, same bytes and size) is hashed again and found equal', async () => {
    const path = join(dir, 'rotated.log');
    await writeFile(path, body);
    const first = await hashFile(path, undefined, true);
    await rm(path);
    await writeFile(path, body);
    const after = await recheckFile(path, first);
    expect(after).not.toBe(first);
    expect(after.sha256).toBe(first.sha256);
  });
});
