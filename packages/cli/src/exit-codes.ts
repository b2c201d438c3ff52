/**
 * Exit statuses of `alf`, and the one place that maps an error to one.
 * Documented for users in the README (issue 6).
 */
import { isAlfError } from '@alf/parser';
import type { AlfErrorCode } from '@alf/parser';

export const EXIT = {
  ok: 0,
  /** Completed with warnings: flagged inputs, rejected lines above the threshold. */
  warnings: 1,
  usage: 2,
  inputUnreadable: 3,
  outputUnwritable: 4,
  /** A bug in alf (EX_SOFTWARE); bin/alf.js uses it too. */
  internal: 70,
  sigint: 130,
  sigterm: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_CODE: Record<AlfErrorCode, ExitCode> = {
  ALF_USAGE: EXIT.usage,
  ALF_FORMAT_UNKNOWN: EXIT.usage,
  ALF_FORMAT_INVALID: EXIT.usage,
  // No format fits the data: the remedy is to pass --format.
  ALF_FORMAT_UNDETECTED: EXIT.usage,
  ALF_TZ_INVALID: EXIT.usage,
  ALF_INPUT_UNREADABLE: EXIT.inputUnreadable,
  ALF_OUTPUT_UNWRITABLE: EXIT.outputUnwritable,
  // A database file is an input too.
  ALF_GEO_DB_OPEN: EXIT.inputUnreadable,
  ALF_GEO_DB_UNSUPPORTED: EXIT.inputUnreadable,
  ALF_INTERNAL: EXIT.internal,
};

/** Exit status for an error that ended a command. */
export function exitCodeForError(error: unknown): ExitCode {
  return isAlfError(error) ? BY_CODE[error.code] : EXIT.internal;
}

/** Exit status for a signal that interrupted a command. */
export function exitCodeForSignal(signal: 'SIGINT' | 'SIGTERM'): ExitCode {
  return signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
}
