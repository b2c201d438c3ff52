/**
 * Command options, validated once at the boundary with zod. Every message says
 * what was expected, what was given and what to do; mistyped names get a
 * "did you mean". A failure becomes one `AlfError('ALF_USAGE')` listing all problems.
 */
import { z } from 'zod';
import { AlfError } from '@alf/parser';
import { configKeyName } from './config.ts';
import type { CommandContext } from './context.ts';
import { didYouMean } from './did-you-mean.ts';

function shown(value: unknown): string {
  if (Array.isArray(value)) return `${value.length} values (${value.map((v) => `\`${String(v)}\``).join(', ')})`;
  if (value === undefined) return 'nothing';
  return `\`${String(value).slice(0, 120)}\``;
}

function givenTwice(flag: string, value: unknown): string | undefined {
  return Array.isArray(value) ? `\`${flag}\` was given more than once (${shown(value)}); give it once` : undefined;
}

/** One of fixed choices, with a did-you-mean suggestion. */
export function oneOf<const T extends readonly [string, ...string[]]>(flag: string, choices: T, hint = ''): z.ZodType<T[number]> {
  return z.enum(choices, {
    error: (issue) => givenTwice(flag, issue.input)
      ?? `\`${flag}\` must be one of ${choices.join(', ')}; got ${shown(issue.input)}${didYouMean(String(issue.input), choices)}${hint}`,
  });
}

/**
 * `--format`: a preset name or a pasted nginx `log_format` / Apache `LogFormat`
 * string. `problem` is the parser's own check (it knows presets and aliases):
 * undefined when the value compiles, else what is wrong.
 */
export function formatOption(problem: (value: string) => string | undefined): z.ZodType<string> {
  return z.string({ error: (issue) => givenTwice('--format', issue.input) ?? `\`--format\` needs a value; got ${shown(issue.input)}` })
    .superRefine((value, ctx) => {
      const message = problem(value);
      if (message !== undefined) ctx.addIssue({ code: 'custom', message: `${message}. Leave it out to detect the format from the first lines.` });
    });
}

const OFFSET = /^[+-](0\d|1[0-4]):?[0-5]\d$/;

/** True for an IANA zone name known to this Node (Intl) or a ±HH:MM offset. */
export function isValidTz(value: string): boolean {
  if (value === 'UTC' || value === 'Z' || OFFSET.test(value)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const COMMON_ZONES = ['UTC', 'Europe/London', 'Europe/Berlin', 'Europe/Paris', 'America/New_York', 'America/Chicago',
  'America/Los_Angeles', 'Asia/Tokyo', 'Asia/Shanghai', 'Asia/Kolkata', 'Australia/Sydney'];

export const tzOption: z.ZodType<string> = z.string({ error: (issue) => givenTwice('--tz', issue.input) ?? `\`--tz\` needs a value; got ${shown(issue.input)}` })
  .refine(isValidTz, {
    error: (issue) => {
      const given = String(issue.input);
      const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : COMMON_ZONES;
      return `\`--tz\` must be an IANA time zone (e.g. Europe/Berlin) or an offset like +02:00; got ${shown(given)}${didYouMean(given, zones)}`;
    },
  });

const SIZE = /^(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i;
const UNIT: Record<string, number> = { b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** A byte size: `1048576`, `512KiB`, `1MiB` (binary units), within [min, max]. */
export function byteSizeOption(flag: string, min: number, max: number): z.ZodType<number> {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const m = SIZE.exec(String(value).trim());
    const bytes = m ? Number(m[1]) * UNIT[(m[2] ?? 'b').toLowerCase()]! : NaN;
    if (!(bytes >= min && bytes <= max)) {
      ctx.addIssue({ code: 'custom', message: `\`${flag}\` must be a size from ${min} bytes to ${max / 1024 ** 2} MiB (e.g. 1048576, 512KiB, 4MiB); got ${shown(value)}` });
      return z.NEVER;
    }
    return bytes;
  });
}

/** A fraction in [0, 1] (`0.05` or `5%`). */
export function ratioOption(flag: string): z.ZodType<number> {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const s = String(value).trim();
    const n = s.endsWith('%') ? Number(s.slice(0, -1)) / 100 : Number(s);
    if (s === '' || !(n >= 0 && n <= 1)) {
      ctx.addIssue({ code: 'custom', message: `\`${flag}\` must be a fraction from 0 to 1 (e.g. 0.01 or 1%); got ${shown(value)}` });
      return z.NEVER;
    }
    return n;
  });
}

/**
 * Validates raw (yargs-parsed) options; throws one ALF_USAGE error naming every
 * problem. A value that came from the config file (`raw.alf.config`) is named by
 * its file and key rather than by its flag.
 */
export function validateOptions<T>(schema: z.ZodType<T>, raw: unknown): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const args = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const config = (args['alf'] as CommandContext | undefined)?.config;
  const messages = result.error.issues.map((issue) => {
    const key = issue.path.length > 0 ? String(issue.path[0]) : undefined;
    const fromConfig = config !== undefined && key !== undefined && Object.hasOwn(config.values, key)
      && JSON.stringify(config.values[key]) === JSON.stringify(args[key]);
    return fromConfig ? `${configKeyName(config, key)}: ${issue.message}` : issue.message;
  });
  throw new AlfError('ALF_USAGE', messages.join('\n'), { issues: messages });
}
