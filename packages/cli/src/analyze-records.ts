/**
 * The records pass of `alf analyze`: after the analysis has finished (burst
 * intervals, split windows and attacker sets are known only then), the inputs
 * are read once more in canonical order to
 * - stream `records.arrow` (`--records bursts`: the records of the burst
 *   windows; `all`: every record within --from/--to; `none`: no file), each
 *   row enriched through the geo lookup (memoised per IP) and given its
 *   burst_id, with backpressure, never holding the records;
 * - pick, per burst, which original lines to show in `evidence/burst-<id>.log`
 *   (see `EVIDENCE_SAMPLE`), by (time, input, line): independent of input order.
 * Then each input holding a picked line is decompressed and framed once more
 * (no parsing) and exactly those lines are cut out by byte offset.
 *
 * A record belongs to a burst when its time is in the burst's window (pass-1
 * window, whole seconds, last second included). When a window was split into
 * concurrent attacks it gets the burst whose attacker set holds its IP, else
 * the first burst (lowest id) of that window.
 */
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { AnalysisResult, Burst } from '@alf/core';
import type { GeoLookup } from '@alf/geo';
import { decodeInput, frameLines, newDecodeReport } from '@alf/parser';
import type { ParsedChunk, RecordBatch } from '@alf/parser';
import {
  EVIDENCE_LINE_MAX_BYTES, RECORDS_ARROW_FILE, createRecordsArrowEncoder, evidenceHeader, evidenceLine,
} from '@alf/report';
import type { PackFileStream, PackWriter, RecordEnrichment } from '@alf/report';
import { open, rm } from 'node:fs/promises';
import { filterByTime } from './analyze-filter.ts';
import { concatBatches, readPieces } from './analyze-pieces.ts';
import type { RecordsMode } from './analyze-options.ts';


/** How many lines each evidence file shows. */
export const EVIDENCE_SAMPLE: { readonly first: number; readonly spread: number; readonly last: number; readonly attackers: number; readonly perAttacker: number } = {
  first: 20, spread: 20, last: 20, attackers: 10, perAttacker: 5,
};

/** Pack path of a burst's evidence lines. */
export const evidencePath = (burstId: number): string => `evidence/burst-${burstId}.log`;

/** One picked line: where it is, and its sort key (time, input, line). */
export interface Pick {
  readonly ts: number;
  readonly input: number;
  readonly line: number;
  readonly byteOffset: number;
}

const cmpPick = (a: Pick, b: Pick): number => a.ts - b.ts || a.input - b.input || a.line - b.line;
const cmpKey = (ts: number, input: number, line: number, b: Pick): number => ts - b.ts || input - b.input || line - b.line;

function swapAt(a: Float64Array, i: number, j: number): void {
  const x = a[i]!;
  a[i] = a[j]!;
  a[j] = x;
}

/**
 * Keeps the `cap` smallest picks under (time, input, line) (`dir` 1) or its reverse (`dir` -1):
 * a binary heap on typed arrays whose root is the worst pick kept, the bar a new key must beat.
 * No object per offered record and no array insertion: in time order every record is the newest
 * yet, so the `last` sample replaces its root for each one (~950,000 a burst on the 5M-line
 * bench: a sift of ~4 levels instead of an insertion into a sorted array and a Pick each).
 */
class Smallest {
  private readonly ts: Float64Array;
  private readonly input: Float64Array;
  private readonly line: Float64Array;
  private readonly offset: Float64Array;
  private n = 0;
  constructor(private readonly cap: number, private readonly dir: 1 | -1) {
    this.ts = new Float64Array(cap);
    this.input = new Float64Array(cap);
    this.line = new Float64Array(cap);
    this.offset = new Float64Array(cap);
  }
  /** > 0 when the pick at i is worse (kept later) than the one at j. */
  private cmpAt(i: number, j: number): number {
    return this.dir * (this.ts[i]! - this.ts[j]! || this.input[i]! - this.input[j]! || this.line[i]! - this.line[j]!);
  }
  private swap(i: number, j: number): void {
    swapAt(this.ts, i, j);
    swapAt(this.input, i, j);
    swapAt(this.line, i, j);
    swapAt(this.offset, i, j);
  }
  private set(i: number, ts: number, input: number, line: number, byteOffset: number): void {
    this.ts[i] = ts;
    this.input[i] = input;
    this.line[i] = line;
    this.offset[i] = byteOffset;
  }
  /** Would a pick with this key be kept now? */
  wants(ts: number, input: number, line: number): boolean {
    return this.n < this.cap || this.dir * (ts - this.ts[0]! || input - this.input[0]! || line - this.line[0]!) < 0;
  }
  addKey(ts: number, input: number, line: number, byteOffset: number): void {
    if (this.cap <= 0 || !this.wants(ts, input, line)) return;
    if (this.n < this.cap) {
      let i = this.n++;
      this.set(i, ts, input, line, byteOffset);
      while (i > 0) {
        const up = (i - 1) >> 1;
        if (this.cmpAt(i, up) <= 0) break;
        this.swap(i, up);
        i = up;
      }
      return;
    }
    this.set(0, ts, input, line, byteOffset);
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.n) break;
      const r = l + 1;
      const worse = r < this.n && this.cmpAt(r, l) > 0 ? r : l;
      if (this.cmpAt(worse, i) <= 0) break;
      this.swap(i, worse);
      i = worse;
    }
  }
  add(p: Pick): void {
    this.addKey(p.ts, p.input, p.line, p.byteOffset);
  }
  /** The kept picks, sorted (smallest first under this order). */
  get items(): Pick[] {
    const order = Array.from({ length: this.n }, (_, i) => i).sort((a, b) => this.cmpAt(a, b));
    return order.map((i) => ({ ts: this.ts[i]!, input: this.input[i]!, line: this.line[i]!, byteOffset: this.offset[i]! }));
  }
}

/** A BurstSample's content, structured-clone friendly (from a worker). */
export interface SampleParts {
  readonly records: number;
  readonly first: readonly Pick[];
  readonly last: readonly Pick[];
  readonly slots: readonly (Pick | null)[];
  readonly attackers: readonly (readonly [string, readonly Pick[]])[];
}

/** The evidence sample of one burst, filled row by row. */
export class BurstSample {
  records: number = 0;
  private readonly first: Smallest = new Smallest(EVIDENCE_SAMPLE.first, 1);
  private readonly last: Smallest = new Smallest(EVIDENCE_SAMPLE.last, -1);
  private readonly slots: (Pick | null)[] = new Array<Pick | null>(EVIDENCE_SAMPLE.spread).fill(null);
  private readonly attackers: Map<string, Smallest>;
  constructor(readonly burst: Burst, private readonly topAttackers: readonly { readonly ip: string; readonly requests: number }[]) {
    this.attackers = new Map(topAttackers.map((a) => [a.ip, new Smallest(EVIDENCE_SAMPLE.perAttacker, 1)]));
  }
  /** One record of the burst. */
  add(ts: number, input: number, line: number, byteOffset: number, ip: string | null): void {
    this.records++;
    const { startMs, endMs } = this.burst;
    const span = endMs + 1000 - startMs;
    const slot = Math.min(EVIDENCE_SAMPLE.spread - 1, Math.max(0, Math.floor(((ts - startMs) / span) * EVIDENCE_SAMPLE.spread)));
    const held = this.slots[slot];
    if (!held || cmpKey(ts, input, line, held) < 0) this.slots[slot] = { ts, input, line, byteOffset };
    this.first.addKey(ts, input, line, byteOffset);
    this.last.addKey(ts, input, line, byteOffset);
    if (ip !== null && this.attackers.size > 0) this.attackers.get(ip)?.addKey(ts, input, line, byteOffset);
  }
  /** What this sample holds, to be merged into another sample of the same burst (see merge). */
  parts(): SampleParts {
    return {
      records: this.records, first: this.first.items, last: this.last.items, slots: this.slots,
      attackers: [...this.attackers].map(([ip, s]) => [ip, s.items] as const),
    };
  }
  /** Folds in the parts of a sample of other records of the same burst: exact (each list keeps the smallest under its order). */
  merge(p: SampleParts): void {
    this.records += p.records;
    for (const x of p.first) this.first.add(x);
    for (const x of p.last) this.last.add(x);
    for (const [i, x] of p.slots.entries()) {
      const held = this.slots[i];
      if (x !== null && (!held || cmpPick(x, held) < 0)) this.slots[i] = x;
    }
    for (const [ip, picks] of p.attackers) {
      const s = this.attackers.get(ip);
      if (s) for (const x of picks) s.add(x);
    }
  }
  sections(): { title: string; picks: readonly Pick[] }[] {
    const s = EVIDENCE_SAMPLE;
    return [
      { title: `the first ${s.first} lines of the burst`, picks: this.first.items },
      { title: `${s.spread} lines spread over the burst (the first line of each of ${s.spread} equal slices of its interval; empty slices skipped)`, picks: this.slots.filter((p): p is Pick => p !== null) },
      { title: `the last ${s.last} lines of the burst`, picks: [...this.last.items].reverse() },
      ...this.topAttackers.map((a) => ({
        title: `the first ${s.perAttacker} lines of attacker ${a.ip} (${a.requests} requests in attackers.csv)`, picks: this.attackers.get(a.ip)!.items,
      })),
    ];
  }
}

/** A line cut from an input: its first bytes and its full length in bytes. */
interface CutLine {
  readonly bytes: Uint8Array;
  readonly length: number;
}

interface WindowBursts {
  readonly startMs: number;
  /** Exclusive. */
  readonly endMs: number;
  readonly firstBurst: number;
  /** Split window: attacker IP → its burst. */
  readonly byIp: ReadonlyMap<string, number> | null;
}

/** What BurstIndex needs of the result (the attackers of split windows suffice). */
export interface BurstIndexInput {
  readonly bursts: AnalysisResult['bursts'];
  readonly windows: AnalysisResult['windows'];
  readonly attackers: readonly { readonly burstId: number; readonly ip: string }[];
}

/** Finds the burst of a record from its time and IP. */
export class BurstIndex {
  readonly #windows: WindowBursts[];
  constructor(result: BurstIndexInput) {
    const byWindow = new Map<number, Burst[]>();
    for (const b of result.bursts) byWindow.set(b.windowIndex, [...(byWindow.get(b.windowIndex) ?? []), b]);
    const windows: WindowBursts[] = [];
    for (const [wi, bursts] of byWindow) {
      const w = result.windows[wi];
      const ids = bursts.map((b) => b.burstId).sort((a, b) => a - b);
      const startMs = w ? w.startMs : Math.min(...bursts.map((b) => b.startMs));
      const endMs = (w ? w.endMs : Math.max(...bursts.map((b) => b.endMs))) + 1000;
      let byIp: Map<string, number> | null = null;
      if (bursts.length > 1) {
        byIp = new Map();
        for (const a of result.attackers) if (ids.includes(a.burstId)) byIp.set(a.ip, a.burstId);
      }
      windows.push({ startMs, endMs, firstBurst: ids[0]!, byIp });
    }
    this.#windows = windows.sort((a, b) => a.startMs - b.startMs);
  }
  get empty(): boolean {
    return this.#windows.length === 0;
  }
  /** Burst id, or -1 outside every burst window. */
  burstOf(ts: number, ip: string | null): number {
    const ws = this.#windows;
    let lo = 0;
    let hi = ws.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const w = ws[mid]!;
      if (ts < w.startMs) hi = mid - 1;
      else if (ts >= w.endMs) lo = mid + 1;
      else return (ip !== null ? w.byIp?.get(ip) : undefined) ?? w.firstBurst;
    }
    return -1;
  }
}

export interface RecordsPassOptions {
  readonly mode: RecordsMode;
  readonly pack: PackWriter;
  readonly result: AnalysisResult;
  /** Names of the inputs in the pack, in canonical order (the order of `read`). */
  readonly inputNames: readonly string[];
  readonly geo: GeoLookup;
  readonly fromMs: number | null;
  readonly toMs: number | null;
  readonly maxLineBytes: number;
  /** Re-reads and parses input k, calling `onChunk` for each chunk in order (awaited). */
  read(k: number, onChunk: (chunk: ParsedChunk) => Promise<void>): Promise<void>;
  /**
   * Instead of `read`: runs the records pass over every input in worker tasks
   * (`job`), calling `consume` with each input's task outputs, in canonical order.
   */
  readonly parallel?: ((job: RecordsJob, consume: (k: number, outputs: readonly RecordsTaskOutput[]) => Promise<void>) => Promise<void>) | undefined;
  /** The stored bytes of input k (plain or gzip), read once. */
  openRaw(k: number): Promise<AsyncIterable<Uint8Array>>;
  /** The path of input k when it is a plain file (its lines are then read at their offsets, not framed from the start). */
  plainPath?(k: number): string | null;
}

export interface RecordsPassResult {
  /** `records.arrow`, or null with `--records none`. */
  readonly recordsFile: string | null;
  readonly recordsRows: number;
  /** Records per burst id (rows of records.arrow with that burst_id). */
  readonly rowsByBurst: ReadonlyMap<number, number>;
  /** Burst id → its evidence file. */
  readonly evidenceFiles: ReadonlyMap<number, string>;
}

async function write(stream: PackFileStream, bytes: Uint8Array): Promise<void> {
  if (bytes.length === 0) return;
  if (stream.errored) throw stream.errored;
  if (stream.write(bytes)) return;
  const ac = new AbortController(); // removes the losing listener
  await Promise.race([
    once(stream, 'drain', { signal: ac.signal }),
    once(stream, 'close', { signal: ac.signal }).then(() => {
      throw stream.errored ?? new Error(`${stream.name} was closed`);
    }),
  ]).finally(() => ac.abort());
}

/**
 * Enrichment per IP through the geo lookup, memoised (the memo is dropped when it grows past `cap`).
 * Small: the geo lookup has its own per-address and per-network memos; this one only saves the
 * object of an IP repeated within a few batches. (At 200,000 entries it held ~40 MB of the
 * main thread's heap on a burst of 10M distinct IPs.)
 */
function enricher(geo: GeoLookup, cap = 8192): (ip: string, kind: number) => RecordEnrichment | null {
  let memo = new Map<string, RecordEnrichment | null>();
  return (ip, kind) => {
    let e = memo.get(ip);
    if (e !== undefined) return e;
    e = null;
    if (kind !== 0 || /^[0-9.]+$|:/.test(ip)) {
      try {
        const g = geo.lookup(ip);
        e = { prefix: g.aggPrefix, asn: g.asn, country: g.country };
      } catch {
        e = null;
      }
    }
    if (memo.size >= cap) memo = new Map();
    memo.set(ip, e);
    return e;
  };
}

/** What a records-pass task needs to know of the analysis (structured-clone friendly). */
export interface RecordsJob extends BurstIndexInput {
  /** Burst id → its attackers with the most requests (evidence sample). */
  readonly top: readonly (readonly [number, readonly { readonly ip: string; readonly requests: number }[]])[];
  /** `--records all`: every record is a row, not only those of burst windows. */
  readonly all: boolean;
  /** Rows wanted at all (records.arrow written). */
  readonly rows: boolean;
}

/** The job of a records pass over `result`. */
export function recordsJob(result: AnalysisResult, mode: RecordsMode): RecordsJob {
  const split = new Set<number>();
  const perWindow = new Map<number, number>();
  for (const b of result.bursts) perWindow.set(b.windowIndex, (perWindow.get(b.windowIndex) ?? 0) + 1);
  for (const b of result.bursts) if (perWindow.get(b.windowIndex)! > 1) split.add(b.burstId);
  return {
    bursts: result.bursts,
    windows: result.windows,
    attackers: result.attackers.filter((a) => split.has(a.burstId)).map((a) => ({ burstId: a.burstId, ip: a.ip })),
    top: result.bursts.map((b) => [b.burstId, result.attackers.filter((a) => a.burstId === b.burstId)
      .sort((x, y) => y.requests - x.requests || (x.ip < y.ip ? -1 : x.ip > y.ip ? 1 : 0))
      .slice(0, EVIDENCE_SAMPLE.attackers).map((a) => ({ ip: a.ip, requests: a.requests }))] as const),
    all: mode === 'all',
    rows: mode !== 'none',
  };
}

/** The per-burst state a records pass folds rows into (the whole pass, or one task of it). */
export class RecordsFold {
  readonly index: BurstIndex;
  readonly rowsByBurst: Map<number, number>;
  readonly samples: Map<number, BurstSample> = new Map();
  constructor(readonly job: RecordsJob) {
    this.index = new BurstIndex(job);
    this.rowsByBurst = new Map(job.bursts.map((b) => [b.burstId, 0]));
    const top = new Map(job.top);
    for (const b of job.bursts) this.samples.set(b.burstId, new BurstSample(b, top.get(b.burstId) ?? []));
  }
  /**
   * Counts and samples the burst rows of a batch of input k; returns the rows
   * that go into records.arrow. `lineBase`/`byteBase` are added to the picks' line numbers and byte offsets.
   */
  select(batch: RecordBatch, k: number, lineBase = 0, byteBase = 0): { rows: Int32Array; burstIds: Int32Array; count: number } {
    const n = batch.length;
    const rows = new Int32Array(n);
    const burstIds = new Int32Array(n);
    let count = 0;
    const { index, rowsByBurst, samples } = this;
    const all = this.job.all;
    for (let i = 0; i < n; i++) {
      const ts = batch.ts[i]!;
      const ipId = batch.ip.ids[i]!;
      const ip = ipId < 0 ? null : batch.ip.values[ipId]!;
      const burst = Number.isFinite(ts) ? index.burstOf(ts, ip) : -1;
      if (burst >= 0) {
        rowsByBurst.set(burst, (rowsByBurst.get(burst) ?? 0) + 1);
        samples.get(burst)?.add(ts, k, batch.line[i]! + lineBase, batch.byteOffset[i]! + byteBase, ip);
      }
      if (all || burst >= 0) {
        rows[count] = i;
        burstIds[count] = burst;
        count++;
      }
    }
    return { rows, burstIds, count };
  }
  /** What a task folded, to be merged into the pass's fold. */
  parts(): RecordsFoldParts {
    return { rowsByBurst: [...this.rowsByBurst], samples: [...this.samples].map(([id, s]) => [id, s.parts()] as const) };
  }
  merge(p: RecordsFoldParts): void {
    for (const [id, n] of p.rowsByBurst) this.rowsByBurst.set(id, (this.rowsByBurst.get(id) ?? 0) + n);
    for (const [id, parts] of p.samples) this.samples.get(id)?.merge(parts);
  }
}

export interface RecordsFoldParts {
  readonly rowsByBurst: readonly (readonly [number, number])[];
  readonly samples: readonly (readonly [number, SampleParts])[];
}

/** One records-pass task's output: its fold, and its rows (spilled pieces) for records.arrow. */
export interface RecordsTaskOutput {
  /** What the task folded; null when its pieces are not selected yet (pass 2 spilled every row of the burst windows). */
  readonly fold: RecordsFoldParts | null;
  /** Spill file of RecordPiece (analyze-pieces.ts), null without rows. */
  readonly spillFile: string | null;
}

/** Bytes of records.arrow that may wait to be written while the next batches are encoded. */
const RECORDS_WRITE_AHEAD_BYTES = 8 * 1024 * 1024;

/** Runs the records pass; see the module comment. */
export async function writeRecordsAndEvidence(o: RecordsPassOptions): Promise<RecordsPassResult> {
  const job = recordsJob(o.result, o.mode);
  const fold = new RecordsFold(job);
  const { index, rowsByBurst, samples } = fold;
  const wantRecords = o.mode !== 'none';
  // A record batch is ~2 MB: with the stream's default 256 KiB mark every batch waited for its write to reach the
  // file before the next was encoded (~0.7 s of the 5M-line corpus's records pass idle); 8 MiB lets a few be in flight.
  const stream = wantRecords ? o.pack.writeStream(RECORDS_ARROW_FILE, { highWaterMark: RECORDS_WRITE_AHEAD_BYTES }) : null;
  const encoder = wantRecords
    ? createRecordsArrowEncoder(new Map([['alf.records', o.mode], ['alf.inputs', JSON.stringify(o.inputNames)]]))
    : null;
  try {
    if (stream) stream.on('error', () => undefined); // surfaced by write()/finished()
    const needRead = o.mode === 'all' || !index.empty;
    if (needRead) {
      const enrich = enricher(o.geo);
      if (o.parallel) {
        // Pieces of one parser batch (group) are joined before encoding: one arrow batch per parser batch, as on one thread.
        // Pieces not selected yet (rows of the pass-1 windows) are selected here, on the joined batch.
        let pending: { group: number; batch: RecordBatch; burstIds: Int32Array; selected: boolean } | null = null;
        let pendingInput = -1;
        const flush = async (): Promise<void> => {
          const p = pending;
          pending = null;
          if (!p) return;
          const n = p.batch.length;
          let rows: Int32Array;
          let burstIds = p.burstIds;
          let count = n;
          if (p.selected) {
            rows = new Int32Array(n);
            for (let i = 0; i < n; i++) rows[i] = i;
          } else {
            ({ rows, burstIds, count } = fold.select(p.batch, pendingInput));
          }
          if (encoder && stream && count > 0) {
            await write(stream, encoder.encode(p.batch, { rows, count, burstIds, inputName: o.inputNames[pendingInput]!, enrich }));
          }
        };
        await o.parallel(job, async (k, outputs) => {
          for (const out of outputs) {
            if (out.fold) fold.merge(out.fold);
            const selected = out.fold !== null;
            if (out.spillFile === null) continue;
            for await (const piece of readPieces(out.spillFile)) {
              if (pending && pending.group === piece.group && pending.selected === selected) {
                const ids = new Int32Array(pending.burstIds.length + piece.burstIds.length);
                ids.set(pending.burstIds, 0);
                ids.set(piece.burstIds, pending.burstIds.length);
                pending = { group: piece.group, batch: concatBatches(pending.batch, piece.batch), burstIds: ids, selected };
                continue;
              }
              await flush();
              pending = { group: piece.group, batch: piece.batch, burstIds: piece.burstIds, selected };
              pendingInput = k;
            }
            await rm(out.spillFile, { force: true });
          }
          await flush();
        });
      } else {
        for (let k = 0; k < o.inputNames.length; k++) {
          const inputName = o.inputNames[k]!;
          await o.read(k, async (chunk) => {
            const batch: RecordBatch = filterByTime(chunk.records, o.fromMs, o.toMs).batch;
            if (batch.length === 0) return;
            const { rows, burstIds, count } = fold.select(batch, k);
            if (encoder && stream) await write(stream, encoder.encode(batch, { rows, count, burstIds, inputName, enrich }));
          });
        }
      }
    }
    if (encoder && stream) {
      await write(stream, encoder.finish());
      stream.end();
      await finished(stream);
    }
  } catch (e) {
    stream?.destroy();
    throw e;
  }

  // Cut the picked lines out of each input, then write one file per burst.
  const picked = new Map<number, Pick[]>();
  for (const s of samples.values()) {
    for (const sec of s.sections()) for (const p of sec.picks) picked.set(p.input, [...(picked.get(p.input) ?? []), p]);
  }
  const raw = new Map<string, CutLine>();
  const keyOf = (p: Pick): string => `${p.input}:${p.byteOffset}`;
  for (const [k, picks] of [...picked].sort((a, b) => a[0] - b[0])) {
    const offsets = [...new Set(picks.map((p) => p.byteOffset))].sort((a, b) => a - b);
    const plain = o.plainPath?.(k) ?? null;
    const lines = plain !== null ? await cutLinesAt(plain, offsets) : await cutLines(await o.openRaw(k), offsets, o.maxLineBytes);
    for (const [offset, cut] of lines) raw.set(`${k}:${offset}`, cut);
  }
  const evidenceFiles = new Map<number, string>();
  for (const b of [...o.result.bursts].sort((x, y) => x.burstId - y.burstId)) {
    const s = samples.get(b.burstId)!;
    const sections = s.sections();
    const shown = new Set(sections.flatMap((sec) => sec.picks.map(keyOf))).size;
    const text: string[] = [evidenceHeader({
      burstId: b.burstId, verdict: b.verdict, startMs: b.startMs, endMs: b.endMs, records: s.records, shown,
      sample: [
        `the first ${EVIDENCE_SAMPLE.first} and the last ${EVIDENCE_SAMPLE.last} lines, ordered by time, then input, then line;`,
        `${EVIDENCE_SAMPLE.spread} lines spread over the interval (the first of each of ${EVIDENCE_SAMPLE.spread} equal time slices);`,
        `the first ${EVIDENCE_SAMPLE.perAttacker} lines of each of the ${EVIDENCE_SAMPLE.attackers} attackers with the most requests (attackers.csv).`,
        'A record belongs to the burst when its time is in the burst window; in a window split into concurrent attacks, by its IP.',
      ],
    })];
    for (const sec of sections) {
      text.push(`## ${sec.title}: ${sec.picks.length} line${sec.picks.length === 1 ? '' : 's'}`);
      for (const p of sec.picks) {
        const cut = raw.get(keyOf(p));
        const cite = { input: o.inputNames[p.input] ?? String(p.input), line: p.line, byteOffset: p.byteOffset };
        text.push(cut ? evidenceLine(cite, cut.bytes, EVIDENCE_LINE_MAX_BYTES, cut.length) : `# ${evidenceLine(cite, new Uint8Array(0))}(line not found when the input was read again: it changed)`);
      }
      text.push('');
    }
    const name = evidencePath(b.burstId);
    await o.pack.writeFile(name, text.join('\n'));
    evidenceFiles.set(b.burstId, name);
  }
  return { recordsFile: wantRecords ? RECORDS_ARROW_FILE : null, recordsRows: encoder?.rows ?? 0, rowsByBurst, evidenceFiles };
}

/**
 * Decompresses and frames one input (as the parser does) and returns the
 * lines starting at `offsets` (sorted, decompressed byte offsets), without
 * their '\n': at most EVIDENCE_LINE_MAX_BYTES of each, with its full length.
 */
async function cutLines(src: AsyncIterable<Uint8Array>, offsets: readonly number[], maxLineBytes: number): Promise<Map<number, CutLine>> {
  const out = new Map<number, CutLine>();
  if (offsets.length === 0) return out;
  let next = 0;
  const report = newDecodeReport();
  for await (const chunk of frameLines(decodeInput(src, report, {}), { maxLineBytes })) {
    if (chunk.kind !== 'lines') continue;
    const end = chunk.baseOffset + chunk.bytes.length;
    while (next < offsets.length && offsets[next]! < chunk.baseOffset) next++;
    while (next < offsets.length && offsets[next]! < end) {
      const start = offsets[next]! - chunk.baseOffset;
      let stop = chunk.bytes.indexOf(10, start);
      if (stop < 0) stop = chunk.bytes.length;
      out.set(offsets[next]!, { bytes: chunk.bytes.slice(start, Math.min(stop, start + EVIDENCE_LINE_MAX_BYTES)), length: stop - start });
      next++;
    }
    if (next >= offsets.length) break;
  }
  return out;
}

/**
 * Like cutLines for a plain file: each line read at its offset (decompressed
 * offsets are file offsets), up to its '\n' or the end of the file.
 */
async function cutLinesAt(path: string, offsets: readonly number[]): Promise<Map<number, CutLine>> {
  const out = new Map<number, CutLine>();
  if (offsets.length === 0) return out;
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(64 * 1024);
    for (const offset of offsets) {
      let head: Uint8Array | null = null;
      let length = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset + length);
        const view = buf.subarray(0, bytesRead);
        const nl = view.indexOf(10);
        const take = nl >= 0 ? nl : bytesRead;
        if (head === null) head = view.slice(0, Math.min(take, EVIDENCE_LINE_MAX_BYTES));
        length += take;
        if (nl >= 0 || bytesRead < buf.length) break;
      }
      out.set(offset, { bytes: head ?? new Uint8Array(0), length });
    }
  } finally {
    await fh.close();
  }
  return out;
}
