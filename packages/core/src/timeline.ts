import type { RecordBatch } from '@alf/parser';
import { hashString } from './hash.ts';
import { HLL_REGISTERS, hllAdd, hllEstimate, hllMerge } from './hll.ts';

/** Seconds per page: the timeline is a sparse map of dense pages, so gaps cost nothing. */
export const PAGE_S = 4096;

interface TimelinePage {
  /** Per second: requests, s2xx, s3xx, s4xx, s5xx (5 interleaved Uint32 columns). */
  readonly counts: Uint32Array;
  readonly bytes: Float64Array;
}

const COLS = 5;

/** A timeline as plain data (structured-clone and postMessage safe; typed-array buffers transferable). */
export interface TimelineSnapshot {
  readonly pages: readonly (readonly [number, Uint32Array, Float64Array])[];
  readonly ipSketch: readonly (readonly [number, Uint8Array])[];
  readonly minMs: number;
  readonly maxMs: number;
  readonly records: number;
  readonly recordsWithoutTime: number;
}

/**
 * Exact per-second counts over the whole span (requests, status classes, bytes)
 * plus a HyperLogLog of client IPs per minute. Addition is commutative and
 * merge is exact, so the state does not depend on input order or on how the
 * batches were split among workers. 28 bytes per second of span that has data.
 */
export class Timeline {
  readonly pages: Map<number, TimelinePage> = new Map();
  /** minute (epoch s / 60) → HLL registers. */
  readonly ipSketch: Map<number, Uint8Array> = new Map();
  minMs: number = Infinity;
  maxMs: number = -Infinity;
  records: number = 0;
  recordsWithoutTime: number = 0;

  private page(p: number): TimelinePage {
    let page = this.pages.get(p);
    if (page === undefined) {
      page = { counts: new Uint32Array(PAGE_S * COLS), bytes: new Float64Array(PAGE_S) };
      this.pages.set(p, page);
    }
    return page;
  }

  private sketch(minute: number): Uint8Array {
    let regs = this.ipSketch.get(minute);
    if (regs === undefined) {
      regs = new Uint8Array(HLL_REGISTERS);
      this.ipSketch.set(minute, regs);
    }
    return regs;
  }

  add(batch: RecordBatch): void {
    const { ts, status, bytesSent, ip } = batch;
    const ipHash = new Int32Array(ip.values.length).fill(0);
    const ipHashed = new Uint8Array(ip.values.length);
    let lastP = NaN;
    let page: TimelinePage | undefined;
    let lastMinute = NaN;
    let regs: Uint8Array | undefined;
    for (let i = 0; i < batch.length; i++) {
      const t = ts[i]!;
      if (!Number.isFinite(t)) {
        this.recordsWithoutTime++;
        continue;
      }
      this.records++;
      if (t < this.minMs) this.minMs = t;
      if (t > this.maxMs) this.maxMs = t;
      const sec = Math.floor(t / 1000);
      const p = Math.floor(sec / PAGE_S);
      if (p !== lastP) {
        page = this.page(p);
        lastP = p;
      }
      const off = sec - p * PAGE_S;
      const c = page!.counts;
      c[off * COLS]!++;
      const cls = Math.floor(status[i]! / 100);
      if (cls >= 2 && cls <= 5) c[off * COLS + cls - 1]!++;
      const b = bytesSent[i]!;
      if (b > 0) page!.bytes[off] = page!.bytes[off]! + b;
      const id = ip.ids[i]!;
      if (id >= 0) {
        if (ipHashed[id] === 0) {
          ipHash[id] = hashString(ip.values[id]!) | 0;
          ipHashed[id] = 1;
        }
        const minute = Math.floor(sec / 60);
        if (minute !== lastMinute) {
          regs = this.sketch(minute);
          lastMinute = minute;
        }
        hllAdd(regs!, ipHash[id]! >>> 0);
      }
    }
  }

  merge(other: Timeline): void {
    for (const [p, op] of other.pages) {
      const page = this.page(p);
      for (let i = 0; i < op.counts.length; i++) page.counts[i] = page.counts[i]! + op.counts[i]!;
      for (let i = 0; i < op.bytes.length; i++) page.bytes[i] = page.bytes[i]! + op.bytes[i]!;
    }
    for (const [m, regs] of other.ipSketch) hllMerge(this.sketch(m), regs);
    if (other.minMs < this.minMs) this.minMs = other.minMs;
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
    this.records += other.records;
    this.recordsWithoutTime += other.recordsWithoutTime;
  }

  snapshot(): TimelineSnapshot {
    return {
      pages: [...this.pages].map(([p, pg]) => [p, pg.counts.slice(), pg.bytes.slice()] as const),
      ipSketch: [...this.ipSketch].map(([m, r]) => [m, r.slice()] as const),
      minMs: this.minMs, maxMs: this.maxMs, records: this.records, recordsWithoutTime: this.recordsWithoutTime,
    };
  }

  static fromSnapshot(s: TimelineSnapshot): Timeline {
    const t = new Timeline();
    for (const [p, counts, bytes] of s.pages) t.pages.set(p, { counts, bytes });
    for (const [m, r] of s.ipSketch) t.ipSketch.set(m, r);
    t.minMs = s.minMs;
    t.maxMs = s.maxMs;
    t.records = s.records;
    t.recordsWithoutTime = s.recordsWithoutTime;
    return t;
  }

  /** First and last second (epoch s) with data, or null when empty. */
  spanS(): { firstS: number; lastS: number } | null {
    if (this.records === 0) return null;
    return { firstS: Math.floor(this.minMs / 1000), lastS: Math.floor(this.maxMs / 1000) };
  }

  /** Requests per second for epoch seconds [fromS, toS] (inclusive), dense. */
  requestsPerSecond(fromS: number, toS: number): Float64Array {
    const n = Math.max(0, toS - fromS + 1);
    const out = new Float64Array(n);
    for (let s = fromS; s <= toS; ) {
      const p = Math.floor(s / PAGE_S);
      const pageEnd = Math.min(toS, (p + 1) * PAGE_S - 1);
      const page = this.pages.get(p);
      if (page !== undefined) {
        for (let x = s; x <= pageEnd; x++) out[x - fromS] = page.counts[(x - p * PAGE_S) * COLS]!;
      }
      s = pageEnd + 1;
    }
    return out;
  }

  /** Requests per bucket of `bucketS` seconds aligned to the epoch, covering [fromS, toS]. */
  requestsPerBucket(bucketS: number, fromS: number, toS: number): { firstBucket: number; counts: Float64Array } {
    const firstBucket = Math.floor(fromS / bucketS);
    const lastBucket = Math.floor(toS / bucketS);
    const counts = new Float64Array(Math.max(0, lastBucket - firstBucket + 1));
    for (const [p, page] of this.pages) {
      const base = p * PAGE_S;
      for (let off = 0; off < PAGE_S; off++) {
        const r = page.counts[off * COLS]!;
        if (r === 0) continue;
        const b = Math.floor((base + off) / bucketS) - firstBucket;
        if (b >= 0 && b < counts.length) counts[b] = counts[b]! + r;
      }
    }
    return { firstBucket, counts };
  }

  /** The timeline as consecutive buckets of `bucketS` seconds (zeros included). */
  series(bucketS: number): {
    startMs: number; requests: Float64Array; distinctIps: Float64Array;
    s2xx: Float64Array; s3xx: Float64Array; s4xx: Float64Array; s5xx: Float64Array; bytes: Float64Array;
  } {
    const span = this.spanS();
    const empty = new Float64Array(0);
    if (span === null) {
      return { startMs: 0, requests: empty, distinctIps: empty, s2xx: empty, s3xx: empty, s4xx: empty, s5xx: empty, bytes: empty };
    }
    const first = Math.floor(span.firstS / bucketS);
    const n = Math.floor(span.lastS / bucketS) - first + 1;
    const cols = [0, 1, 2, 3, 4].map(() => new Float64Array(n));
    const bytes = new Float64Array(n);
    for (const [p, page] of this.pages) {
      const base = p * PAGE_S;
      for (let off = 0; off < PAGE_S; off++) {
        const r = page.counts[off * COLS]!;
        if (r === 0) continue;
        const b = Math.floor((base + off) / bucketS) - first;
        for (let c = 0; c < COLS; c++) cols[c]![b] = cols[c]![b]! + page.counts[off * COLS + c]!;
        bytes[b] = bytes[b]! + page.bytes[off]!;
      }
    }
    const distinctIps = new Float64Array(n).fill(NaN);
    if (bucketS >= 60 && bucketS % 60 === 0) {
      const perBucket = bucketS / 60;
      const merged = new Map<number, Uint8Array>();
      for (const [minute, regs] of this.ipSketch) {
        const b = Math.floor(minute / perBucket) - first;
        let m = merged.get(b);
        if (m === undefined) {
          m = new Uint8Array(HLL_REGISTERS);
          merged.set(b, m);
        }
        hllMerge(m, regs);
      }
      distinctIps.fill(0);
      for (const [b, regs] of merged) if (b >= 0 && b < n) distinctIps[b] = hllEstimate(regs);
    }
    return {
      startMs: first * bucketS * 1000, requests: cols[0]!, distinctIps,
      s2xx: cols[1]!, s3xx: cols[2]!, s4xx: cols[3]!, s5xx: cols[4]!, bytes,
    };
  }
}
