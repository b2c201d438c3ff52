/**
 * `ALF_TRACE=1`: one stderr line per phase of a run, with wall time since the process started, CPU time of
 * the process (all threads), RSS, peak RSS and the main thread's heap — to see where a run
 * spends its time and memory without a profiler (`node --cpu-prof` for the details).
 * Worker threads add a line per task (`traceWorker`; with `node --expose-gc` after a full
 * GC, so the figures are what is live); `ALF_HEAPSNAP_AT=<phase>` writes a heap snapshot
 * of the main thread at that phase (`v8.writeHeapSnapshot`, into the working directory).
 */
import { memoryUsage, resourceUsage } from 'node:process';
import { threadId } from 'node:worker_threads';
import { writeHeapSnapshot } from 'node:v8';
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const on = process.env['ALF_TRACE'] === '1';

export function trace(phase: string): void {
  if (!on) return;
  if (process.env['ALF_HEAPSNAP_AT'] === phase) process.stderr.write(`[alf trace] heap snapshot ${writeHeapSnapshot()}\n`);
  const ru = resourceUsage();
  const mem = memoryUsage();
  const mb = (b: number): string => `${Math.round(b / 1048576)}MB`;
  process.stderr.write(`[alf trace] ${phase.padEnd(18)} wall ${(performance.now() / 1000).toFixed(2)}s cpu ${((ru.userCPUTime + ru.systemCPUTime) / 1e6).toFixed(2)}s rss ${mb(mem.rss)} peak ${mb(ru.maxRSS * 1024)} heap ${mb(mem.heapUsed)} buffers ${mb(mem.arrayBuffers)}\n`);
}

/** `ALF_TRACE=1`: the bytes of the distinct ArrayBuffers reachable from `value` (typed arrays, snapshots), by top-level key. */
export function traceBuffers(label: string, value: unknown): void {
  if (!on) return;
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number): number => {
    if (v === null || typeof v !== 'object' || seen.has(v) || depth > 12) return 0;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      if (seen.has(v.buffer)) return 0;
      seen.add(v.buffer);
      return v.buffer.byteLength;
    }
    if (v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) return v.byteLength;
    let n = 0;
    if (v instanceof Map) for (const [k, x] of v) n += walk(k, depth + 1) + walk(x, depth + 1);
    else if (v instanceof Set) for (const x of v) n += walk(x, depth + 1);
    else for (const k of Object.keys(v)) n += walk((v as Record<string, unknown>)[k], depth + 1);
    return n;
  };
  const parts: string[] = [];
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    for (const k of Object.keys(value)) parts.push(`${k} ${Math.round(walk((value as Record<string, unknown>)[k], 1) / 1048576)}MB`);
  } else parts.push(`${Math.round(walk(value, 0) / 1048576)}MB`);
  process.stderr.write(`[alf trace] ${label}: ${parts.join(', ')}\n`);
}

/** `ALF_TRACE=1` in a worker thread: its own heap and array buffers (RSS is the whole process's). */
export function traceWorker(what: string): void {
  if (!on) return;
  const before = memoryUsage().arrayBuffers;
  (globalThis as { gc?: () => void }).gc?.();
  const mem = memoryUsage();
  const mb = (b: number): string => `${Math.round(b / 1048576)}MB`;
  process.stderr.write(`[alf trace] worker gc ${mb(before)}->${mb(mem.arrayBuffers)} ${threadId} ${what.padEnd(14)} rss ${mb(mem.rss)} heap ${mb(mem.heapUsed)}/${mb(mem.heapTotal)} buffers ${mb(mem.arrayBuffers)} external ${mb(mem.external)}\n`);
}

const profDir = process.env['ALF_WORKER_PROF'] ?? '';
let profSession: Session | null = null;

/**
 * `ALF_WORKER_PROF=DIR` in a worker thread: a V8 CPU profile of each task, written to
 * `DIR/worker-<thread>-task-<id>-<kind>.cpuprofile` (`node --cpu-prof` profiles only the main
 * thread here: workers are terminated, and a terminated thread writes no profile).
 */
export async function profileTask<T extends { kind: string }>(id: number, run: () => Promise<T>): Promise<T> {
  if (profDir === '') return run();
  if (!profSession) {
    profSession = new Session();
    profSession.connect();
    await profSession.post('Profiler.enable');
  }
  await profSession.post('Profiler.start');
  const result = await run();
  const { profile } = await profSession.post('Profiler.stop');
  await writeFile(join(profDir, `worker-${threadId}-task-${id}-${result.kind}.cpuprofile`), JSON.stringify(profile));
  return result;
}

/** `ALF_TRACE=1`: the files named `<prefix>*` in `dir` and their bytes (e.g. the sorted count runs of pass 2). */
export function traceFiles(label: string, dir: string, prefix: string): void {
  if (!on) return;
  let n = 0;
  let bytes = 0;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(prefix)) continue;
    n++;
    bytes += statSync(join(dir, f)).size;
  }
  process.stderr.write(`[alf trace] ${label}: ${n} files, ${Math.round(bytes / 1048576)}MB\n`);
}
