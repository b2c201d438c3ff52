/** What a command needs from the process: standard streams, TTY facts, interruption. */
import type { Readable, Writable } from 'node:stream';
import type { LoadedConfig } from './config.ts';

export interface CommandContext {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean; columns?: number };
  readonly stderr: Writable & { isTTY?: boolean; columns?: number };
  /** Aborted on SIGINT/SIGTERM; `reason` is the signal name. */
  readonly signal: AbortSignal;
  readonly version: string;
  /** The config file's section for this command, when a config file is in use. */
  readonly config?: LoadedConfig | undefined;
  /** Sets the exit status the command ends with (default 0; errors map through exit-codes.ts). */
  setExitCode(code: number): void;
}

/** Writes one message line (or several) to stderr. */
export function say(ctx: CommandContext, ...lines: string[]): void {
  ctx.stderr.write(lines.map((l) => `${l}\n`).join(''));
}
