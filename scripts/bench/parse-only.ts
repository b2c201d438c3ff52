/**
 * Parse-only: the parser's stream entry over a file (plain or gzip, raw bytes read
 * by the parser's file reader `readLent` as alf reads a regular file, handed to the
 * parser, which finds gzip by magic bytes), counting records and
 * rejects. Nothing else runs: no geo, no detection, no output. It runs under the V8 heap
 * growing factor every alf command sets (`boundHeapGrowth`, packages/cli/src/memory.ts), so its
 * peak RSS is the parser's as alf runs it (`alf parse` adds its output encoding on top).
 *
 *   node --conditions=alf-source --import tsx scripts/bench/parse-only.ts FILE [--format combined] [--expect-lines N]
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { boundHeapGrowth } from '../../packages/cli/src/memory.ts';
import { emit, finishStep, skipStep } from './protocol.ts';

interface ChunkLike {
  readonly records?: { readonly length: number };
  readonly rejects?: readonly unknown[];
}

interface AccountingLike {
  readonly linesRead?: number;
  readonly parsed?: number;
  readonly rejected?: number;
  readonly bytesRead?: number;
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof x === 'object' && x !== null && Symbol.asyncIterator in x;
}

async function main(argv: string[]): Promise<void> {
  boundHeapGrowth();
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { format: { type: 'string', default: 'combined' }, 'expect-lines': { type: 'string' } },
  });
  const file = positionals[0];
  if (!file) throw new Error('usage: parse-only.ts FILE [--format F] [--expect-lines N]');
  const parser = (await import('@alf/parser')) as Record<string, unknown>;
  const parseStream = parser['parseStream'];
  if (typeof parseStream !== 'function') skipStep('parser stream entry not available');

  const started = performance.now();
  // the parser's file reader, as alf reads a regular file (readLent: buffers that go round)
  const readLent = parser['readLent'];
  if (typeof readLent !== 'function') skipStep('parser file reader not available');
  const fh = await open(file, 'r');
  const source = (readLent as (f: FileHandle, o: { chunkBytes: number }) => AsyncIterable<Uint8Array>)(fh, { chunkBytes: 1 << 20 });
  const result: unknown = await parseStream(source, { format: values.format });
  const chunks = isAsyncIterable(result) ? result : (result as { chunks?: unknown }).chunks;
  if (!isAsyncIterable(chunks)) skipStep('parseStream returned neither an async iterable nor { chunks }');
  let records = 0;
  let rejects = 0;
  let accounting: AccountingLike | undefined;
  for await (const item of chunks) {
    const chunk = item as ChunkLike & { accounting?: AccountingLike };
    if (chunk.records) records += chunk.records.length;
    if (chunk.rejects) rejects += chunk.rejects.length;
    if (chunk.accounting) accounting = chunk.accounting;
  }
  // The final accounting: a property (maybe a promise) or a result() method, whichever the entry has.
  const holder = result as { accounting?: unknown; result?: unknown };
  if (holder.accounting !== undefined) accounting = (await holder.accounting) as AccountingLike;
  else if (typeof holder.result === 'function') {
    const final = (await (holder.result as () => unknown)()) as
      | { accounting?: AccountingLike; decode?: { compression?: string; flags?: string[] }; format?: { id?: string } }
      | undefined;
    if (final?.accounting) accounting = final.accounting;
    if (final?.decode?.compression) emit('compression', final.decode.compression);
    if (final?.decode?.flags?.length) emit('input-flags', final.decode.flags.join(','));
    if (final?.format?.id) emit('format', final.format.id);
  }
  await fh.close();
  const seconds = (performance.now() - started) / 1000;

  emit('records', records, 'records');
  emit('rejects', rejects, 'lines');
  const lines = accounting?.linesRead ?? records + rejects;
  if (values['expect-lines']) {
    const expected = Number(values['expect-lines']);
    emit('accounting', lines === expected && records + rejects === expected ? 'ok' : `MISMATCH (${records} parsed + ${rejects} rejected, ${lines} read, ${expected} expected)`);
  }
  finishStep({ lines, bytes: accounting?.bytesRead ?? 0, seconds });
}

await main(process.argv.slice(2));
