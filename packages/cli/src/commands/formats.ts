/**
 * `alf formats [NAME]`: the preset formats (name, what it is), and how to paste
 * an nginx `log_format` or Apache `LogFormat` string instead. With a name: that
 * preset's format string and sample lines. Output is text on stdout.
 */
import type { Argv, CommandModule } from 'yargs';
import { AlfError, listFormats } from '@alf/parser';
import type { FormatSpec } from '@alf/parser';
import type { CommandContext } from '../context.ts';
import { didYouMean } from '../did-you-mean.ts';
import { EXIT } from '../exit-codes.ts';

export interface FormatsArgs {
  readonly name?: string | undefined;
  readonly alf: CommandContext;
}

const PASTE_HELP = [
  'Without --format, alf detects the format from the first lines of each input and says which it chose.',
  '',
  'Any other format: paste the format string from your server configuration, in single quotes:',
  `  nginx (the string after the name in nginx.conf's log_format):`,
  `    alf parse --format '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time' access.log`,
  `  Apache (the string of httpd.conf's LogFormat):`,
  `    alf parse --format '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D' access_log`,
  'Variables alf has no column for become extra columns named after them (extra_<name>).',
  'Times without an offset ($msec has one; some strftime patterns do not) are read in --tz (default UTC).',
];

function describe(spec: FormatSpec): string {
  return `${spec.description}${spec.needsTz ? ' (times without offset: use --tz)' : ''}`;
}

export function formatsText(name: string | undefined): string {
  const specs = listFormats();
  if (name === undefined) {
    const width = Math.max(...specs.map((s) => s.id.length));
    return [
      'Preset formats (alf parse --format NAME):',
      ...specs.map((s) => `  ${s.id.padEnd(width)}  ${describe(s)}`),
      '',
      ...PASTE_HELP,
      '',
      'alf formats NAME shows a preset\'s format string and sample lines.',
    ].join('\n') + '\n';
  }
  const spec = specs.find((s) => s.id === name);
  if (!spec) {
    const ids = specs.map((s) => s.id);
    throw new AlfError('ALF_USAGE', `no preset format \`${name}\`${didYouMean(name, ids)}; presets are ${ids.join(', ')}`, { given: name, expected: ids });
  }
  return [
    `${spec.id}: ${describe(spec)}`,
    ...(spec.source ? ['', 'Format string:', `  ${spec.source}`] : []),
    '',
    'Sample lines:',
    ...spec.sampleLines.map((l) => `  ${l}`),
  ].join('\n') + '\n';
}

export const formatsCommand: CommandModule<object, FormatsArgs> = {
  command: 'formats [name]',
  describe: 'List the preset log formats, and how to paste an nginx log_format or Apache LogFormat string',
  builder: (yargs: Argv<object>) => yargs
    .positional('name', { type: 'string', describe: 'a preset: show its format string and sample lines' })
    .example('alf formats', 'every preset, and how to paste your own format string')
    .example('alf formats nginx_main', 'the nginx "main" format and sample lines') as unknown as Argv<FormatsArgs>,
  handler: (args) => {
    args.alf.stdout.write(formatsText(args.name));
    args.alf.setExitCode(EXIT.ok);
  },
};
