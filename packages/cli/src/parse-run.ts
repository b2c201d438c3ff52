/**
 * What `alf parse` does (the command's definition is in commands/parse.ts;
 * this module is loaded only when the command runs, so `--help` stays fast).
 *
 * Streams every input through the parser and writes the records as Arrow IPC
 * (stream by default, file with `arrow-file`), NDJSON or CSV; prints the
 * accounting summary on stderr. On a terminal without `--to` it shows a short
 * table of the first records instead of binary Arrow.
 */
import { z } from 'zod';
import type { ParseArgs } from './commands/parse.ts';
import { AlfError } from '@alf/parser';
import type { RecordBatch, Reject } from '@alf/parser';
import { createArrowIpcEncoder, createCsvRecordEncoder, recordBatchToNdjson } from '@alf/report';
import { say } from './context.ts';
import { EXIT } from './exit-codes.ts';
import { STDIN_NAME, checkInputs, openInput } from './inputs.ts';
import { byteSizeOption, formatOption, oneOf, ratioOption, tzOption, validateOptions } from './options.ts';
import { RECORD_OUTPUT_NAMES } from './record-outputs.ts';
import type { RecordOutput } from './record-outputs.ts';
import { STDOUT_NAME, writeOutput } from './output.ts';
import { formatProblem, parseInput } from './parse-input.ts';
import { createProgress } from './progress.ts';
import { createRecordScope, emptyScopeCounts, scopeLines, trustedProxyOption, vhostOption } from './record-scope.ts';
import { RecordTable, TABLE_ROWS } from './record-table.ts';
import { formatSummary } from './summary.ts';
import { styleFor } from './style.ts';
import { terminalSafe } from './terminal-text.ts';
import type { InputResult } from './summary.ts';

/** Rejects shown on stderr (all of them are counted). */
const REJECT_SAMPLE = 5;
/** The `input` column is a Uint16. */
const MAX_INPUTS = 65_535;

function parseOptionsSchema() {
  return z.object({
    files: z.array(z.string()).default([]),
    format: formatOption(formatProblem).optional(),
    tz: tzOption.optional(),
    to: oneOf('--to', RECORD_OUTPUT_NAMES, '. Leave it out for Arrow (or a table on a terminal).').optional(),
    output: z.string({ error: '`--output` needs one file name (or `-` for standard output)' }).optional(),
    'max-line-bytes': byteSizeOption('--max-line-bytes', 256, 1024 ** 3).default(1024 ** 2),
    'max-reject-ratio': ratioOption('--max-reject-ratio').default(0.01),
    'max-decompressed-bytes': byteSizeOption('--max-decompressed-bytes', 1, 2 ** 50).optional(),
    quiet: z.boolean({ error: '`--quiet` takes no value' }).default(false),
    'trusted-proxy': trustedProxyOption.optional(),
    vhost: vhostOption.optional(),
  });
}

/** Output format from a file name's extension, when `--to` is not given. */
function outputFromExtension(path: string): RecordOutput | undefined {
  const ext = /\.([a-z]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (ext === 'csv') return 'csv';
  if (ext === 'ndjson' || ext === 'jsonl') return 'ndjson';
  if (ext === 'arrows') return 'arrow';
  if (ext === 'arrow' || ext === 'feather') return 'arrow-file';
  return undefined;
}

type Encoded = Uint8Array | string;

/** Text outputs are written in slices of this many rows: smaller strings, less memory and GC. */
const TEXT_SLICE_ROWS = 4096;

function* slices(batch: RecordBatch, encode: (b: RecordBatch, start: number, end: number) => string): Generator<string, void, undefined> {
  for (let start = 0; start < batch.length; start += TEXT_SLICE_ROWS) {
    yield encode(batch, start, Math.min(batch.length, start + TEXT_SLICE_ROWS));
  }
}

/** Turns record batches into output chunks of one kind. */
function encoderFor(kind: RecordOutput, inputNames: readonly string[], version: string): { encode(b: RecordBatch): Iterable<Encoded>; finish(): Encoded } {
  switch (kind) {
    case 'arrow':
    case 'arrow-file': {
      const metadata = new Map([['alf.inputs', JSON.stringify(inputNames)], ['alf.version', version]]);
      const arrow = createArrowIpcEncoder(kind === 'arrow' ? 'stream' : 'file', { metadata });
      return { encode: (b) => [arrow.encode(b)], finish: () => arrow.finish() };
    }
    case 'ndjson':
      return { encode: (b) => slices(b, (x, start, end) => recordBatchToNdjson(x, { inputNames }, start, end)), finish: () => '' };
    case 'csv': {
      const csv = createCsvRecordEncoder({ inputNames });
      return { encode: (b) => slices(b, (x, start, end) => csv.encode(x, start, end)), finish: () => csv.finish() };
    }
  }
}

export async function runParse(args: ParseArgs): Promise<number> {
  const ctx = args.alf;
  const opts = validateOptions(parseOptionsSchema(), args);
  let files = opts.files;
  if (files.length === 0) {
    if (ctx.stdin.isTTY) {
      throw new AlfError('ALF_USAGE', 'no input: name log files (plain or gzip), or `-` to read standard input, e.g. `alf parse access.log` or `zcat *.gz | alf parse -`', { showUsage: true });
    }
    files = [STDIN_NAME];
  }
  if (files.filter((f) => f === STDIN_NAME).length > 1) throw new AlfError('ALF_USAGE', '`-` (standard input) can be given only once');
  if (files.length > MAX_INPUTS) throw new AlfError('ALF_USAGE', `at most ${MAX_INPUTS} inputs per run; got ${files.length}. Concatenate them (e.g. \`cat … | alf parse -\`)`);

  const output = opts.output ?? STDOUT_NAME;
  const toStdout = output === STDOUT_NAME;
  const kind: RecordOutput | 'table' = opts.to
    ?? (toStdout ? (ctx.stdout.isTTY ? 'table' : 'arrow') : (outputFromExtension(output) ?? 'arrow'));

  if (toStdout && ctx.stdout.isTTY && (kind === 'arrow' || kind === 'arrow-file')) {
    throw new AlfError('ALF_USAGE', 'refusing to write binary Arrow to a terminal: redirect standard output (`> records.arrows`), use `-o FILE`, or `--to ndjson`/`--to csv` for text');
  }
  await checkInputs(files);

  const results: InputResult[] = [];
  const rejectSample: Reject[] = [];
  let rejectsTotal = 0;
  const table = kind === 'table' ? new RecordTable(TABLE_ROWS) : undefined;
  const encoder = kind === 'table' ? undefined : encoderFor(kind, files, ctx.version);
  const progress = createProgress(ctx.stderr, !opts.quiet);
  // --vhost and --trusted-proxy: records are written after the filter and client resolution.
  const scope = createRecordScope(opts['trusted-proxy'], opts.vhost);
  const scoped = emptyScopeCounts();

  async function* records(): AsyncGenerator<RecordBatch, void, undefined> {
    for (const [index, name] of files.entries()) {
      const input = await openInput(name, ctx.stdin, ctx.signal);
      progress.startInput(name, input.sizeBytes, input.bytesRead);
      const parse = parseInput(input.bytes, { format: opts.format, tz: opts.tz, maxLineBytes: opts['max-line-bytes'], inputIndex: index, maxDecompressedBytes: opts['max-decompressed-bytes'] });
      let complete = false;
      try {
        for await (const chunk of parse.chunks) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          rejectsTotal += chunk.rejects.length;
          progress.addLines(chunk.records.length + chunk.rejects.length);
          for (const reject of chunk.rejects) {
            if (rejectSample.length >= REJECT_SAMPLE) break;
            rejectSample.push(reject);
          }
          const batch = scope.apply(chunk.records, scoped);
          if (batch.length > 0) yield batch;
        }
        complete = true;
      } finally {
        const { accounting, decode, format } = parse.result();
        const flags = [...(decode?.flags ?? [])];
        if (complete && input.sizeBytes !== undefined && input.bytesRead() !== input.sizeBytes && !flags.includes('changed')) flags.push('changed');
        results.push({
          name, sizeBytes: input.sizeBytes, sha256: input.sha256(), complete, accounting, decode, format, flags,
          notes: [...(decode?.notes ?? []), ...(flags.includes('changed') && !decode?.flags.includes('changed') ? [`size was ${input.sizeBytes} bytes at start, ${input.bytesRead()} read`] : [])],
        });
      }
    }
  }

  async function* encoded(): AsyncGenerator<Encoded, void, undefined> {
    for await (const batch of records()) {
      if (table) table.add(batch);
      else yield* encoder!.encode(batch);
    }
    if (table) yield table.render(ctx.stdout.columns ?? 120);
    else yield encoder!.finish();
  }

  let end;
  try {
    end = await writeOutput(encoded(), output, { signal: ctx.signal, stdout: ctx.stdout });
  } finally {
    progress.stop();
  }
  // The reader of stdout went away (`| head`): a normal, quiet stop.
  if (end === 'closed') return EXIT.ok;

  const warnings: string[] = [];
  const flagged = results.filter((r) => r.flags.length > 0);
  if (flagged.length > 0) warnings.push(`warning: ${flagged.length} input${flagged.length === 1 ? '' : 's'} flagged (${flagged.map((r) => `${terminalSafe(r.name, 80)}: ${r.flags.join(', ')}`).join('; ')}): exit status 1`);
  const read = results.reduce((s, r) => s + r.accounting.linesRead, 0);
  const rejected = results.reduce((s, r) => s + r.accounting.rejected, 0);
  const ratio = read > 0 ? rejected / read : 0;
  if (ratio > opts['max-reject-ratio']) {
    warnings.push(`warning: ${(ratio * 100).toFixed(2)}% of lines rejected, above --max-reject-ratio ${opts['max-reject-ratio']}: exit status 1`);
  }
  const trailer = [...scopeLines(scope, scoped), ...warnings];
  if (table) trailer.push(`(standard output is a terminal: showed the first ${TABLE_ROWS} records as a table; use --to arrow|ndjson|csv, -o FILE or a pipe for all records)`);
  else if (!toStdout) trailer.push(`records written to ${terminalSafe(output, 300)} (${kind})`);
  const style = styleFor(ctx.stderr);
  const painted = (line: string): string => (line.startsWith('warning:') ? style.warning(line) : line);
  if (opts.quiet) say(ctx, ...warnings.map(painted));
  else {
    const [head, ...rest] = formatSummary(results, { command: 'alf parse', rejectSample, rejectsTotal, inputNames: files, trailer });
    say(ctx, style.strong(head!), ...rest.map(painted));
  }
  return warnings.length > 0 ? EXIT.warnings : EXIT.ok;
}

