/**
 * Pieces of record batches for the parallel records pass of `alf analyze`:
 * a worker keeps only the selected rows of a batch with compact dictionaries
 * (`compactRows`), spills them (v8 serialisation, length-prefixed) and the
 * main thread reads them back in order (`readPieces`), joining the two pieces
 * of a parser batch that a range boundary cut in two (`concatBatches`).
 * records.arrow holds plain strings, so dictionary layout never shows in it.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { deserialize, serialize } from 'node:v8';
import type { DictColumn, RecordBatch } from '@alf/parser';

/** The selected rows of one parser batch (`group`: its index within the input), with their burst ids. */
export interface RecordPiece {
  readonly group: number;
  readonly batch: RecordBatch;
  readonly burstIds: Int32Array;
}

type Typed = Float64Array | Uint16Array | Uint8Array;

function pickTyped<T extends Typed>(src: T, rows: Int32Array, n: number, out: T): T {
  for (let i = 0; i < n; i++) out[i] = src[rows[i]!]!;
  return out;
}

/** The column at `rows` with a dictionary of only the values used. */
function compactDict(col: DictColumn, rows: Int32Array, n: number): DictColumn {
  const ids = new Int32Array(n);
  const map = new Int32Array(col.values.length).fill(-1);
  const values: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = col.ids[rows[i]!]!;
    if (id < 0) {
      ids[i] = -1;
      continue;
    }
    let to = map[id]!;
    if (to < 0) {
      to = values.length;
      map[id] = to;
      values.push(col.values[id]!);
    }
    ids[i] = to;
  }
  return { ids, values };
}

/** Rows `rows[0..n)` of `batch`, compact, with `lineBase`/`byteBase` added to line numbers and byte offsets. */
export function compactRows(batch: RecordBatch, rows: Int32Array, n: number, lineBase: number, byteBase: number): RecordBatch {
  const extra = new Map<string, DictColumn>();
  for (const [k, col] of batch.extra) extra.set(k, compactDict(col, rows, n));
  const line = pickTyped(batch.line, rows, n, new Float64Array(n));
  const byteOffset = pickTyped(batch.byteOffset, rows, n, new Float64Array(n));
  for (let i = 0; i < n; i++) {
    line[i] = line[i]! + lineBase;
    byteOffset[i] = byteOffset[i]! + byteBase;
  }
  return {
    length: n,
    ts: pickTyped(batch.ts, rows, n, new Float64Array(n)),
    status: pickTyped(batch.status, rows, n, new Uint16Array(n)),
    bytesSent: pickTyped(batch.bytesSent, rows, n, new Float64Array(n)),
    durationMs: pickTyped(batch.durationMs, rows, n, new Float64Array(n)),
    upstreamMs: pickTyped(batch.upstreamMs, rows, n, new Float64Array(n)),
    ip: compactDict(batch.ip, rows, n),
    ipKind: pickTyped(batch.ipKind, rows, n, new Uint8Array(n)),
    method: compactDict(batch.method, rows, n),
    path: compactDict(batch.path, rows, n),
    query: compactDict(batch.query, rows, n),
    protocol: compactDict(batch.protocol, rows, n),
    referer: compactDict(batch.referer, rows, n),
    userAgent: compactDict(batch.userAgent, rows, n),
    vhost: compactDict(batch.vhost, rows, n),
    user: compactDict(batch.user, rows, n),
    forwardedFor: compactDict(batch.forwardedFor, rows, n),
    extra,
    input: pickTyped(batch.input, rows, n, new Uint16Array(n)),
    line,
    byteOffset,
  };
}

function joinTyped<T extends Typed>(a: T, an: number, b: T, bn: number, out: T): T {
  out.set(a.subarray(0, an) as never, 0);
  out.set(b.subarray(0, bn) as never, an);
  return out;
}

function joinDict(a: DictColumn, an: number, b: DictColumn, bn: number): DictColumn {
  const ids = new Int32Array(an + bn);
  ids.set(a.ids.subarray(0, an), 0);
  const shift = a.values.length;
  for (let i = 0; i < bn; i++) {
    const id = b.ids[i]!;
    ids[an + i] = id < 0 ? -1 : id + shift;
  }
  return { ids, values: [...a.values, ...b.values] };
}

const none = (n: number): DictColumn => ({ ids: new Int32Array(n).fill(-1), values: [] });

/** `a`'s rows then `b`'s. */
export function concatBatches(a: RecordBatch, b: RecordBatch): RecordBatch {
  const an = a.length;
  const bn = b.length;
  const n = an + bn;
  const extra = new Map<string, DictColumn>();
  for (const k of new Set([...a.extra.keys(), ...b.extra.keys()])) {
    extra.set(k, joinDict(a.extra.get(k) ?? none(an), an, b.extra.get(k) ?? none(bn), bn));
  }
  return {
    length: n,
    ts: joinTyped(a.ts, an, b.ts, bn, new Float64Array(n)),
    status: joinTyped(a.status, an, b.status, bn, new Uint16Array(n)),
    bytesSent: joinTyped(a.bytesSent, an, b.bytesSent, bn, new Float64Array(n)),
    durationMs: joinTyped(a.durationMs, an, b.durationMs, bn, new Float64Array(n)),
    upstreamMs: joinTyped(a.upstreamMs, an, b.upstreamMs, bn, new Float64Array(n)),
    ip: joinDict(a.ip, an, b.ip, bn),
    ipKind: joinTyped(a.ipKind, an, b.ipKind, bn, new Uint8Array(n)),
    method: joinDict(a.method, an, b.method, bn),
    path: joinDict(a.path, an, b.path, bn),
    query: joinDict(a.query, an, b.query, bn),
    protocol: joinDict(a.protocol, an, b.protocol, bn),
    referer: joinDict(a.referer, an, b.referer, bn),
    userAgent: joinDict(a.userAgent, an, b.userAgent, bn),
    vhost: joinDict(a.vhost, an, b.vhost, bn),
    user: joinDict(a.user, an, b.user, bn),
    forwardedFor: joinDict(a.forwardedFor, an, b.forwardedFor, bn),
    extra,
    input: joinTyped(a.input, an, b.input, bn, new Uint16Array(n)),
    line: joinTyped(a.line, an, b.line, bn, new Float64Array(n)),
    byteOffset: joinTyped(a.byteOffset, an, b.byteOffset, bn, new Float64Array(n)),
  };
}

/** Appends pieces to a spill file. */
export async function writePiece(fh: FileHandle, piece: RecordPiece): Promise<void> {
  const body = serialize(piece);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length, 0);
  await fh.write(head);
  await fh.write(body);
}

/** The pieces of a spill file, in order; the next piece is read while the caller works on this one. */
export async function* readPieces(file: string): AsyncGenerator<RecordPiece, void, undefined> {
  const fh = await open(file, 'r');
  const readAt = async (pos: number): Promise<{ body: Buffer; next: number } | null> => {
    const head = Buffer.alloc(4);
    const h = await fh.read(head, 0, 4, pos);
    if (h.bytesRead < 4) return null;
    const len = head.readUInt32LE(0);
    const body = Buffer.alloc(len);
    const r = await fh.read(body, 0, len, pos + 4);
    if (r.bytesRead < len) throw new Error(`${file}: a spilled piece is cut short`);
    return { body, next: pos + 4 + len };
  };
  let ahead: Promise<{ body: Buffer; next: number } | null> | null = readAt(0);
  try {
    for (;;) {
      const got = await ahead;
      if (got === null) return;
      ahead = readAt(got.next);
      ahead.catch(() => undefined); // awaited on the next turn (or dropped with the generator)
      yield deserialize(got.body) as RecordPiece;
    }
  } finally {
    await ahead?.catch(() => undefined);
    await fh.close();
  }
}
