/**
 * `manifest.json`: what a pack was made from and what is in it.
 *
 * Determinism: apart from `run.startedAt`/`run.finishedAt`, the manifest of
 * two runs with the same inputs, options and tool version is byte-identical.
 * Top-level keys come in a fixed order (below); every nested object has its
 * keys sorted; `files` is sorted by path; `inputs` and `databases` keep the
 * caller's order (command-line order is meaningful); `argv` is as given.
 * Strings are escaped like `safeJsonStringify` (U+2028/U+2029, `<`, `>`, `&`
 * as `\uXXXX`). Two-space indent, trailing newline.
 */
import type { DecodeReport } from '@alf/parser';
import { AlfError } from '@alf/parser';

export const MANIFEST_NAME = 'manifest.json';
export const PACK_FORMAT = 'alf-evidence-pack';
export const PACK_FORMAT_VERSION = 1;

/**
 * `complete`: the run ended normally. `interrupted`: stopped by a signal, or
 * the process died before writing its final manifest (a placeholder with this
 * status is written when the pack is created). `partial`: the run ended but
 * some output could not be written or some input was cut short (for example
 * `--max-decompressed-bytes`).
 */
export type PackStatus = 'complete' | 'interrupted' | 'partial';

/** Values the canonical serialiser accepts (bigint is written as a JSON number). */
export type JsonValue = null | boolean | number | bigint | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue | undefined;
}

export interface ManifestInput {
  /** As given on the command line; `-` for standard input. */
  readonly path: string;
  readonly stdin: boolean;
  /** Bytes read from the source, as stored (compressed bytes for gzip). */
  readonly size: number;
  /** SHA-256 (lowercase hex) of exactly those `size` bytes. */
  readonly sha256: string;
  /** True when the input was read to its end. */
  readonly complete: boolean;
  /** How the bytes were decoded: compression, members, flags (`truncated`, `changed`, …), notes. */
  readonly decode?: DecodeReport;
}

export interface ManifestFile {
  /** Relative path inside the pack, `/`-separated. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface PackManifest {
  readonly format: typeof PACK_FORMAT;
  readonly formatVersion: number;
  readonly status: PackStatus;
  readonly statusReason: string | null;
  readonly tool: { readonly name: string; readonly version: string };
  readonly command: { readonly argv: readonly string[]; readonly options: JsonObject };
  readonly inputs: readonly ManifestInput[];
  /** Free-form, one object per database (type, build date, SHA-256, source …). */
  readonly databases: readonly JsonObject[];
  readonly counts: JsonObject;
  readonly notes: readonly string[];
  /** Every file of the pack except the manifest itself, sorted by path. */
  readonly files: readonly ManifestFile[];
  /** The only non-deterministic content of a pack. ISO-8601 UTC. */
  readonly run: { readonly startedAt: string; readonly finishedAt: string | null };
}

export interface ManifestParts {
  status: PackStatus;
  statusReason?: string | null;
  tool: { name: string; version: string };
  argv: readonly string[];
  options?: JsonObject;
  inputs?: readonly ManifestInput[];
  databases?: readonly JsonObject[];
  counts?: JsonObject;
  notes?: readonly string[];
  files: readonly ManifestFile[];
  startedAt: Date;
  finishedAt: Date | null;
}

/** Assembles a manifest; sorts `files` by path. */
export function buildManifest(p: ManifestParts): PackManifest {
  const files = [...p.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    format: PACK_FORMAT,
    formatVersion: PACK_FORMAT_VERSION,
    status: p.status,
    statusReason: p.statusReason ?? null,
    tool: { name: p.tool.name, version: p.tool.version },
    command: { argv: [...p.argv], options: p.options ?? {} },
    inputs: [...(p.inputs ?? [])],
    databases: [...(p.databases ?? [])],
    counts: p.counts ?? {},
    notes: [...(p.notes ?? [])],
    files: files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
    run: { startedAt: p.startedAt.toISOString(), finishedAt: p.finishedAt ? p.finishedAt.toISOString() : null },
  };
}

const TOP_LEVEL_ORDER = [
  'format', 'formatVersion', 'status', 'statusReason', 'tool', 'command', 'inputs', 'databases', 'counts', 'notes',
  'files', 'run',
] as const;

/** The manifest as deterministic JSON text (see the module comment). */
export function serializeManifest(m: PackManifest): string {
  const record = m as unknown as Record<string, JsonValue>;
  const lines = TOP_LEVEL_ORDER.map((k) => `  ${jsonString(k)}: ${canonicalValue(record[k] ?? null, '  ', [])}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}

/**
 * Deterministic JSON: object keys sorted (UTF-16 code unit order), two-space
 * indent, `undefined` members left out, bigint as a plain JSON number, strings
 * escaped as in `safeJsonStringify`. Throws on non-finite numbers, cycles and
 * values JSON cannot hold.
 */
export function canonicalJson(value: JsonValue): string {
  return canonicalValue(value, '', []) + '\n';
}

function jsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u2028\u2029<>&]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function canonicalValue(v: JsonValue | undefined, indent: string, stack: object[]): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw internal(`manifest value ${v} is not a finite number`);
      return JSON.stringify(v);
    case 'bigint':
      return v.toString();
    case 'string':
      return jsonString(v);
    case 'object':
      break;
    default:
      throw internal(`manifest value of type ${typeof v} cannot be written as JSON`);
  }
  if (stack.includes(v)) throw internal('manifest value contains a cycle');
  const inner = indent + '  ';
  stack.push(v);
  try {
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      const items = (v as readonly JsonValue[]).map((x) => inner + canonicalValue(x, inner, stack));
      return `[\n${items.join(',\n')}\n${indent}]`;
    }
    const obj = v as JsonObject;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    if (keys.length === 0) return '{}';
    const items = keys.map((k) => `${inner}${jsonString(k)}: ${canonicalValue(obj[k], inner, stack)}`);
    return `{\n${items.join(',\n')}\n${indent}}`;
  } finally {
    stack.pop();
  }
}

function internal(message: string): AlfError {
  return new AlfError('ALF_INTERNAL', message);
}

const SHA256_RE = /^[0-9a-f]{64}$/;
const STATUSES: readonly string[] = ['complete', 'interrupted', 'partial'];

/**
 * Parses and checks a manifest's shape (format marker, status, files with
 * path/size/sha256, inputs with path/size/sha256). Throws
 * `AlfError('ALF_INPUT_UNREADABLE')` naming what is wrong; `where` is the file
 * path used in messages.
 */
export function parseManifest(text: string, where: string = MANIFEST_NAME): PackManifest {
  const bad = (what: string): AlfError =>
    new AlfError('ALF_INPUT_UNREADABLE', `${where} is not an alf manifest: ${what}`, { path: where, reason: what });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw bad(`invalid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('not a JSON object');
  const m = raw as Record<string, unknown>;
  if (m['format'] !== PACK_FORMAT) throw bad(`"format" is not "${PACK_FORMAT}"`);
  if (typeof m['formatVersion'] !== 'number') throw bad('"formatVersion" is missing');
  if (typeof m['status'] !== 'string' || !STATUSES.includes(m['status'])) throw bad('"status" is not complete, interrupted or partial');
  if (!Array.isArray(m['files'])) throw bad('"files" is not an array');
  (m['files'] as unknown[]).forEach((f, i) => {
    const o = f as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null || typeof o['path'] !== 'string') throw bad(`files[${i}].path is missing`);
    if (!Number.isSafeInteger(o['size']) || (o['size'] as number) < 0) throw bad(`files[${i}].size is not a size`);
    if (typeof o['sha256'] !== 'string' || !SHA256_RE.test(o['sha256'])) throw bad(`files[${i}].sha256 is not a SHA-256`);
  });
  if (!Array.isArray(m['inputs'])) throw bad('"inputs" is not an array');
  (m['inputs'] as unknown[]).forEach((f, i) => {
    const o = f as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null || typeof o['path'] !== 'string') throw bad(`inputs[${i}].path is missing`);
    if (!Number.isSafeInteger(o['size']) || (o['size'] as number) < 0) throw bad(`inputs[${i}].size is not a size`);
    if (typeof o['sha256'] !== 'string' || !SHA256_RE.test(o['sha256'])) throw bad(`inputs[${i}].sha256 is not a SHA-256`);
  });
  return raw as PackManifest;
}
