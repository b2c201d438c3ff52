/**
 * Keeps garbage from piling up between the steps of `alf analyze`. After a full collection V8
 * lets a heap grow to a few times what survived before it collects again, and frees a typed
 * array's backing store only when its object is collected; the C allocator then keeps the
 * pages. On 15M lines with 10M distinct IPs, pass 2 peaked at ~600 MB RSS while the main
 * thread held ~70 MB of live buffers; a full collection where a worker result has been folded
 * (main thread) and after each task (worker threads) gave, over 3 runs each, a peak of 526–551
 * instead of 581–591 MB, for 52–55 instead of 48–51 CPU-s (the main thread's collections take
 * 20–50 ms each; the rest is the heaps growing again). Collecting within a task as well (every
 * 64 MB of growth) was tried and left out: 512–517 MB but 20% more time. Those figures were
 * taken with ALF_GC_SLACK_MB set: read as `Number(env ?? '')`, an unset variable was 0, which
 * turned these collections off, so every run without it (the bench, sessions 5 and 6) ran
 * without them. Measured again once V8's growing factor was set to 2 (`boundHeapGrowth`), paired
 * runs of the built alf: 5M lines 299–313 MB in 14.2–16.9 s with them, 309–320 MB in 12.2–12.7 s
 * without; 15M lines with 10M IPs 448–453 against 426–460 MB. The growing factor does the same
 * work for less: they stay off unless ALF_GC_SLACK_MB is set (16 is what they were tried at).
 *
 * `settle()` runs a full collection when heap plus array buffers have grown by `SLACK` since the
 * last one, so a run of many small inputs does not collect after every one. The collector is
 * reached through V8's `--expose-gc`, set at run time (flags are per process; the function is
 * installed in contexts created afterwards, here one `vm` context per thread).
 */
import { memoryUsage } from 'node:process';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Growth (bytes) of heap plus array buffers that starts a collection (ALF_GC_SLACK_MB; unset or 0: off). */
const SLACK = envCount('ALF_GC_SLACK_MB', 0) * 1048576;

/**
 * A whole number >= 0 from the environment; `fallback` when the variable is unset, empty or not
 * such a number. (`Number('')` is 0: read as `Number(env ?? '')`, an unset variable was 0.)
 */
export function envCount(name: string, fallback: number): number {
  const raw = process.env[name]?.trim() ?? '';
  if (!/^\d+$/.test(raw)) return fallback;
  return Number(raw);
}

/**
 * V8's heap growing factor, as a percentage over what survived the last full collection
 * (ALF_HEAP_GROWING_PERCENT; 0 keeps V8's own, which lets an old generation grow up to 4x).
 * alf's heaps are mostly short-lived batch data promoted before it dies (per-batch dictionaries,
 * request strings), so the default growth was what RSS measured: on the 5M-line bench corpus the
 * main heap reached ~170 MB with ~47 MB live. Paired runs, `alf analyze` (built), peak RSS and wall:
 * 5M lines 381–397 MB, 10.9–14.2 s at V8's default; 311–322 MB, 9.1–12.4 s at 100; 296–298 MB but
 * 14.3–16.5 s at 50 (the worker threads collect too often). 15M lines with 10M distinct IPs:
 * 521–537 MB against 419–459 MB at 100, 391–407 MB at 25 and 50 (slower). The flag is per
 * process and read at each collection, so it holds for the main thread and every worker.
 */
const GROWING_PERCENT = envCount('ALF_HEAP_GROWING_PERCENT', 100);

/** Sets V8's heap growing factor (GROWING_PERCENT) for this process; call once, before worker threads start. */
export function boundHeapGrowth(): void {
  if (GROWING_PERCENT === 0) return;
  try {
    setFlagsFromString(`--heap-growing-percent=${GROWING_PERCENT}`);
  } catch {
    // a runtime without the flag: V8's default growth
  }
}

let collect: (() => void) | null | undefined;
let base = 0;

function collector(): (() => void) | null {
  if (collect === undefined) {
    collect = null;
    try {
      const existing = (globalThis as { gc?: unknown }).gc;
      if (typeof existing === 'function') collect = existing as () => void;
      else {
        setFlagsFromString('--expose-gc');
        const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
        if (typeof gc === 'function') collect = gc as () => void;
      }
    } catch {
      collect = null;
    }
  }
  return collect;
}

const held = (): number => {
  const m = memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/**
 * The growing factor for heaps of dead strings: 1 + PRESSURE_PERCENT / 100 for the rest of the run, in every
 * thread, once a pass-2 parser batch has nearly a path or agent of its own per row (half a distinct one
 * or more) while its thread's heap in use is past PRESSURE (ALF_HEAP_PRESSURE_MB; 0: never). Such a heap
 * is garbage, not state: the hostile `urls` log (11M distinct paths and agents; ~45 MB live on the main
 * thread) reached 130–175 MB of heap in pass 2, promoted batch dictionaries of distinct strings. Built
 * alf, `cat urls.log | alf analyze - --records none`, peak RSS: 589,088–602,244 KB without the switch;
 * 507,308–528,972 KB switching to 1.5 at a fold; 496,984 and 516,868 KB after a batch at 1.5; 465,668–
 * 498,772 KB (four runs) at 1.25 (~10% more CPU than 1.5, in that run only). A factor of 1.5 from the
 * start cost the 5M-line bench corpus ~20% of its time (14.1–14.3 against 11.2–12.1 s). The heap alone
 * is no sign: 50M lines with 10M distinct IPs pass 64 MB in pass 2 with their per-IP state, at 0.20–0.23
 * distinct paths and agents a row (batches of 8,192); `urls` has 2.0. Real logs full of scanners come
 * close: the secrepo logs in testdata/real have 0.52–0.79 (one small batch each), so a busy one may
 * switch too; that costs CPU, never a result.
 */
const PRESSURE = envCount('ALF_HEAP_PRESSURE_MB', 64) * 1048576;
const PRESSURE_PERCENT = 25;
/** Distinct paths plus agents per row of a parser batch from which its strings count as pressure. */
const DISTINCT_PER_ROW = 0.5;
let pressed = false;

/**
 * After a pass-2 parser batch: `distinctPerRow` is its path and agent dictionaries' size over its rows.
 * Switches the growing factor when both signs are there (see PRESSURE); cheap enough for every batch.
 */
export function heedPressure(distinctPerRow: number): void {
  if (pressed || distinctPerRow < DISTINCT_PER_ROW || PRESSURE === 0 || GROWING_PERCENT === 0 || GROWING_PERCENT <= PRESSURE_PERCENT) return;
  const used = getHeapStatistics().used_heap_size;
  if (used < PRESSURE) return;
  pressed = true;
  try {
    setFlagsFromString(`--heap-growing-percent=${PRESSURE_PERCENT}`);
  } catch {
    return;
  }
  if (process.env['ALF_TRACE'] === '1') process.stderr.write(`[alf trace] heap ${Math.round(used / 1048576)}MB in use, ${distinctPerRow.toFixed(2)} distinct paths and agents a row: growing factor now ${1 + PRESSURE_PERCENT / 100}\n`);
}

/** A full collection of this thread's heap when it grew by more than the slack since the last one (or always, `force`). */
export function settle(force = false): void {
  if (SLACK === 0 || (!force && held() < base + SLACK)) return;
  const gc = collector();
  if (gc === null) return;
  gc();
  base = held();
}
