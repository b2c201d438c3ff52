/**
 * `alf load clickhouse --url URL --table T [--create] [--asn-db X] [--geo-db Y] [--format F] [--tz Z] [--workers N] FILE...|-`
 *
 * Parses and enriches logs locally (as `alf parse` does) and inserts them into
 * a ClickHouse table over HTTP. The work is in ../clickhouse/load-run.ts.
 */
import type { Argv, CommandModule } from 'yargs';
import type { CommandContext } from '../context.ts';

export interface LoadArgs {
  readonly target?: string | undefined;
  readonly files?: string[] | undefined;
  readonly url?: unknown;
  readonly table?: unknown;
  readonly create?: unknown;
  readonly format?: unknown;
  readonly tz?: unknown;
  readonly 'asn-db'?: unknown;
  readonly 'geo-db'?: unknown;
  readonly 'max-line-bytes'?: unknown;
  readonly 'batch-rows'?: unknown;
  readonly workers?: unknown;
  readonly quiet?: unknown;
  readonly alf: CommandContext;
}

export const loadCommand: CommandModule<object, LoadArgs> = {
  command: 'load <target> [files..]',
  describe: 'Parse and enrich logs, and insert them into a database (target: clickhouse)',
  builder: (yargs: Argv<object>) => yargs
    .positional('target', { describe: 'where to load: clickhouse', type: 'string' })
    .positional('files', { describe: 'log files, plain or gzip; `-` reads standard input', type: 'string', array: true })
    .option('url', { type: 'string', describe: 'ClickHouse HTTP interface, e.g. http://localhost:8123 (user and password as http://user:pass@host:8123)' })
    .option('table', { type: 'string', describe: 'table to insert into ([db.]name): a MergeTree table, or a Distributed table over shards, with the columns of `alf load` (README)' })
    .option('create', { type: 'boolean', describe: 'create the table (MergeTree, on the --url server) when it does not exist' })
    .option('format', { alias: 'f', type: 'string', describe: 'preset name or log_format/LogFormat string; default: detect' })
    .option('tz', { type: 'string', describe: 'time zone for formats without an offset (IANA name or ±HH:MM; default UTC)' })
    .option('asn-db', { type: 'string', describe: 'MMDB with ASN fields (as alf analyze)' })
    .option('geo-db', { type: 'string', describe: 'MMDB with country fields (as alf analyze)' })
    .option('max-line-bytes', { type: 'string', describe: 'longest line kept (default 1MiB)' })
    .option('batch-rows', { type: 'string', describe: 'rows per INSERT (default 100000)' })
    .option('workers', { type: 'string', describe: 'threads that parse and encode a large plain file, each a byte range of it (default 1; more pays when the ClickHouse servers are on other machines)' })
    .example('alf load clickhouse --url http://localhost:8123 --table logs --create access.log.gz', 'load one log into a new MergeTree table')
    .example('zcat *.gz | alf load clickhouse --url http://ch1:8123 --table logs -', 'standard input into an existing (e.g. Distributed) table')
    .epilogue('Rows go in batches as TSV; a batch that fails on a connection error or a server error is retried with backoff after checking (by its load_id and batch number) that none of its rows landed. '
      + 'Exit status: 0 every parsed record accepted; 1 completed with rejected lines above 1%; 2 usage error; 3 input, database or ClickHouse unreadable or failing.') as unknown as Argv<LoadArgs>,
  handler: async (args) => {
    const { runLoad } = await import('../clickhouse/load-run.ts');
    args.alf.setExitCode(await runLoad(args));
  },
};
