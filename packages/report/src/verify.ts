/**
 * `alf verify PACK [INPUT...]`: re-hashes every file a pack's manifest lists
 * and reports changed, missing and extra files (only `manifest.json` itself is
 * not counted as extra; leftover temporary files are). Given the original
 * inputs, re-hashes them too. Nothing inside the pack is followed through a
 * symbolic link: a link where a file should be is reported as changed, any
 * other link as extra.
 */
import { createHash } from 'node:crypto';
import { constants as FS } from 'node:fs';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { AlfError } from '@alf/parser';
import { MANIFEST_NAME, parseManifest, type ManifestInput, type PackManifest, type PackStatus } from './manifest.ts';
import { validatePackPath } from './pack-writer.ts';

export interface VerifyOptions {
  /** The original input files, to re-hash against the manifest's `inputs`. */
  inputs?: readonly string[];
}

export interface VerifyChangedFile {
  readonly path: string;
  /** `content`: size or SHA-256 differ; `not_a_file`: a directory, symlink or device is in its place. */
  readonly reason: 'content' | 'not_a_file';
  readonly expectedSize: number;
  readonly actualSize: number | null;
  readonly expectedSha256: string;
  readonly actualSha256: string | null;
}

export interface VerifyInputResult {
  /** The path given to verify. */
  readonly given: string;
  /**
   * `ok`: same bytes as recorded; `changed`: recorded under this path but the
   * bytes differ; `unknown`: matches no recorded input by path or content;
   * `unreadable`: could not be read (`detail` says why).
   */
  readonly status: 'ok' | 'changed' | 'unknown' | 'unreadable';
  /** The manifest input it was matched to (by path, or by content for renamed files and stdin). */
  readonly matched: string | null;
  readonly expectedSha256: string | null;
  readonly actualSha256: string | null;
  readonly detail: string | null;
}

export interface VerifyResult {
  /** True when nothing is changed, missing or extra, every given input matched, and the manifest was readable. */
  readonly ok: boolean;
  readonly dir: string;
  readonly manifest: PackManifest | null;
  /** The pack's own status: a pack can be intact and still `interrupted`. */
  readonly status: PackStatus | null;
  /** Files listed in the manifest. */
  readonly checked: number;
  readonly changed: readonly VerifyChangedFile[];
  readonly missing: readonly string[];
  readonly extra: readonly string[];
  readonly inputs: readonly VerifyInputResult[];
  /** Manifest missing or unreadable, unsafe names listed in it. */
  readonly errors: readonly string[];
}

interface TreeEntry {
  kind: 'file' | 'other';
  size: number;
}

/** Every non-directory entry under `root`, by `/`-separated relative path, without following links. */
async function walkPack(root: string): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  const visit = async (rel: string): Promise<void> => {
    const entries = await fsp.readdir(rel ? path.join(root, rel) : root, { withFileTypes: true });
    for (const d of entries) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) await visit(r);
      else if (d.isFile()) out.set(r, { kind: 'file', size: (await fsp.lstat(path.join(root, r))).size });
      else out.set(r, { kind: 'other', size: 0 });
    }
  };
  await visit('');
  return out;
}

/** SHA-256 and byte count of a file (or of its first `limit` bytes). */
async function hashFile(file: string, opts: { noFollow?: boolean; limit?: number } = {}): Promise<{ sha256: string; size: number }> {
  const fh = await fsp.open(file, FS.O_RDONLY | (opts.noFollow ? FS.O_NOFOLLOW : 0));
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    let size = 0;
    const limit = opts.limit ?? Infinity;
    while (size < limit) {
      const want = Math.min(buf.length, limit - size);
      const { bytesRead } = await fh.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    await fh.close();
  }
}

async function verifyInput(given: string, recorded: readonly ManifestInput[]): Promise<VerifyInputResult> {
  const base = { given, matched: null, expectedSha256: null, actualSha256: null, detail: null };
  let whole: { sha256: string; size: number };
  try {
    whole = await hashFile(given);
  } catch (e) {
    return { ...base, status: 'unreadable', detail: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  const byPath = recorded.find((r) => !r.stdin && (r.path === given || path.resolve(r.path) === path.resolve(given)));
  if (byPath) {
    let actual = whole;
    if (!byPath.complete && whole.size > byPath.size) actual = await hashFile(given, { limit: byPath.size });
    const same = actual.sha256 === byPath.sha256 && actual.size === byPath.size;
    return {
      ...base,
      status: same ? 'ok' : 'changed',
      matched: byPath.path,
      expectedSha256: byPath.sha256,
      actualSha256: actual.sha256,
      detail: same
        ? byPath.complete ? null : `the run read only the first ${byPath.size} bytes`
        : `recorded ${byPath.size} bytes, file has ${whole.size}`,
    };
  }
  const byContent = recorded.find((r) => r.sha256 === whole.sha256 && r.size === whole.size);
  if (byContent) {
    return { ...base, status: 'ok', matched: byContent.path, expectedSha256: byContent.sha256, actualSha256: whole.sha256, detail: 'matched by content' };
  }
  return { ...base, status: 'unknown', actualSha256: whole.sha256, detail: 'matches no input recorded in the manifest' };
}

/**
 * Checks a pack against its manifest. Throws `AlfError('ALF_INPUT_UNREADABLE')`
 * only when `dir` is not a readable directory; every other problem is in the
 * result.
 */
export async function verifyPack(dir: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  let tree: Map<string, TreeEntry>;
  try {
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
    tree = await walkPack(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    throw new AlfError('ALF_INPUT_UNREADABLE', `cannot read pack ${dir}: ${code}; expected a directory written by alf`, { path: dir, errno: code }, { cause: e });
  }
  const errors: string[] = [];
  let manifest: PackManifest | null = null;
  const mEntry = tree.get(MANIFEST_NAME);
  if (!mEntry) errors.push(`${MANIFEST_NAME} is missing`);
  else if (mEntry.kind !== 'file') errors.push(`${MANIFEST_NAME} is not a regular file`);
  else {
    try {
      manifest = parseManifest(await fsp.readFile(path.join(dir, MANIFEST_NAME), 'utf8'), path.join(dir, MANIFEST_NAME));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  tree.delete(MANIFEST_NAME);

  const changed: VerifyChangedFile[] = [];
  const missing: string[] = [];
  const listed = new Set<string>();
  for (const f of manifest?.files ?? []) {
    try {
      validatePackPath(f.path);
    } catch {
      errors.push(`manifest lists an unsafe file name ${JSON.stringify(f.path)}; not checked`);
      continue;
    }
    listed.add(f.path);
    const entry = tree.get(f.path);
    const expected = { path: f.path, expectedSize: f.size, expectedSha256: f.sha256 };
    if (!entry) {
      missing.push(f.path);
      continue;
    }
    if (entry.kind !== 'file') {
      changed.push({ ...expected, reason: 'not_a_file', actualSize: null, actualSha256: null });
      continue;
    }
    let actual: { sha256: string; size: number };
    try {
      actual = await hashFile(path.join(dir, f.path), { noFollow: true });
    } catch {
      changed.push({ ...expected, reason: 'not_a_file', actualSize: null, actualSha256: null });
      continue;
    }
    if (actual.sha256 !== f.sha256 || actual.size !== f.size) {
      changed.push({ ...expected, reason: 'content', actualSize: actual.size, actualSha256: actual.sha256 });
    }
  }
  const extra = [...tree.keys()].filter((p) => !listed.has(p)).sort();

  const inputs: VerifyInputResult[] = [];
  for (const given of opts.inputs ?? []) inputs.push(await verifyInput(given, manifest?.inputs ?? []));

  const ok =
    errors.length === 0 && changed.length === 0 && missing.length === 0 && extra.length === 0 && inputs.every((i) => i.status === 'ok');
  return {
    ok,
    dir,
    manifest,
    status: manifest?.status ?? null,
    checked: manifest?.files.length ?? 0,
    changed,
    missing: missing.sort(),
    extra,
    inputs,
    errors,
  };
}
