/**
 * `alf lookup IP... | -`
 *
 * Resolves addresses with the same databases an analysis would use and prints ASN,
 * organisation, country, city, the database network and the special-range label, as an
 * aligned table or CSV (`--csv`). Standard error says which database answered each role
 * (type, source, build date) and the attribution its licence asks for. It is how a user
 * checks which database answers.
 */
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import type { Argv, CommandModule } from 'yargs';
import { openGeo } from '@alf/geo';
import type { Geo, GeoAnswer, GeoDbInfo } from '@alf/geo';
import { AlfError } from '@alf/parser';
import { csvStringifyCast } from '@alf/report';
import type { CommandContext } from '../context.ts';
import { say } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { STDIN_NAME } from '../inputs.ts';
import { validateOptions } from '../options.ts';
import { STDOUT_NAME, writeOutput } from '../output.ts';
import { terminalSafe } from '../terminal-text.ts';

/** Longest input line kept (an IPv6 address with zone fits in 64); the rest of a longer line is dropped. */
const MAX_LINE_CHARS = 256;
/** Rows per output block; table column widths come from the first block. */
const BLOCK_ROWS = 1000;
/** Widest organisation shown in the table (CSV has it whole). */
const TABLE_ORG_CHARS = 48;

export const LOOKUP_COLUMNS: readonly string[] = ['ip', 'asn', 'as_org', 'country', 'city', 'network', 'label'];

export interface LookupArgs {
  readonly ips?: string[] | undefined;
  readonly csv?: unknown;
  readonly 'asn-db'?: unknown;
  readonly 'geo-db'?: unknown;
  readonly alf: CommandContext;
}

function lookupOptionsSchema() {
  return z.object({
    ips: z.array(z.string()).default([]),
    csv: z.boolean({ error: '`--csv` takes no value' }).default(false),
    'asn-db': z.string({ error: '`--asn-db` needs one .mmdb file name' }).optional(),
    'geo-db': z.string({ error: '`--geo-db` needs one .mmdb file name' }).optional(),
  });
}

/** IPs from the arguments, with `-` replaced by the lines of standard input (in place). */
async function* inputIps(ips: readonly string[], ctx: CommandContext): AsyncGenerator<string> {
  let stdinDone = false;
  for (const ip of ips) {
    if (ip !== STDIN_NAME) {
      yield ip;
      continue;
    }
    if (stdinDone) continue;
    stdinDone = true;
    yield* stdinLines(ctx);
  }
}

/** Lines of standard input, trimmed; empty lines and `#` comments skipped; each capped. */
async function* stdinLines(ctx: CommandContext): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let partial = '';
  const take = (line: string): string | null => {
    const t = line.trim();
    return t === '' || t.startsWith('#') ? null : t;
  };
  for await (const chunk of ctx.stdin as AsyncIterable<Uint8Array | string>) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = partial + text.slice(start, Math.min(nl, start + MAX_LINE_CHARS));
      partial = '';
      const ip = take(line.slice(0, MAX_LINE_CHARS));
      if (ip !== null) yield ip;
      start = nl + 1;
    }
    if (partial.length < MAX_LINE_CHARS) partial += text.slice(start, start + MAX_LINE_CHARS - partial.length);
  }
  partial += decoder.decode();
  const last = take(partial.slice(0, MAX_LINE_CHARS));
  if (last !== null) yield last;
}

/** The `label` column: the special-range label, or why there is no answer. */
function labelOf(a: GeoAnswer): string {
  if (a.label !== null) return a.label;
  if (a.aggPrefix === null) return 'not_an_ip';
  if (a.error) return 'geo_error';
  return '';
}

/** One output row; DB strings are cleaned by @alf/geo, the echoed input is not. */
function rowOf(ip: string, a: GeoAnswer): (string | number | null)[] {
  return [ip, a.asn, a.asOrg, a.country, a.city, a.network ?? a.geoNetwork ?? null, labelOf(a)];
}

function tableCells(row: readonly (string | number | null)[]): string[] {
  return row.map((v, i) => (v === null ? '' : terminalSafe(String(v), i === 2 ? TABLE_ORG_CHARS : 100)));
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
}

async function* outputBlocks(ips: AsyncIterable<string>, geo: Geo, csv: boolean): AsyncGenerator<string> {
  let block: (string | number | null)[][] = [];
  let widths: number[] | null = null;
  const flush = (): string => {
    let out = '';
    if (csv) {
      out = stringify(block, {
        header: widths === null,
        columns: [...LOOKUP_COLUMNS],
        cast: csvStringifyCast(),
        record_delimiter: '\n',
      });
      widths ??= [];
    } else {
      const cells = block.map(tableCells);
      if (widths === null) {
        const header = LOOKUP_COLUMNS.map((c) => c.toUpperCase());
        widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
        out += `${pad(header, widths)}\n`;
      }
      for (const r of cells) out += `${pad(r, widths)}\n`;
    }
    block = [];
    return out;
  };
  for await (const ip of ips) {
    block.push(rowOf(ip, geo.lookup(ip)));
    if (block.length >= BLOCK_ROWS) yield flush();
  }
  if (block.length > 0 || widths === null) yield flush();
}

/** One stderr line per database: role, type, build date, where it came from. */
export function describeDatabase(db: GeoDbInfo): string {
  const built = db.buildDate ? db.buildDate.slice(0, 10) : 'unknown (invalid build date)';
  return terminalSafe(`${db.role}: ${db.databaseType}, built ${built}, ${db.source.replace('_', ' ')} ${db.path}`, 400);
}

export async function runLookup(args: LookupArgs): Promise<number> {
  const ctx = args.alf;
  const opts = validateOptions(lookupOptionsSchema(), args);
  let ips = opts.ips;
  if (ips.length === 0) {
    if (ctx.stdin.isTTY) {
      throw new AlfError(
        'ALF_USAGE',
        'no addresses: name IP addresses, or `-` to read them from standard input one per line, e.g. `alf lookup 8.8.8.8 2001:db8::1` or `cut -d" " -f1 access.log | sort -u | alf lookup -`',
        { showUsage: true },
      );
    }
    ips = [STDIN_NAME];
  }
  const geo = await openGeo({ asnDb: opts['asn-db'], geoDb: opts['geo-db'] });
  try {
    await writeOutput(outputBlocks(inputIps(ips, ctx), geo, opts.csv), STDOUT_NAME, { signal: ctx.signal, stdout: ctx.stdout });
    const lines = geo.databases.map(describeDatabase);
    if (geo.databases.length === 0) lines.push('no databases: nothing to look up with');
    for (const note of geo.notes) lines.push(`note: ${terminalSafe(note, 400)}`);
    const attributions = [...new Set(geo.databases.map((d) => d.attribution).filter((a): a is string => a !== null))];
    for (const a of attributions) lines.push(terminalSafe(a, 1000));
    const errors = geo.stats.geoErrors;
    if (errors > 0) lines.push(`warning: ${errors} database search(es) failed (label geo_error); the database may be corrupt`);
    say(ctx, ...lines);
    return errors > 0 ? EXIT.warnings : EXIT.ok;
  } finally {
    geo.close();
  }
}

export const lookupCommand: CommandModule<object, LookupArgs> = {
  command: 'lookup [ips..]',
  describe: 'Show the ASN, organisation, country and network of IP addresses, and which database answered',
  builder: (yargs: Argv<object>) => yargs
    .positional('ips', { describe: 'IPv4/IPv6 addresses; `-` reads them from standard input, one per line', type: 'string', array: true })
    .option('csv', { type: 'boolean', describe: 'CSV on stdout instead of a table' })
    .option('asn-db', { type: 'string', describe: 'MMDB with ASN fields (GeoLite2-ASN, DB-IP ASN Lite, IPinfo...); also ALF_ASN_DB' })
    .option('geo-db', { type: 'string', describe: 'MMDB with country fields (GeoLite2-Country/City, DB-IP Lite, IPinfo...); also ALF_GEO_DB' })
    .example('alf lookup 8.8.8.8 1.1.1.1 2001:4860:4860::8888', 'ASN and country from the available databases')
    .example('alf lookup --asn-db GeoLite2-ASN.mmdb --geo-db GeoLite2-City.mmdb 81.2.69.160', 'with your own databases')
    .example("awk '{print $1}' access.log | sort -u | alf lookup - --csv > ips.csv", 'every client of a log, as CSV') as unknown as Argv<LookupArgs>,
  handler: async (args) => {
    args.alf.setExitCode(await runLookup(args));
  },
};
