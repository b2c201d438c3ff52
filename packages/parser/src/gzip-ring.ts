/**
 * The shared memory between the gzip inflate worker (gzip-worker.ts) and the
 * main thread (gzip-thread.ts): per stream, RING_SLOTS slots of SLOT_BYTES
 * (one SharedArrayBuffer each, so a slot the main thread keeps can be replaced
 * alone), an Int32Array control block, and a Float64Array of member counts.
 * Kept apart from the worker module, which starts listening when imported.
 */

/** Decoded bytes per slot (the decoder's output buffer size). */
export const SLOT_BYTES: number = 256 * 1024;
/** Slots per ring: 1 MiB in flight, and the main thread never waits for the inflater while one is filled. */
export const RING_SLOTS = 4;

/** Fields of a ring's Int32Array control block. */
export const Ctl = {
  /** Pieces published by the worker (piece k is in slot k % RING_SLOTS). */
  WRITTEN: 0,
  /** Raised (and notified) by the worker on every publish, the end and errors: the main thread waits on it. */
  EVENT: 1,
  /** Raised (and notified) by the main thread when it frees a slot or closes: the worker waits on it. */
  FREE_EVENT: 2,
  /** 1 once the stream has ended and every piece is published. */
  DONE: 3,
  /** 1 once the main thread stopped reading: the worker drops the stream. */
  CLOSED: 4,
  /** With DONE: `delta` messages sent in all. */
  FINAL_DELTAS: 5,
  /** Per slot: FREE (0) or FILLED (1). */
  STATE: 8,
} as const;
export const SLOT_FREE = 0;
export const SLOT_FILLED = 1;
/** Per slot after the states: the piece's length, then the `delta` messages sent before it. */
export const ctlLen = (slot: number): number => Ctl.STATE + RING_SLOTS + slot;
export const ctlDeltas = (slot: number): number => Ctl.STATE + 2 * RING_SLOTS + slot;
export const CTL_INTS: number = Ctl.STATE + 3 * RING_SLOTS;
/** Float64Array `members`: the gzip member count when each slot was published, then the final count. */
export const MEMBERS_FINAL: number = RING_SLOTS;


/** Atomics.waitAsync (Node 20 has it; the ES2023 lib does not declare it). */
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
export const waitAsync: (ta: Int32Array, index: number, value: number) => WaitAsyncResult =
  (Atomics as unknown as { waitAsync: (ta: Int32Array, index: number, value: number) => WaitAsyncResult }).waitAsync;
