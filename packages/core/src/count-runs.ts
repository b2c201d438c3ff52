/**
 * Sorted runs of exact per-client counts in files: the external GROUP BY behind `IpCounts` when
 * its tables pass their memory budget (one IP among 2^24 single-request clients: every
 * reference-period client is counted, and a hash table of 12.6M of them took 268 MB).
 *
 * A run is a dump of count tables, every key once, in key order: first the IPv4 section (u32
 * key, u32 inside, u32 reference: 12 bytes an entry), then the IPv6 section (four big-endian u32
 * words of key, inside, reference: 24 bytes). Keys of one run are unique; the same key may be in
 * several runs, and a merged read sums them (counts are sums, so runs merge in any order: the
 * same as ClickHouse's external aggregation, `max_bytes_before_external_group_by`).
 * Runs live in a scratch directory that their owner removes (alf's `$TMPDIR/alf-analyze-*`).
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** A run file and how many entries each section holds. */
export interface CountRun {
  readonly path: string;
  readonly n4: number;
  readonly n6: number;
}

/** u32 words per entry of each section. */
export const V4_WORDS = 3;
export const V6_WORDS = 6;
/** Entries per read or write buffer. */
const IO_ENTRIES = 1 << 14;

let seq = 0;

/** A fresh run file name in `dir`, unique across the process' threads. */
export function runPath(dir: string): string {
  return join(dir, `counts-${process.pid}-${threadId}-${seq++}.run`);
}

/** Bytes of a run file. */
export function runBytes(r: CountRun): number {
  return 4 * (r.n4 * V4_WORDS + r.n6 * V6_WORDS);
}

export function removeRun(r: CountRun): void {
  try {
    unlinkSync(r.path);
  } catch {
    // Already gone: the scratch directory is removed with everything in it anyway.
  }
}

/** Writes a run: every IPv4 entry (ascending keys), then every IPv6 entry. */
export class RunWriter {
  private readonly path: string;
  private readonly fd: number;
  private readonly buf = new Uint32Array(IO_ENTRIES * V6_WORDS);
  private at = 0;
  private n4 = 0;
  private n6 = 0;

  constructor(path: string) {
    this.path = path;
    this.fd = openSync(path, 'wx', 0o600);
  }

  private room(words: number): void {
    if (this.at + words > this.buf.length) this.drain();
  }

  private drain(): void {
    const bytes = new Uint8Array(this.buf.buffer, 0, 4 * this.at);
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    this.at = 0;
  }

  put4(key: number, inside: number, ref: number): void {
    if (this.n6 > 0) throw new Error('RunWriter: an IPv4 entry after the IPv6 section began');
    this.room(V4_WORDS);
    const b = this.buf;
    b[this.at] = key;
    b[this.at + 1] = inside;
    b[this.at + 2] = ref;
    this.at += V4_WORDS;
    this.n4++;
  }

  put6(k0: number, k1: number, k2: number, k3: number, inside: number, ref: number): void {
    this.room(V6_WORDS);
    const b = this.buf;
    b[this.at] = k0;
    b[this.at + 1] = k1;
    b[this.at + 2] = k2;
    b[this.at + 3] = k3;
    b[this.at + 4] = inside;
    b[this.at + 5] = ref;
    this.at += V6_WORDS;
    this.n6++;
  }

  /** Closes the file; on failure removes it and rethrows. */
  finish(): CountRun {
    try {
      this.drain();
    } catch (e) {
      this.abort();
      throw e;
    }
    closeSync(this.fd);
    return { path: this.path, n4: this.n4, n6: this.n6 };
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // closed already
    }
    removeRun({ path: this.path, n4: 0, n6: 0 });
  }
}

/**
 * Reads one section of a run in order, a buffer at a time. After `next()` returns true the
 * current entry is `words[at .. at + width)`.
 */
export class RunCursor {
  readonly width: number;
  private readonly fd: number;
  private readonly total: number;
  private pos: number;
  private left: number;
  readonly words: Uint32Array;
  at = -1;
  private end = 0;

  constructor(run: CountRun, section: 4 | 6, fromEntry = 0, entries?: number) {
    this.width = section === 4 ? V4_WORDS : V6_WORDS;
    const n = section === 4 ? run.n4 : run.n6;
    const base = section === 4 ? 0 : 4 * run.n4 * V4_WORDS;
    this.total = Math.min(n - fromEntry, entries ?? n);
    this.left = this.total;
    this.pos = base + 4 * this.width * fromEntry;
    this.words = new Uint32Array(Math.min(IO_ENTRIES, Math.max(1, this.total)) * this.width);
    this.fd = this.total > 0 ? openSync(run.path, 'r') : -1;
  }

  next(): boolean {
    this.at += this.width;
    if (this.at < this.end) return true;
    if (this.left <= 0) {
      this.close();
      return false;
    }
    const want = Math.min(this.left, this.words.length / this.width);
    const bytes = new Uint8Array(this.words.buffer, 0, 4 * want * this.width);
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(this.fd, bytes, got, bytes.length - got, this.pos + got);
      if (n === 0) throw new Error(`count run ${this.fd} ended early (${got} of ${bytes.length} bytes)`);
      got += n;
    }
    this.pos += got;
    this.left -= want;
    this.at = 0;
    this.end = want * this.width;
    return true;
  }

  close(): void {
    if (this.fd >= 0 && this.left >= 0) {
      closeSync(this.fd);
      this.left = -1;
    }
  }
}

/** Key order of two entries (1 or 4 key words) at `a` in `x` and `b` in `y`. */
function cmpKey(x: Uint32Array, a: number, y: Uint32Array, b: number, keyWords: number): number {
  for (let k = 0; k < keyWords; k++) {
    const d = x[a + k]! - y[b + k]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Merged read of one section of several runs: calls `visit(words, at, inside, ref)` once per
 * distinct key in key order, with the counts summed over the runs (the key is
 * `words[at .. at + keyWords)`, valid during the call only). The cursors sit in a binary heap by
 * their current key: log2(runs) comparisons a key.
 */
export function mergeRuns(runs: readonly CountRun[], section: 4 | 6, visit: (words: Uint32Array, at: number, inside: number, ref: number) => void): void {
  const kw = section === 4 ? 1 : 4;
  const heap = runs.map((r) => new RunCursor(r, section)).filter((c) => c.next());
  const less = (i: number, j: number): boolean => cmpKey(heap[i]!.words, heap[i]!.at, heap[j]!.words, heap[j]!.at, kw) < 0;
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) return;
      const m = l + 1 < heap.length && less(l + 1, l) ? l + 1 : l;
      if (!less(m, i)) return;
      const t = heap[i]!;
      heap[i] = heap[m]!;
      heap[m] = t;
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  try {
    const key = new Uint32Array(kw);
    while (heap.length > 0) {
      const top = heap[0]!;
      for (let k = 0; k < kw; k++) key[k] = top.words[top.at + k]!;
      let inside = 0;
      let ref = 0;
      // Every cursor on this key is at the top in turn (keys are unique within a run).
      while (heap.length > 0 && cmpKey(heap[0]!.words, heap[0]!.at, key, 0, kw) === 0) {
        const c = heap[0]!;
        inside += c.words[c.at + kw]!;
        ref += c.words[c.at + kw + 1]!;
        if (!c.next()) {
          heap[0] = heap[heap.length - 1]!;
          heap.pop();
        }
        if (heap.length > 0) down(0);
      }
      visit(key, 0, inside, ref);
    }
  } finally {
    for (const c of heap) c.close();
  }
}

/** Merges runs into one new run in `dir` (the inputs stay; the caller removes the ones it owns). */
export function compactRuns(runs: readonly CountRun[], dir: string): CountRun {
  const out = new RunWriter(runPath(dir));
  try {
    mergeRuns(runs, 4, (w, at, a, b) => out.put4(w[at]!, a, b));
    mergeRuns(runs, 6, (w, at, a, b) => out.put6(w[at]!, w[at + 1]!, w[at + 2]!, w[at + 3]!, a, b));
  } catch (e) {
    out.abort();
    throw e;
  }
  return out.finish();
}

/** Entries between two index marks of `RunIndex`. */
const BLOCK = 256;

/**
 * Point lookups in one run: the key of every 256th entry of each section in memory (a 12.6M-key
 * run: 200 KB), then one read of at most 256 entries per lookup.
 */
/** Closes the file of a RunIndex dropped without close(). */
const openIndexFiles = new FinalizationRegistry<{ fd: number }>((h) => {
  if (h.fd >= 0) closeSync(h.fd);
});

export class RunIndex {
  private readonly run: CountRun;
  private readonly file = { fd: -1 };
  private readonly marks4: Uint32Array;
  private readonly marks6: Uint32Array;
  private readonly block = new Uint32Array(BLOCK * V6_WORDS);

  constructor(run: CountRun) {
    this.run = run;
    this.marks4 = new Uint32Array(Math.ceil(run.n4 / BLOCK));
    this.marks6 = new Uint32Array(4 * Math.ceil(run.n6 / BLOCK));
    let i = 0;
    const c4 = new RunCursor(run, 4);
    while (c4.next()) {
      if (i % BLOCK === 0) this.marks4[i / BLOCK] = c4.words[c4.at]!;
      i++;
    }
    i = 0;
    const c6 = new RunCursor(run, 6);
    while (c6.next()) {
      if (i % BLOCK === 0) for (let k = 0; k < 4; k++) this.marks6[4 * (i / BLOCK) + k] = c6.words[c6.at + k]!;
      i++;
    }
  }

  /** Inside and reference counts of a key (`key` holds 1 or 4 words); [0, 0] when absent. */
  get(section: 4 | 6, key: Uint32Array, out: [number, number]): [number, number] {
    out[0] = 0;
    out[1] = 0;
    const keyWords = section === 4 ? 1 : 4;
    const marks = section === 4 ? this.marks4 : this.marks6;
    const blocks = marks.length / keyWords;
    // The last block whose first key is <= key.
    let lo = 0;
    let hi = blocks - 1;
    if (hi < 0 || cmpKey(marks, 0, key, 0, keyWords) > 0) return out;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cmpKey(marks, mid * keyWords, key, 0, keyWords) <= 0) lo = mid;
      else hi = mid - 1;
    }
    const width = section === 4 ? V4_WORDS : V6_WORDS;
    const n = section === 4 ? this.run.n4 : this.run.n6;
    const count = Math.min(BLOCK, n - lo * BLOCK);
    const base = (section === 4 ? 0 : 4 * this.run.n4 * V4_WORDS) + 4 * width * lo * BLOCK;
    if (this.file.fd < 0) {
      this.file.fd = openSync(this.run.path, 'r');
      openIndexFiles.register(this, this.file, this);
    }
    const bytes = new Uint8Array(this.block.buffer, 0, 4 * width * count);
    let got = 0;
    while (got < bytes.length) {
      const r = readSync(this.file.fd, bytes, got, bytes.length - got, base + got);
      if (r === 0) throw new Error(`count run ${this.run.path} ended early`);
      got += r;
    }
    let a = 0;
    let b = count - 1;
    while (a <= b) {
      const mid = (a + b) >> 1;
      const d = cmpKey(this.block, mid * width, key, 0, keyWords);
      if (d === 0) {
        out[0] = this.block[mid * width + keyWords]!;
        out[1] = this.block[mid * width + keyWords + 1]!;
        return out;
      }
      if (d < 0) a = mid + 1;
      else b = mid - 1;
    }
    return out;
  }

  close(): void {
    if (this.file.fd >= 0) {
      closeSync(this.file.fd);
      openIndexFiles.unregister(this);
    }
    this.file.fd = -1;
  }
}
