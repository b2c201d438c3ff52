/**
 * A config file for options a team reuses: `alf.config.json` in the current
 * directory, or the file named by `--config`. One section per command, keys
 * spelt like the long options, e.g.
 *
 *   { "parse": { "format": "nginx_main", "tz": "Europe/Berlin" },
 *     "lookup": { "asn-db": "/srv/geo/GeoLite2-ASN.mmdb" },
 *     "analyze": { "trusted-proxy": ["10.0.0.0/8", "2001:db8::/32"], "vhost": "www.example.com" } }
 *
 * (`trustedProxy` works too: yargs reads camelCase keys as the long option.)
 *
 * The command line wins over the file. Values go through the same zod checks
 * as the command line (options.ts), and a problem names the file and the key.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AlfError } from '@alf/parser';
import { didYouMean } from './did-you-mean.ts';
import { inputError } from './inputs.ts';

export const CONFIG_FILE_NAME = 'alf.config.json';

export interface LoadedConfig {
  /** The file as the user would name it. */
  readonly path: string;
  /** The section of the command being run (`parse`, `lookup`, …). */
  readonly command: string;
  /** Option values of that section, by long option name. */
  readonly values: Readonly<Record<string, unknown>>;
}

/** `--config FILE` / `--config=FILE` from raw arguments (before yargs runs). */
export function configArgument(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return undefined;
    if (a === '--config') return argv[i + 1] ?? '';
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return undefined;
}

function usage(path: string, message: string): AlfError {
  return new AlfError('ALF_USAGE', `${path}: ${message}`, { config: path });
}

/**
 * Loads the config for `command`: the `--config` file (which must exist) or
 * `alf.config.json` in `cwd` when there is one. Undefined when there is none.
 */
export async function loadConfig(argv: readonly string[], command: string | undefined, commands: readonly string[], cwd: string = process.cwd()): Promise<LoadedConfig | undefined> {
  const named = configArgument(argv);
  const path = named ?? CONFIG_FILE_NAME;
  let text: string;
  try {
    text = await readFile(named ?? join(cwd, CONFIG_FILE_NAME), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (named === undefined && code === 'ENOENT') return undefined;
    if (code === 'ENOENT') throw new AlfError('ALF_INPUT_UNREADABLE', `cannot read config file \`${path}\`: no such file; check the --config path`, { config: path });
    throw inputError(path, error);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw usage(path, `not valid JSON (${(error as Error).message}); fix the file or pass another with --config`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw usage(path, `must be a JSON object with one section per command (${commands.map((c) => `"${c}"`).join(', ')})`);
  }
  for (const key of Object.keys(data)) {
    if (!commands.includes(key)) {
      throw usage(path, `unknown section \`${key}\`${didYouMean(key, commands)}; sections are named after commands: ${commands.join(', ')}`);
    }
  }
  if (command === undefined) return { path, command: '', values: {} };
  const section: unknown = (data as Record<string, unknown>)[command] ?? {};
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    throw usage(path, `section \`${command}\` must be an object of options, e.g. { "format": "combined" }`);
  }
  for (const key of ['config', 'help', 'version', '_', '$0', 'alf']) {
    if (key in section) throw usage(path, `\`${command}.${key}\` cannot be set in a config file`);
  }
  return { path, command, values: section as Record<string, unknown> };
}

/** Where a config value lives, for messages: `alf.config.json: \`parse.format\``. */
export function configKeyName(config: LoadedConfig, key: string): string {
  return `${config.path}: \`${config.command}.${key}\``;
}
