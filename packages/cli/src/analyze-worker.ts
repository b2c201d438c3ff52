/**
 * Worker-thread entry of `alf analyze` (started by analyze-workers.ts): runs
 * the tasks it is sent (analyze-task.ts), one at a time, and posts back each
 * result, progress as lines parsed, or the error.
 */
import { parentPort } from 'node:worker_threads';
import { attributionBuffers } from '@alf/core';
import { runTask } from './analyze-task.ts';
import { profileTask, traceWorker } from './trace.ts';
import { settle } from './memory.ts';
import type { AnalyzeTask } from './analyze-task.ts';

export interface TaskMessage {
  readonly id: number;
  readonly task: AnalyzeTask;
}

const port = parentPort;
if (port) {
  port.on('message', (m: TaskMessage) => {
    let pending = 0;
    const flush = (): void => {
      if (pending > 0) port.postMessage({ id: m.id, progress: pending });
      pending = 0;
    };
    profileTask(m.id, () => runTask(m.task, (lines) => {
      pending += lines;
      if (pending >= 65_536) flush();
    })).then((result) => {
      flush();
      traceWorker(`${result.kind} task ${m.id}`);
      const transfer: ArrayBuffer[] = [];
      if (result.kind === 'pass2' && result.clients) transfer.push(result.clients.ipv4.buffer as ArrayBuffer, result.clients.ipv6.buffer as ArrayBuffer);
      if (result.kind === 'pass1' && result.collected) transfer.push(result.collected.clients.ipv4.buffer as ArrayBuffer, result.collected.clients.ipv6.buffer as ArrayBuffer);
      // The per-window count tables move too (tens of MB with millions of clients), not copied.
      if (result.kind === 'pass2' && result.attribution) transfer.push(...attributionBuffers(result.attribution));
      port.postMessage({ id: m.id, result }, transfer);
      // Once this callback has let go of the result: a worker parses between tasks, never collects on its own in time.
      setImmediate(settle);
    }, (error: unknown) => {
      const e = error as { message?: string; code?: string; context?: unknown; name?: string; stack?: string };
      port.postMessage({ id: m.id, error: { message: e?.message ?? String(error), code: e?.code, context: e?.context, name: e?.name, stack: e?.stack } });
    });
  });
}
