/**
 * A `--format` value (preset id, nginx log_format or Apache LogFormat string)
 * → a compiled line parser, once, at start-up.
 */
import { AlfError } from './errors.ts';
import type { FormatItem } from './format-fields.ts';
import { parseApacheFormat, parseNginxFormat } from './format-string.ts';
import { compileJsonParser, jsonTemplateFields } from './json-lines.ts';
import { compileLineParser } from './line-parser.ts';
import type { LineParser } from './line-parser.ts';
import { PRESET_ALIASES, PRESETS } from './presets.ts';
import type { Preset } from './presets.ts';
import { resolveTimeZone } from './time-zone.ts';
import type { TimeZone } from './time-zone.ts';
import type { FormatSpec } from './types.ts';

export interface CompileOptions {
  /** IANA zone or ±HH:MM for times without offset (default UTC). */
  readonly tz?: string | undefined;
  /** First lines of the input (JSON lines declare their extra columns from them). */
  readonly sample?: readonly string[] | undefined;
}

export interface CompiledFormat {
  readonly spec: FormatSpec;
  readonly parser: LineParser;
  readonly timeZone: TimeZone;
}

const NO_TZ_KINDS = new Set(['time_msec', 'time_int']);

function needsTz(items: readonly FormatItem[]): boolean {
  for (const it of items) {
    if (!('field' in it)) continue;
    const k = it.field.kind;
    if (NO_TZ_KINDS.has(k)) return false;
    if (k === 'time_clf' || k === 'time_iso') return false; // carry their own offset (a missing one falls back to tz)
    if (k === 'time_strftime') return !/%[zs]/.test(it.field.pattern ?? '');
  }
  return false;
}

function presetSpec(p: Preset, needs: boolean): FormatSpec {
  return { id: p.id, description: p.description, source: p.source, sampleLines: p.sampleLines, needsTz: needs };
}

/** All presets, for `alf formats`. */
export function listFormats(): FormatSpec[] {
  return PRESETS.map((p) => {
    const needs = p.flavor === 'nginx' ? needsTz(parseNginxFormat(p.source).items)
      : p.flavor === 'apache' ? needsTz(parseApacheFormat(p.source).items) : false;
    return presetSpec(p, needs);
  });
}

function distance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j] as number;
      d[j] = Math.min((d[j] as number) + 1, (d[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length] as number;
}

export function findPreset(name: string): Preset | undefined {
  const id = PRESET_ALIASES[name] ?? name;
  return PRESETS.find((p) => p.id === id);
}

function compilePreset(p: Preset, tz: TimeZone, sample: readonly string[] | undefined): CompiledFormat {
  if (p.flavor === 'json') {
    return { spec: presetSpec(p, false), parser: compileJsonParser(tz, { sample: sample ?? p.sampleLines }), timeZone: tz };
  }
  const parsed = p.flavor === 'nginx' ? parseNginxFormat(p.source) : parseApacheFormat(p.source);
  return { spec: presetSpec(p, needsTz(parsed.items)), parser: compileLineParser(parsed.items, tz), timeZone: tz };
}

/** Compile a `--format` value. Throws AlfError ALF_FORMAT_UNKNOWN / ALF_FORMAT_INVALID / ALF_TZ_INVALID. */
export function compileFormat(spec: string, opts: CompileOptions = {}): CompiledFormat {
  const tz = resolveTimeZone(opts.tz);
  const trimmed = spec.trim();
  const preset = findPreset(trimmed);
  if (preset !== undefined) return compilePreset(preset, tz, opts.sample);
  const nginxLike = /^log_format\s/.test(trimmed) || /\$\{?[a-z_]/.test(trimmed);
  const apacheLike = /^LogFormat\s/i.test(trimmed) || /%[!<>0-9,]*(\{[^}]*\})?[<>]?[a-zA-Z]/.test(trimmed);
  if (nginxLike && !/^LogFormat\s/i.test(trimmed)) {
    const parsed = parseNginxFormat(trimmed);
    const id = `nginx:${parsed.text}`;
    if (parsed.json) {
      const keyFields = jsonTemplateFields(parsed.text);
      if (keyFields === null) throw new AlfError('ALF_FORMAT_INVALID', 'nginx JSON log_format: no "key":"$variable" pairs found', { given: spec });
      return {
        spec: { id, description: 'nginx JSON log_format', source: spec, sampleLines: [], needsTz: false },
        parser: compileJsonParser(tz, { keyFields }), timeZone: tz,
      };
    }
    return {
      spec: { id, description: 'nginx log_format', source: spec, sampleLines: [], needsTz: needsTz(parsed.items) },
      parser: compileLineParser(parsed.items, tz), timeZone: tz,
    };
  }
  if (apacheLike) {
    const parsed = parseApacheFormat(trimmed);
    return {
      spec: { id: `apache:${parsed.text}`, description: 'Apache LogFormat', source: spec, sampleLines: [], needsTz: needsTz(parsed.items) },
      parser: compileLineParser(parsed.items, tz), timeZone: tz,
    };
  }
  const names = [...PRESETS.map((p) => p.id), ...Object.keys(PRESET_ALIASES)];
  const best = names.map((n) => [n, distance(trimmed.toLowerCase(), n)] as const).sort((a, b) => a[1] - b[1])[0];
  const hint = best !== undefined && best[1] <= 3 ? ` (did you mean \`${best[0]}\`?)` : '';
  throw new AlfError('ALF_FORMAT_UNKNOWN',
    `--format must be a preset (${PRESETS.map((p) => p.id).join(', ')}), an nginx log_format or an Apache LogFormat string; got \`${spec}\`${hint}`,
    { given: spec, expected: PRESETS.map((p) => p.id) });
}

/** Compiled presets tried by auto-detection, in tie-break order. */
export function detectionCandidates(tz: TimeZone, sample: readonly string[]): CompiledFormat[] {
  return PRESETS.filter((p) => p.detect).map((p) => compilePreset(p, tz, sample));
}
