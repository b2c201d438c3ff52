/**
 * Writes an evidence pack directory so that a crash, a signal or a full disk
 * never leaves a half-written file under a final name, and a symlink planted
 * in the output directory is never followed.
 *
 * Every file goes to `.<name>.alf-tmp-<random>` in its final directory, opened
 * with `O_CREAT|O_EXCL|O_NOFOLLOW` (a planted name makes the open fail rather
 * than be followed), is fsync'd, then renamed into place (rename replaces a
 * planted symlink at the final name, never its target). Its SHA-256 and size
 * are computed from the bytes as they are written. `manifest.json` is written
 * the same way, last.
 *
 * Output directory policy (`createPack`):
 * - missing: created (with parents);
 * - empty: used;
 * - holding a previous alf pack (a parseable `manifest.json` and nothing that
 *   it does not list, apart from alf temporary files; for the placeholder
 *   manifest of a killed run, any name alf could have written): refused unless
 *   `replace: true`; when replacing, the old manifest is removed first, then
 *   the files it lists, leftover temporary files and the emptied folders;
 * - anything else (foreign files, a file, a dangling symlink): refused with
 *   `AlfError('ALF_OUTPUT_UNWRITABLE')`.
 * A symlink given as the directory itself is the user's choice and is
 * resolved once (`realpath`); symlinks inside the pack are never followed.
 * Right after creation a placeholder manifest with status `interrupted` is
 * written, so a run killed with SIGKILL still leaves a pack that says so.
 *
 * Node has no `openat`, so sub-folders are checked with `lstat` before use
 * (refused when a component is a symlink); a local attacker racing between
 * that check and the open is out of scope (they could write the files anyway).
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { constants as FS } from 'node:fs';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { AlfError } from '@alf/parser';
import {
  MANIFEST_NAME, buildManifest, parseManifest, serializeManifest,
  type JsonObject, type ManifestFile, type ManifestInput, type PackManifest, type PackStatus,
} from './manifest.ts';

/** The part of a `fs/promises` FileHandle the writer uses. */
export interface PackFileHandle {
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** File-system calls the writer makes; tests replace some to inject errors (ENOSPC, EACCES). */
export interface PackIo {
  open(file: string, flags: number, mode?: number): Promise<PackFileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  mkdir(dir: string, opts: { recursive?: boolean; mode?: number }): Promise<unknown>;
  rmdir(dir: string): Promise<void>;
  lstat(file: string): Promise<{ isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean; size: number }>;
  stat(file: string): Promise<{ isDirectory(): boolean }>;
  readdir(dir: string): Promise<string[]>;
  realpath(file: string): Promise<string>;
  readFile(file: string): Promise<Buffer>;
}

const defaultIo: PackIo = {
  open: (f, flags, mode) => fsp.open(f, flags, mode),
  rename: (a, b) => fsp.rename(a, b),
  unlink: (f) => fsp.unlink(f),
  mkdir: (d, o) => fsp.mkdir(d, o),
  rmdir: (d) => fsp.rmdir(d),
  lstat: (f) => fsp.lstat(f),
  stat: (f) => fsp.stat(f),
  readdir: (d) => fsp.readdir(d),
  realpath: (f) => fsp.realpath(f),
  readFile: (f) => fsp.readFile(f),
};

export interface PackOptions {
  tool: { name: string; version: string };
  /** The exact command line (recorded in the manifest). */
  argv: readonly string[];
  /** Effective options after defaults (recorded, keys sorted). */
  options?: JsonObject;
  /** Replace a previous alf pack found in the directory (see the module comment). Default false. */
  replace?: boolean;
  /** Clock for the run timestamps (tests). */
  now?: () => Date;
  io?: Partial<PackIo>;
}

/** A completed pack file: relative path, size and SHA-256. */
export type PackFileEntry = ManifestFile;

/** What the caller knows at the end of a run; all recorded in the manifest. */
export interface PackRunInfo {
  inputs?: readonly ManifestInput[];
  databases?: readonly JsonObject[];
  counts?: JsonObject;
  notes?: readonly string[];
}

export interface PackFinishInfo extends PackRunInfo {
  /** Default `complete`; `partial` when some input was cut short. Failed writes downgrade to `partial`. */
  status?: 'complete' | 'partial';
  statusReason?: string;
}

export interface PackWriter {
  /** Absolute real path of the pack directory. */
  readonly dir: string;
  /** Writes a whole file atomically; resolves with its size and SHA-256. */
  writeFile(name: string, data: string | Uint8Array): Promise<PackFileEntry>;
  /**
   * A Writable for a large file (rejects.csv, records.arrow) with backpressure;
   * use with `stream.pipeline`. The file appears under its name only after the
   * stream finishes; `entry` is set then. Destroying it removes the temp file.
   */
  writeStream(name: string, opts?: { highWaterMark?: number }): PackFileStream;
  /** Files completed so far, sorted by path. */
  files(): PackFileEntry[];
  /** Writes the final manifest (last, atomically). Every stream must have ended. */
  finish(info?: PackFinishInfo): Promise<PackManifest>;
  /**
   * For SIGINT/SIGTERM or a fatal error: stops open streams, removes every
   * temporary file and writes the manifest with status `interrupted` listing
   * the files that were completed. Idempotent; a no-op (null) after `finish`.
   */
  abort(reason: string, info?: PackRunInfo): Promise<PackManifest | null>;
}

const TEMP_RE = /^\..+\.alf-tmp-[0-9a-f]{12}$/;
const SEGMENT_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const WRITE_FLAGS = FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW;
const MANIFEST_READ_CAP = 64 * 1024 * 1024;

/**
 * Checks a pack-relative file name: `/`-separated segments of letters, digits,
 * `.`, `_`, `-`, not starting with `.` (so no `..`, no hidden or temp names),
 * at most 8 levels; `manifest.json` at the root is reserved. Throws
 * `AlfError('ALF_INTERNAL')`: names come from the tool, not the user.
 */
export function validatePackPath(name: string): string[] {
  const segments = name.split('/');
  const ok = segments.length <= 8 && segments.every((s) => SEGMENT_RE.test(s));
  if (!ok) {
    throw new AlfError(
      'ALF_INTERNAL',
      `pack file name ${JSON.stringify(name)} is not allowed: expected relative /-separated names of letters, digits, '.', '_', '-' (no '..', no leading '.', no absolute path)`,
      { name },
    );
  }
  if (name === MANIFEST_NAME) {
    throw new AlfError('ALF_INTERNAL', `${MANIFEST_NAME} is written by finish()/abort(), not by writeFile`, { name });
  }
  return segments;
}

function isPackPath(name: string): boolean {
  const segments = name.split('/');
  return segments.length <= 8 && segments.every((s) => SEGMENT_RE.test(s)) && name !== MANIFEST_NAME;
}

const ERRNO_HINTS: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full; free some space or choose another output directory',
  EDQUOT: 'the disk quota is exhausted; free some space or choose another output directory',
  EACCES: 'permission denied; choose a directory you can write to',
  EPERM: 'operation not permitted; choose a directory you can write to',
  EROFS: 'the file system is read-only; choose another output directory',
  ELOOP: 'a symbolic link is in the way; alf never follows links inside the pack',
  EEXIST: 'a file with that name appeared while writing',
  EISDIR: 'a directory is in the way',
  ENOTDIR: 'a file is in the way of a folder',
};

/** Wraps an fs error as `ALF_OUTPUT_UNWRITABLE` with path, errno and syscall. */
function outputError(e: unknown, file: string): AlfError {
  if (e instanceof AlfError) return e;
  const err = e as NodeJS.ErrnoException;
  const code = typeof err?.code === 'string' ? err.code : 'UNKNOWN';
  const hint = ERRNO_HINTS[code] ?? (err?.message ?? String(e));
  return new AlfError('ALF_OUTPUT_UNWRITABLE', `cannot write ${file}: ${code}: ${hint}`, { path: file, errno: code, syscall: err?.syscall }, { cause: e });
}

function refuse(dir: string, reason: string, message: string, extra: Record<string, unknown> = {}): AlfError {
  return new AlfError('ALF_OUTPUT_UNWRITABLE', message, { path: dir, reason, ...extra });
}

async function writeAll(fh: PackFileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off);
    if (bytesWritten <= 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO', syscall: 'write' });
    off += bytesWritten;
  }
}

function tempPathFor(abs: string): string {
  return path.join(path.dirname(abs), `.${path.basename(abs)}.alf-tmp-${randomBytes(6).toString('hex')}`);
}

function isErrno(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as NodeJS.ErrnoException).code ?? '');
}

/** Creates (or adopts, see the module comment) the pack directory and writes the placeholder manifest. */
export async function createPack(dir: string, opts: PackOptions): Promise<PackWriter> {
  const io: PackIo = { ...defaultIo, ...opts.io };
  let st: Awaited<ReturnType<PackIo['lstat']>> | null = null;
  try {
    st = await io.lstat(dir);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw outputError(e, dir);
  }
  if (st === null) {
    try {
      await io.mkdir(dir, { recursive: true, mode: 0o755 });
    } catch (e) {
      throw outputError(e, dir);
    }
  } else if (st.isSymbolicLink()) {
    let target;
    try {
      target = await io.stat(dir);
    } catch (e) {
      throw refuse(dir, 'dangling_symlink', `output directory ${dir} is a symbolic link to nothing; choose a new or empty directory`, { cause: String(e) });
    }
    if (!target.isDirectory()) throw refuse(dir, 'not_a_directory', `output ${dir} exists and is not a directory; choose a new or empty directory`);
  } else if (!st.isDirectory()) {
    throw refuse(dir, 'not_a_directory', `output ${dir} exists and is not a directory; choose a new or empty directory`);
  }
  let root: string;
  let entries: string[];
  try {
    root = await io.realpath(dir);
    entries = await io.readdir(root);
  } catch (e) {
    throw outputError(e, dir);
  }
  if (entries.length > 0) await adoptExisting(io, root, dir, entries, opts.replace === true);
  const writer = new PackWriterImpl(root, opts, io);
  await writer.writePlaceholder();
  return writer;
}

/** Lists every non-directory entry under `root` (relative, `/`-separated) and every folder, without following links. */
async function walk(io: PackIo, root: string): Promise<{ files: string[]; dirs: string[] }> {
  const files: string[] = [];
  const dirs: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await io.readdir(rel ? path.join(root, rel) : root)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const s = await io.lstat(path.join(root, r));
      if (s.isDirectory()) {
        dirs.push(r);
        await visit(r);
      } else files.push(r);
    }
  };
  await visit('');
  return { files, dirs };
}

async function adoptExisting(io: PackIo, root: string, given: string, entries: string[], replace: boolean): Promise<void> {
  const foreign = (names: string[]): AlfError =>
    refuse(
      given,
      'not_empty',
      `output directory ${given} is not empty and is not an alf evidence pack (found ${names.slice(0, 5).map((n) => JSON.stringify(n)).join(', ')}${names.length > 5 ? ', …' : ''}); choose a new or empty directory`,
      { entries: names.slice(0, 20) },
    );
  let manifest: PackManifest | null = null;
  const mpath = path.join(root, MANIFEST_NAME);
  if (entries.includes(MANIFEST_NAME)) {
    try {
      const ms = await io.lstat(mpath);
      if (ms.isFile() && ms.size <= MANIFEST_READ_CAP) manifest = parseManifest((await io.readFile(mpath)).toString('utf8'), mpath);
    } catch {
      manifest = null;
    }
  }
  if (manifest === null) throw foreign(entries.sort());
  let tree: { files: string[]; dirs: string[] };
  try {
    tree = await walk(io, root);
  } catch (e) {
    throw outputError(e, given);
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  // A placeholder manifest (no finishedAt) means a run was killed while writing: its
  // files were never listed, so any name alf could have written counts as its own.
  const killedRun = manifest.run?.finishedAt === null;
  const unknown = tree.files.filter(
    (f) => f !== MANIFEST_NAME && !listed.has(f) && !TEMP_RE.test(path.posix.basename(f)) && !(killedRun && isPackPath(f)),
  );
  if (unknown.length > 0) throw foreign(unknown);
  if (!replace) {
    throw refuse(
      given,
      'previous_pack',
      `output directory ${given} already holds an alf evidence pack (status ${manifest.status}, started ${manifest.run?.startedAt ?? 'unknown'}); choose a new directory or allow replacing it`,
      { status: manifest.status },
    );
  }
  try {
    // Manifest first: from here on the directory no longer claims to be a complete pack.
    await io.unlink(mpath);
    for (const f of tree.files) if (f !== MANIFEST_NAME) await io.unlink(path.join(root, f));
    for (const d of tree.dirs.sort().reverse()) await io.rmdir(path.join(root, d));
  } catch (e) {
    throw outputError(e, given);
  }
}

class PackWriterImpl implements PackWriter {
  readonly dir: string;
  private readonly opts: PackOptions;
  private readonly io: PackIo;
  private readonly startedAt: Date;
  private state: 'open' | 'finishing' | 'finished' | 'aborted' = 'open';
  private readonly entries = new Map<string, PackFileEntry>();
  /** Names reserved by a write in progress or done (no name is written twice). */
  private readonly names = new Set<string>();
  private readonly temps = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly streams = new Set<PackFileStream>();
  private readonly dirChecks = new Map<string, Promise<void>>();
  private readonly failures: string[] = [];
  private abortResult: Promise<PackManifest | null> | null = null;

  constructor(dir: string, opts: PackOptions, io: PackIo) {
    this.dir = dir;
    this.opts = opts;
    this.io = io;
    this.startedAt = this.now();
  }

  private now(): Date {
    return this.opts.now ? this.opts.now() : new Date();
  }

  files(): PackFileEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private assertOpen(name: string): void {
    if (this.state !== 'open') {
      throw new AlfError('ALF_INTERNAL', `cannot write ${name}: the pack is already ${this.state}`, { name, state: this.state });
    }
  }

  /** Validates `name`, reserves it, makes sure its folders exist and are real folders; returns the absolute path. */
  async prepare(name: string): Promise<string> {
    const segments = validatePackPath(name);
    this.assertOpen(name);
    if (this.names.has(name)) throw new AlfError('ALF_INTERNAL', `pack file ${name} is written twice`, { name });
    this.names.add(name);
    for (let i = 1; i < segments.length; i++) await this.ensureDir(segments.slice(0, i).join('/'));
    return path.join(this.dir, ...segments);
  }

  private ensureDir(rel: string): Promise<void> {
    let p = this.dirChecks.get(rel);
    if (!p) {
      p = this.checkDir(rel);
      this.dirChecks.set(rel, p);
    }
    return p;
  }

  private async checkDir(rel: string): Promise<void> {
    const abs = path.join(this.dir, rel);
    const inspect = async (): Promise<boolean> => {
      let s;
      try {
        s = await this.io.lstat(abs);
      } catch (e) {
        if (isErrno(e, 'ENOENT')) return false;
        throw outputError(e, abs);
      }
      if (s.isSymbolicLink()) {
        throw refuse(abs, 'symlink', `refusing to write into ${abs}: it is a symbolic link (alf never follows links inside the pack)`);
      }
      if (!s.isDirectory()) throw refuse(abs, 'not_a_directory', `cannot write into ${abs}: it exists and is not a directory`);
      return true;
    };
    if (await inspect()) return;
    try {
      await this.io.mkdir(abs, { mode: 0o755 });
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw outputError(e, abs);
    }
    await inspect();
  }

  /** Opens a fresh temp file beside `abs` (retrying if a name is taken). */
  async openTemp(abs: string): Promise<{ fh: PackFileHandle; tmp: string }> {
    for (let attempt = 0; ; attempt++) {
      const tmp = tempPathFor(abs);
      try {
        const fh = await this.io.open(tmp, WRITE_FLAGS, 0o644);
        this.temps.add(tmp);
        return { fh, tmp };
      } catch (e) {
        if (isErrno(e, 'EEXIST', 'ELOOP') && attempt < 3) continue;
        throw outputError(e, abs);
      }
    }
  }

  /** fsync + close + rename into place, unless the pack was aborted meanwhile. */
  commit(fh: PackFileHandle, tmp: string, abs: string, entry: PackFileEntry | null): Promise<void> {
    return this.track(this.commitNow(fh, tmp, abs, entry));
  }

  private async commitNow(fh: PackFileHandle, tmp: string, abs: string, entry: PackFileEntry | null): Promise<void> {
    try {
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    await fh.close();
    if (entry !== null && this.state === 'aborted') {
      throw new AlfError('ALF_OUTPUT_UNWRITABLE', `${abs} not written: the run was interrupted`, { path: abs, reason: 'aborted' });
    }
    await this.io.rename(tmp, abs);
    this.temps.delete(tmp);
    if (entry !== null) this.entries.set(entry.path, entry);
  }

  /** Closes (ignoring errors) and removes a temp file we created. */
  async discard(fh: PackFileHandle | null, tmp: string | null): Promise<void> {
    if (fh) await fh.close().catch(() => undefined);
    if (tmp && this.temps.has(tmp)) {
      await this.io.unlink(tmp).catch(() => undefined);
      this.temps.delete(tmp);
    }
  }

  /** Records an output failure (not a usage bug) for the manifest's notes; the pack becomes `partial`. */
  noteFailure(name: string, e: AlfError): void {
    if (e.code !== 'ALF_OUTPUT_UNWRITABLE') return;
    this.failures.push(`${name}: not written (${String(e.context['errno'] ?? e.context['reason'] ?? e.code)})`);
  }

  /** Registers an operation that `finish`/`abort` wait for. */
  track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const done = (): void => {
      this.pending.delete(p);
    };
    p.then(done, done);
    return p;
  }

  writeFile(name: string, data: string | Uint8Array): Promise<PackFileEntry> {
    return this.track(this.writeWhole(name, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, false));
  }

  private async writeWhole(name: string, data: Uint8Array, isManifest: boolean): Promise<PackFileEntry> {
    let abs = isManifest ? path.join(this.dir, MANIFEST_NAME) : name;
    let fh: PackFileHandle | null = null;
    let tmp: string | null = null;
    try {
      if (!isManifest) abs = await this.prepare(name);
      ({ fh, tmp } = await this.openTemp(abs));
      const hash = createHash('sha256').update(data);
      await writeAll(fh, data);
      const entry: PackFileEntry = { path: name, size: data.length, sha256: hash.digest('hex') };
      const h = fh;
      fh = null; // commit closes it
      await this.commit(h, tmp, abs, isManifest ? null : entry);
      return entry;
    } catch (e) {
      await this.discard(fh, tmp);
      const err = outputError(e, abs);
      if (!isManifest) this.noteFailure(name, err);
      throw err;
    }
  }

  writeStream(name: string, opts?: { highWaterMark?: number }): PackFileStream {
    this.assertOpen(name);
    validatePackPath(name);
    const s = new PackFileStream(this, name, opts?.highWaterMark ?? 256 * 1024);
    this.streams.add(s);
    void s.settled.then(() => this.streams.delete(s));
    return s;
  }

  private async syncDir(abs: string): Promise<void> {
    let h: PackFileHandle | null = null;
    try {
      h = await this.io.open(abs, FS.O_RDONLY | FS.O_DIRECTORY);
      await h.sync();
    } catch (e) {
      // Directory fsync is best effort: some file systems and platforms refuse it.
      if (!isErrno(e, 'EINVAL', 'ENOTSUP', 'EBADF', 'EISDIR', 'EPERM')) throw outputError(e, abs);
    } finally {
      if (h) await h.close().catch(() => undefined);
    }
  }

  private async writeManifest(status: PackStatus, statusReason: string | null, info: PackRunInfo, final: boolean): Promise<PackManifest> {
    const manifest = buildManifest({
      status,
      statusReason,
      tool: this.opts.tool,
      argv: this.opts.argv,
      options: this.opts.options ?? {},
      inputs: info.inputs ?? [],
      databases: info.databases ?? [],
      counts: info.counts ?? {},
      notes: [...(info.notes ?? []), ...this.failures],
      files: this.files(),
      startedAt: this.startedAt,
      finishedAt: final ? this.now() : null,
    });
    if (final) for (const rel of this.dirChecks.keys()) await this.syncDir(path.join(this.dir, rel));
    if (final) await this.syncDir(this.dir);
    await this.writeWhole(MANIFEST_NAME, Buffer.from(serializeManifest(manifest), 'utf8'), true);
    await this.syncDir(this.dir);
    return manifest;
  }

  async writePlaceholder(): Promise<void> {
    await this.writeManifest(
      'interrupted',
      'the run has not finished, or ended without writing its final manifest',
      {},
      false,
    );
  }

  async finish(info: PackFinishInfo = {}): Promise<PackManifest> {
    this.assertOpen(MANIFEST_NAME);
    const open = [...this.streams].filter((s) => !s.writableEnded && !s.destroyed).map((s) => s.name);
    if (open.length > 0) {
      throw new AlfError('ALF_INTERNAL', `finish() called while ${open.join(', ')} ${open.length === 1 ? 'is' : 'are'} still being written; end the streams first`, { open });
    }
    this.state = 'finishing';
    await Promise.allSettled([...this.pending, ...[...this.streams].map((s) => s.settled)]);
    let status: PackStatus = info.status ?? 'complete';
    let reason = info.statusReason ?? null;
    if (this.failures.length > 0 && status === 'complete') {
      status = 'partial';
      reason = reason ?? `${this.failures.length} file(s) could not be written`;
    }
    try {
      const m = await this.writeManifest(status, reason, info, true);
      this.state = 'finished';
      return m;
    } catch (e) {
      this.state = 'open';
      throw e;
    }
  }

  abort(reason: string, info: PackRunInfo = {}): Promise<PackManifest | null> {
    if (this.state === 'finished') return Promise.resolve(null);
    if (this.abortResult) return this.abortResult;
    this.state = 'aborted';
    this.abortResult = (async () => {
      const streams = [...this.streams];
      for (const s of streams) s.destroy();
      await Promise.allSettled([...this.pending, ...streams.map((s) => s.settled)]);
      for (const tmp of [...this.temps]) await this.discard(null, tmp);
      return this.writeManifest('interrupted', reason, info, true);
    })();
    return this.abortResult;
  }
}

/** A file being streamed into the pack; see `PackWriter.writeStream`. */
export class PackFileStream extends Writable {
  readonly name: string;
  /** Size and SHA-256 once the stream has finished and the file is in place. */
  entry: PackFileEntry | null = null;
  /** Resolves when the stream is done either way (file in place, or temp removed). */
  readonly settled: Promise<void>;
  private readonly pack: PackWriterImpl;
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private fh: PackFileHandle | null = null;
  private tmp: string | null = null;
  private abs = '';
  private resolveSettled!: () => void;

  constructor(pack: PackWriterImpl, name: string, highWaterMark: number) {
    super({ highWaterMark });
    this.pack = pack;
    this.name = name;
    this.settled = new Promise<void>((r) => {
      this.resolveSettled = r;
    });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    (async () => {
      this.abs = await this.pack.prepare(this.name);
      const { fh, tmp } = await this.pack.openTemp(this.abs);
      this.fh = fh;
      this.tmp = tmp;
    })().then(
      () => callback(),
      (e: unknown) => {
        const err = outputError(e, this.abs || this.name);
        this.pack.noteFailure(this.name, err);
        callback(err);
      },
    );
  }

  private writeChunk(chunk: Uint8Array, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    writeAll(this.fh as PackFileHandle, chunk).then(
      () => callback(),
      (e: unknown) => {
        const err = outputError(e, this.abs);
        this.pack.noteFailure(this.name, err);
        callback(err);
      },
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeChunk(chunk, callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.writeChunk(chunks.length === 1 ? (chunks[0] as { chunk: Buffer }).chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const fh = this.fh as PackFileHandle;
    const tmp = this.tmp as string;
    const entry: PackFileEntry = { path: this.name, size: this.size, sha256: this.hash.digest('hex') };
    this.fh = null;
    this.pack.commit(fh, tmp, this.abs, entry).then(
      () => {
        this.tmp = null;
        this.entry = entry;
        callback();
      },
      (e: unknown) => {
        const err = outputError(e, this.abs);
        this.pack.noteFailure(this.name, err);
        callback(err);
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fh = this.fh;
    const tmp = this.tmp;
    this.fh = null;
    this.tmp = null;
    this.pack.discard(fh, tmp).then(
      () => {
        this.resolveSettled();
        callback(error);
      },
      () => {
        this.resolveSettled();
        callback(error);
      },
    );
  }
}
