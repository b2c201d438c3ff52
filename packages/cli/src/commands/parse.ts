/**
 * `alf parse [--format F] [--tz Z] [--to arrow|arrow-file|ndjson|csv] [-o FILE] [--trusted-proxy CIDR]... [--vhost NAME]... FILE...|-`
 *
 * The command's definition (options, help, examples); the work is in
 * ../parse-run.ts, imported when the command runs.
 */
import type { Argv, CommandModule } from 'yargs';
import type { CommandContext } from '../context.ts';
import { RECORD_OUTPUT_NAMES } from '../record-outputs.ts';

/** Options as yargs parsed them; checked with zod by the runner. */
export interface ParseArgs {
  readonly files?: string[] | undefined;
  readonly format?: unknown;
  readonly tz?: unknown;
  readonly to?: unknown;
  readonly output?: unknown;
  readonly 'max-line-bytes'?: unknown;
  readonly 'max-reject-ratio'?: unknown;
  readonly 'max-decompressed-bytes'?: unknown;
  readonly quiet?: unknown;
  readonly 'trusted-proxy'?: unknown;
  readonly vhost?: unknown;
  readonly alf: CommandContext;
}

export const parseCommand: CommandModule<object, ParseArgs> = {
  command: 'parse [files..]',
  describe: 'Parse access logs into records (Arrow, NDJSON or CSV on stdout); accounting summary on stderr',
  builder: (yargs: Argv<object>) => yargs
    .positional('files', { describe: 'log files, plain or gzip (detected by content); `-` reads standard input', type: 'string', array: true })
    .option('format', { alias: 'f', type: 'string', describe: 'preset name, or an nginx log_format / Apache LogFormat string in quotes; default: detect from the first lines' })
    .option('tz', { type: 'string', describe: 'time zone for formats without an offset: IANA name or ±HH:MM (default UTC)' })
    .option('to', { alias: 't', type: 'string', describe: `record output: ${RECORD_OUTPUT_NAMES.join(', ')} (default arrow; a table when stdout is a terminal)` })
    .option('output', { alias: 'o', type: 'string', describe: 'write records to FILE instead of stdout (format from --to or the extension .arrow .arrows .ndjson .csv)' })
    .option('max-line-bytes', { type: 'string', describe: 'longest line kept, e.g. 1MiB; longer lines are rejected as line_too_long (default 1MiB)' })
    .option('max-decompressed-bytes', { type: 'string', describe: 'stop reading an input after this many decompressed bytes (e.g. 10GiB), flagged decompressed_limit: a guard against gzip bombs; default: no limit' })
    .option('max-reject-ratio', { type: 'string', describe: 'exit with status 1 when more than this share of lines is rejected (default 0.01)' })
    .option('trusted-proxy', { type: 'string', describe: 'your own proxies/load balancers (CIDR or address; repeat or separate with commas): for requests they logged, `ip` is the right-most X-Forwarded-For entry that is not one of them (never read from other peers)' })
    .option('vhost', { type: 'string', describe: 'only records of these virtual hosts (repeat or separate with commas; case-insensitive; *.example.com for subdomains; a :port in the log is ignored); records without a vhost are left out' })
    .example('alf parse access.log.gz --to csv > records.csv', 'CSV of every record')
    .example('zcat access.log.*.gz | alf parse - --to ndjson | head', 'NDJSON from standard input')
    .example('alf parse -o records.arrow /var/log/nginx/access.log', 'an Arrow file (opens in DuckDB, pandas, polars)')
    .example(`alf parse -f '$remote_addr [$time_local] "$request" $status' x.log`, 'a log_format pasted from nginx.conf')
    .example('alf parse --format common --tz America/New_York old.log --to csv', 'a format without offsets, local time')
    .example('alf parse --trusted-proxy 10.0.0.0/8 --vhost www.example.com lb.log --to ndjson', 'clients from X-Forwarded-For behind your proxies; one site only') as unknown as Argv<ParseArgs>,
  handler: async (args) => {
    const { runParse } = await import('../parse-run.ts');
    args.alf.setExitCode(await runParse(args));
  },
};
