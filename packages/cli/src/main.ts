/**
 * `alf` entry: yargs command modules, strict options, one mapping from errors
 * to exit statuses, every message on stderr (stdout carries only data), and
 * SIGINT/SIGTERM turned into a clean stop with status 130/143.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import yargs from 'yargs';
import type { Argv, CommandModule } from 'yargs';
import { AlfError, isAlfError } from '@alf/parser';
import type { CommandContext } from './context.ts';
import { configKeyName, loadConfig } from './config.ts';
import type { LoadedConfig } from './config.ts';
import { closest, didYouMean } from './did-you-mean.ts';
import { styleFor } from './style.ts';
import { EXIT, exitCodeForError, exitCodeForSignal } from './exit-codes.ts';
import { boundHeapGrowth } from './memory.ts';
import { analyzeCommand } from './commands/analyze.ts';
import { formatsCommand } from './commands/formats.ts';
import { loadCommand } from './commands/load.ts';
import { lookupCommand } from './commands/lookup.ts';
import { parseCommand } from './commands/parse.ts';
import { verifyCommand } from './commands/verify.ts';

/** The CLI's version, from packages/cli/package.json (works from src/ and dist/). */
export function alfVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

const COMMANDS: readonly CommandModule<object, never>[] = [
  analyzeCommand as unknown as CommandModule<object, never>,
  parseCommand as unknown as CommandModule<object, never>,
  lookupCommand as unknown as CommandModule<object, never>,
  formatsCommand as unknown as CommandModule<object, never>,
  verifyCommand as unknown as CommandModule<object, never>,
  loadCommand as unknown as CommandModule<object, never>,
];

/** Flags of every command, for "did you mean" on unknown ones. */
// Keep in step with the command modules' options.
const KNOWN_FLAGS = ['format', 'tz', 'to', 'output', 'max-line-bytes', 'max-reject-ratio', 'quiet', 'config', 'help', 'version', 'csv', 'asn-db', 'geo-db',
  'from', 'out', 'force', 'sensitivity', 'min-requests', 'trusted-proxy', 'vhost', 'max-decompressed-bytes',
  'url', 'table', 'create', 'batch-rows', 'engine', 'columns'];

/**
 * `--from -30m` / `--to -2h` (relative to the end of the data) as `--from=-30m`: yargs would
 * otherwise read the value as short flags. Only values of that shape are joined.
 */
export function joinRelativeTimes(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    if ((a === '--from' || a === '--to') && next !== undefined && /^-(\d+[smhd])+$/i.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

const commandName = (c: CommandModule<object, never>): string => String(c.command).split(' ')[0]!;

/** The command named in `argv`, when it names one of ours (skipping the value of --config). */
function commandIn(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config') { i++; continue; }
    if (a.startsWith('-')) continue;
    return COMMANDS.some((c) => commandName(c) === a) ? a : undefined;
  }
  return undefined;
}

/** A yargs validation message, made to say what to do. */
function usageMessage(message: string, argv: readonly string[], config: LoadedConfig | undefined): string {
  const command = /^Did you mean (.+)\?$/.exec(message);
  if (command) return `unknown command \`${argv.find((a) => !a.startsWith('-')) ?? ''}\` (did you mean \`${command[1]}\`?)`;
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (unknown) {
    const names = unknown[1]!.split(', ');
    return names.map((n) => {
      const bare = n.replace(/^-+/, '');
      if (config && Object.hasOwn(config.values, bare) && !argv.some((a) => a === `--${bare}` || a.startsWith(`--${bare}=`))) {
        return `${configKeyName(config, bare)} is not an option of \`alf ${config.command}\`${didYouMean(bare, KNOWN_FLAGS)}`;
      }
      const match = closest(bare, KNOWN_FLAGS);
      return `unknown option or command \`${n}\`${match ? ` (did you mean \`--${match}\`?)` : ''}`;
    }).join('\n');
  }
  return message;
}

function build(argv: string[], ctx: CommandContext): Argv<object> {
  let y: Argv<object> = yargs(argv)
    .scriptName('alf')
    .usage('$0 <command> [options]\n\nAccess-log forensics: parse nginx/Apache access logs, find bursts, attribute clients.')
    .version(ctx.version)
    .option('quiet', { alias: 'q', type: 'boolean', global: true, describe: 'no progress and no summary on stderr (warnings and errors still)' })
    .option('config', { type: 'string', global: true, describe: 'options from a JSON file, one section per command (default: ./alf.config.json when present)' })
    .help()
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'name a command, e.g. `alf parse access.log`')
    .recommendCommands()
    .completion('completion', 'print a bash/zsh completion script (alf completion >> ~/.bashrc)')
    .example('alf parse access.log.gz --to csv > records.csv', 'parse a log into CSV records')
    .example('zcat access.log.*.gz | alf parse - --to ndjson | head', 'read standard input')
    .epilogue('Exit status: 0 success, 1 completed with warnings, 2 usage error, 3 input unreadable, 4 output unwritable, 130/143 interrupted.')
    .wrap(Math.min(110, ctx.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message: string | null | undefined, error: Error | undefined) => {
      if (error) throw error;
      throw new AlfError('ALF_USAGE', usageMessage(message ?? 'bad usage', argv, ctx.config), { showHelp: true });
    });
  for (const command of COMMANDS) y = y.command(command);
  if (ctx.config) y = y.config(ctx.config.values as Record<string, unknown>);
  // yargs renders a command's whole help (cliui, wrap-ansi, string-width) before running it, in case
  // the handler asks for it; alf never does (usage errors print `usageText`, built afresh): 40-80 ms
  // of CPU in the profiles of a small run. Angular CLI does the same (angular/angular-cli#34087).
  const usage = (y as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } })
    .getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = (): void => undefined;
  return y;
}

/** The help text of the command named in `argv` (or of `alf`), for usage errors; never printed on stdout. */
async function usageText(argv: readonly string[], ctx: CommandContext): Promise<string> {
  const command = argv.find((a) => !a.startsWith('-'));
  const args = command && COMMANDS.some((c) => commandName(c) === command) ? [command, '--help'] : ['--help'];
  return new Promise((resolve) => {
    void build(args, ctx).parse(args, { alf: ctx }, (_err: unknown, _argv: unknown, output: string) => resolve(output));
  });
}

function ignoreError(): void {}

/** Runs `alf` with `argv` (without `node` and the script); resolves to the exit status. */
export async function main(rawArgv: string[], io: Partial<Pick<CommandContext, 'stdin' | 'stdout' | 'stderr'>> = {}): Promise<number> {
  boundHeapGrowth();
  const argv = joinRelativeTimes(rawArgv);
  const controller = new AbortController();
  let code: number = EXIT.ok;
  const mutable: { config?: LoadedConfig | undefined } = {};
  const ctx: CommandContext = {
    stdin: io.stdin ?? process.stdin,
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    signal: controller.signal,
    version: alfVersion(),
    setExitCode: (c) => { code = c; },
    get config() { return mutable.config; },
  };
  const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
    if (controller.signal.aborted) process.exit(exitCodeForSignal(signal)); // second signal: stop now
    controller.abort(signal);
  };
  const onSigint = (): void => onSignal('SIGINT');
  const onSigterm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  // A closed stdout pipe is handled where data is written; never crash on a late EPIPE
  // (the listener stays: writes may fail after main has returned, e.g. `alf --help | head -1`).
  if (!ctx.stdout.listeners('error').includes(ignoreError)) ctx.stdout.on('error', ignoreError);

  try {
    const command = commandIn(argv);
    if (command !== undefined && !argv.some((a) => a === '--help' || a === '-h' || a === '--version')) {
      mutable.config = await loadConfig(argv, command, COMMANDS.map(commandName));
    }
    // With a callback yargs hands over what it would print (help, version, completion) instead of
    // printing it on process.stdout; it goes to the command's stdout.
    // Shell completion (`--get-yargs-completions`, run by the completion script) prints itself.
    let printed = '';
    const y = build(argv, ctx);
    if (argv.includes('--get-yargs-completions')) await y.parseAsync(argv, { alf: ctx });
    else await y.parseAsync(argv, { alf: ctx }, (_error: unknown, _args: unknown, output: string) => { printed = output; });
    if (printed) ctx.stdout.write(printed.endsWith('\n') ? printed : `${printed}\n`);
    return code;
  } catch (error) {
    if (controller.signal.aborted) {
      return exitCodeForSignal(controller.signal.reason as 'SIGINT' | 'SIGTERM');
    }
    const exit = exitCodeForError(error);
    const { terminalSafe } = await import('./terminal-text.ts');
    if (isAlfError(error)) {
      const style = styleFor(ctx.stderr);
      ctx.stderr.write(error.message.split('\n').map((line) => `${style.error('alf:')} ${terminalSafe(line, 1000)}\n`).join(''));
      if (exit === EXIT.usage && error.context['showUsage'] === true) ctx.stderr.write(`\n${await usageText(argv, ctx)}\n`);
      else if (exit === EXIT.usage && error.context['showHelp'] === true) ctx.stderr.write('run `alf --help` for usage\n');
    } else {
      ctx.stderr.write(`alf: internal error: ${(error as Error | undefined)?.stack ?? String(error)}\n`);
    }
    return exit;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}

/** `pnpm alf …` runs this file directly (through tsx); bin/alf.js imports `main` instead. */
function runDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (runDirectly()) {
  process.exitCode = await main(process.argv.slice(2));
}
