/**
 * `--from`/`--to` for `alf analyze`: the rows of a batch inside [fromMs, toMs).
 * Rows without a usable timestamp are kept (core counts them as such). A batch
 * wholly inside is returned as it is; otherwise a new batch sharing the
 * dictionaries' values.
 */
import type { RecordBatch } from '@alf/parser';
import { selectRows } from '@alf/core';

export interface FilteredBatch {
  readonly batch: RecordBatch;
  /** Rows left out (outside the bounds). */
  readonly skipped: number;
}

/** The rows of `batch` with `fromMs <= ts < toMs` (null: no bound), plus rows without a timestamp. */
export function filterByTime(batch: RecordBatch, fromMs: number | null, toMs: number | null): FilteredBatch {
  if (fromMs === null && toMs === null) return { batch, skipped: 0 };
  const lo = fromMs ?? -Infinity;
  const hi = toMs ?? Infinity;
  const keep = new Int32Array(batch.length);
  let n = 0;
  for (let i = 0; i < batch.length; i++) {
    const t = batch.ts[i]!;
    if (!(t < lo || t >= hi)) keep[n++] = i; // NaN passes
  }
  if (n === batch.length) return { batch, skipped: 0 };
  return { skipped: batch.length - n, batch: selectRows(batch, keep.subarray(0, n)) };
}

/** First and last finite timestamp of a batch (null when none). */
export function batchSpan(batch: RecordBatch): { firstMs: number; lastMs: number } | null {
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < batch.length; i++) {
    const t = batch.ts[i]!;
    if (t < first) first = t;
    if (t > last) last = t;
  }
  return first <= last ? { firstMs: first, lastMs: last } : null;
}
