/**
 * `alf analyze [--format F] [--tz Z] [--asn-db X] [--geo-db Y] [--from T] [--to T] [--out DIR] [--force]
 *   [--sensitivity low|normal|high] [--min-requests N] [--max-line-bytes N] [--max-reject-ratio R] [--records all|bursts|none]
 *   [--trusted-proxy CIDR]... [--vhost NAME]... [--quiet] FILE...|-`
 *
 * The command's definition (options, help, examples); the work is in
 * ../analyze-run.ts, imported when the command runs.
 */
import type { Argv, CommandModule } from 'yargs';
import type { CommandContext } from '../context.ts';

/** Options as yargs parsed them; checked with zod by the runner. */
export interface AnalyzeArgs {
  readonly files?: string[] | undefined;
  readonly format?: unknown;
  readonly tz?: unknown;
  readonly 'asn-db'?: unknown;
  readonly 'geo-db'?: unknown;
  readonly from?: unknown;
  readonly to?: unknown;
  readonly out?: unknown;
  readonly force?: unknown;
  readonly sensitivity?: unknown;
  readonly 'min-requests'?: unknown;
  readonly 'max-line-bytes'?: unknown;
  readonly 'max-reject-ratio'?: unknown;
  readonly 'max-decompressed-bytes'?: unknown;
  readonly quiet?: unknown;
  readonly records?: unknown;
  readonly 'trusted-proxy'?: unknown;
  readonly vhost?: unknown;
  readonly workers?: unknown;
  // --engine clickhouse (clickhouse/analyze-run.ts)
  readonly engine?: unknown;
  readonly url?: unknown;
  readonly table?: unknown;
  readonly columns?: unknown;
  readonly alf: CommandContext;
}

export const analyzeCommand: CommandModule<object, AnalyzeArgs> = {
  command: 'analyze [files..]',
  describe: 'Find burst windows, attribute their sources (IPs, networks, ASNs, countries) and write an evidence pack',
  builder: (yargs: Argv<object>) => yargs
    .positional('files', { describe: 'log files, plain or gzip (detected by content), in any order; `-` reads standard input', type: 'string', array: true })
    .option('format', { alias: 'f', type: 'string', describe: 'preset name, or an nginx log_format / Apache LogFormat string in quotes; default: detect from the first lines' })
    .option('tz', { type: 'string', describe: 'time zone for formats without an offset (and for --from/--to without one): IANA name or ±HH:MM (default UTC)' })
    .option('asn-db', { type: 'string', describe: 'MMDB with ASN fields (GeoLite2-ASN, DB-IP ASN Lite, IPinfo...); also ALF_ASN_DB; default: standard paths, then embedded data' })
    .option('geo-db', { type: 'string', describe: 'MMDB with country fields (GeoLite2-Country/City, DB-IP Lite, IPinfo...); also ALF_GEO_DB' })
    .option('from', { type: 'string', describe: 'analyse records at or after T: ISO-8601 (2021-03-29T08:00Z; without offset: --tz, else UTC) or relative to the data: +2h after the first record, -30m before the last (units s m h d)' })
    .option('to', { type: 'string', describe: 'analyse records before T (exclusive), same forms as --from' })
    .option('out', { alias: 'o', type: 'string', describe: 'pack directory (created; must be new, empty or an alf pack with --force). Default: ./alf-<input>-<first>-<last> (printed)' })
    .option('force', { type: 'boolean', describe: 'replace an alf evidence pack already in the output directory' })
    .option('sensitivity', { type: 'string', describe: 'burst detection: low (only large clear bursts: ×3 over baseline, 2,000 excess requests, 0.5/s), normal (×2, 500, 0.2/s), high (×1.5, 150, 0.05/s)' })
    .option('min-requests', { type: 'string', describe: 'a burst must carry at least N requests above baseline (overrides the --sensitivity value; default 500)' })
    .option('max-line-bytes', { type: 'string', describe: 'longest line kept, e.g. 1MiB; longer lines are rejected as line_too_long (default 1MiB)' })
    .option('max-decompressed-bytes', { type: 'string', describe: 'stop reading an input after this many decompressed bytes (e.g. 10GiB), flagged decompressed_limit and the pack marked partial: a guard against gzip bombs; inputs are then not cut into byte ranges. Default: no limit' })
    .option('max-reject-ratio', { type: 'string', describe: 'exit with status 1 when more than this share of lines is rejected (default 0.01)' })
    .option('records', { type: 'string', describe: 'records.arrow in the pack (Arrow IPC file, enriched with prefix, ASN, country, burst_id): bursts (records of the burst windows, default), all (every record), none (no file)' })
    .option('trusted-proxy', { type: 'string', describe: 'your own proxies/load balancers (CIDR or address; repeat or separate with commas): for requests they logged, the client is the right-most X-Forwarded-For entry that is not one of them (never read from other peers). Default: the logged remote address' })
    .option('vhost', { type: 'string', describe: 'only records of these virtual hosts (repeat or separate with commas; case-insensitive; *.example.com for subdomains; a :port in the log is ignored); records without a vhost are left out' })
    .option('workers', { type: 'string', describe: 'threads that parse and fold the inputs: large plain files are cut into byte ranges at line ends, other inputs take one thread each; 1 keeps everything on one thread (default: the cores available). The pack is the same for any N' })
    .option('engine', { type: 'string', choices: ['local', 'clickhouse'], describe: 'where the analysis runs: local (default; reads the files) or clickhouse (SQL on --table at --url; load it with `alf load clickhouse`)' })
    .option('url', { type: 'string', describe: 'with --engine clickhouse: the HTTP interface, e.g. http://localhost:8123' })
    .option('table', { type: 'string', describe: 'with --engine clickhouse: the table ([db.]name; MergeTree or Distributed)' })
    .option('columns', { type: 'string', describe: 'with --engine clickhouse: FIELD=COLUMN pairs for a table with other column names, e.g. ts=timestamp,ip=client_ip (README)' })
    .example('alf analyze access.log.2018-12-15.gz', 'a pack in ./alf-access.log.2018-12-15-<first>-<last>/')
    .example('zcat access.log.*.gz | alf analyze - --out incident-42', 'standard input (read once, kept in a temporary file for the second pass)')
    .example('alf analyze --from 2021-03-29T08:00Z --to 2021-03-29T12:00Z web1.log web2.log.gz -o pack', 'several servers, a time window')
    .example('alf analyze --from=-2h --sensitivity high access.log', 'the last two hours of the data, small bursts too')
    .example('alf analyze --trusted-proxy 10.0.0.0/8 --trusted-proxy 2001:db8::/32 --vhost shop.example.com,*.shop.example.com lb.log', 'clients from X-Forwarded-For behind your load balancers; one site only')
    .example('alf verify pack', 'check a pack against its manifest later')
    .example('alf analyze --engine clickhouse --url http://ch1:8123 --table logs -o pack', 'the same analysis as SQL on a ClickHouse table (alf load clickhouse)')
    .epilogue('Two passes over the inputs (standard input is kept in a temporary file for the later ones); one more for records.arrow and the evidence lines with --workers 1, --records all or standard input, and one for attacker detail when a burst window holds more than 100,000 IPs; the pack does not depend on input order, file names or stdin vs file (inputs are named by SHA-256 inside it; manifest.json maps them to paths). '
      + 'Exit status: 0 success; 1 completed with warnings (flagged, changed or duplicate inputs, rejected lines above --max-reject-ratio, databases more than 90 days older or newer than the logs, failed database lookups); '
      + '2 usage error; 3 input or database unreadable; 4 pack directory unwritable (or holding a pack, without --force); 130/143 interrupted (manifest marked interrupted, temporary files removed).') as unknown as Argv<AnalyzeArgs>,
  handler: async (args) => {
    const { runAnalyze } = await import('../analyze-run.ts');
    args.alf.setExitCode(await runAnalyze(args));
  },
};
