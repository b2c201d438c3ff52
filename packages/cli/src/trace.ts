/**
 * `ALF_TRACE=1`: one stderr line per phase of a run, with wall time since start, CPU time of
 * the process (all threads), RSS, peak RSS and the main thread's heap — to see where a run
 * spends its time and memory without a profiler (`node --cpu-prof` for the details).
 */
import { memoryUsage, resourceUsage } from 'node:process';

const on = process.env['ALF_TRACE'] === '1';
const t0 = performance.now();

export function trace(phase: string): void {
  if (!on) return;
  const ru = resourceUsage();
  const mem = memoryUsage();
  const mb = (b: number): string => `${Math.round(b / 1048576)}MB`;
  process.stderr.write(`[alf trace] ${phase.padEnd(18)} wall ${((performance.now() - t0) / 1000).toFixed(2)}s cpu ${((ru.userCPUTime + ru.systemCPUTime) / 1e6).toFixed(2)}s rss ${mb(mem.rss)} peak ${mb(ru.maxRSS * 1024)} heap ${mb(mem.heapUsed)} buffers ${mb(mem.arrayBuffers)}\n`);
}
