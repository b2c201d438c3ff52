/**
 * Progress on stderr for long work, redrawn in place a few times a second and
 * only when stderr is a terminal (and not `--quiet`): for files, bytes read of
 * the total with rate and ETA; for standard input, lines and rate. Cleared
 * before the summary is printed, so it never mixes with other messages.
 */
import type { Writable } from 'node:stream';
import { terminalSafe } from './terminal-text.ts';

const REDRAW_MS = 250;

export interface Progress {
  /** A new input starts; `bytesRead` is polled on redraw. */
  startInput(name: string, sizeBytes: number | undefined, bytesRead: () => number): void;
  /** Lines done in the current input (parsed + rejected), added as chunks arrive. */
  addLines(count: number): void;
  /** Removes the progress line. */
  stop(): void;
}

const NO_PROGRESS: Progress = { startInput: () => undefined, addLines: () => undefined, stop: () => undefined };

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The progress line for the state given (exported for tests). */
export function progressLine(name: string, sizeBytes: number | undefined, read: number, lines: number, elapsedMs: number): string {
  const seconds = Math.max(elapsedMs / 1000, 0.001);
  const label = terminalSafe(name === '-' ? '(standard input)' : name, 50);
  const lineRate = `${Math.round(lines / seconds).toLocaleString('en-US')} lines/s`;
  if (sizeBytes === undefined || sizeBytes === 0) return `${label}  ${lines.toLocaleString('en-US')} lines  ${lineRate}`;
  const share = Math.min(1, read / sizeBytes);
  const rate = read / seconds;
  const eta = rate > 0 ? (sizeBytes - read) / rate : Infinity;
  return `${label}  ${bytes(read)} / ${bytes(sizeBytes)} (${Math.floor(share * 100)}%)  ${bytes(rate)}/s  ${lineRate}  ETA ${duration(eta)}`;
}

export function createProgress(stderr: Writable & { isTTY?: boolean; columns?: number }, enabled: boolean): Progress {
  if (!enabled || !stderr.isTTY) return NO_PROGRESS;
  let current: { name: string; size: number | undefined; read: () => number; lines: number; startMs: number } | undefined;
  let shown = false;
  const draw = (): void => {
    if (!current) return;
    const text = progressLine(current.name, current.size, current.read(), current.lines, Date.now() - current.startMs);
    const width = (stderr.columns ?? 80) - 1;
    stderr.write(`\r\x1b[2K${text.length > width ? text.slice(0, width) : text}`);
    shown = true;
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  return {
    startInput(name, sizeBytes, bytesRead) {
      current = { name, size: sizeBytes, read: bytesRead, lines: 0, startMs: Date.now() };
    },
    addLines(count) {
      if (current) current.lines += count;
    },
    stop() {
      clearInterval(timer);
      if (shown) stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
}
