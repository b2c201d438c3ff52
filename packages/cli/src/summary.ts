/**
 * The accounting summary `alf parse` prints on stderr: per input and in total,
 * lines read = parsed + rejected, rejects by reason, the format chosen (and how
 * many sample lines it matched when detected), flags on damaged inputs, and the
 * first few rejects with their line numbers. Every input-derived string passes
 * through `terminalSafe`.
 */
import { REJECT_REASONS } from '@alf/parser';
import type { Accounting, DecodeReport, Reject, RejectReason } from '@alf/parser';
import { terminalSafe } from './terminal-text.ts';

/** What was learnt about one input after parsing it. */
export interface InputResult {
  readonly name: string;
  readonly sizeBytes: number | undefined;
  readonly sha256: string;
  /** False when reading stopped early (output closed, interrupted). */
  readonly complete: boolean;
  readonly accounting: Accounting;
  readonly decode: DecodeReport | undefined;
  /** Format id and how it was chosen. */
  readonly format: FormatChoice | undefined;
  /** Flags on the whole input (parser's InputFlags plus `changed`). */
  readonly flags: readonly string[];
  readonly notes: readonly string[];
}

export interface FormatChoice {
  readonly id: string;
  readonly detected: boolean;
  /** Sample lines that matched the chosen format, of `sampleLines`, when detected. */
  readonly sampleMatched?: number | undefined;
  readonly sampleLines?: number | undefined;
  /** Time zone applied to offset-less timestamps, when the format has none. */
  readonly tz?: string | undefined;
}

export function emptyAccounting(): Accounting {
  const byReason = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  return { linesRead: 0, parsed: 0, rejected: 0, byReason, bytesRead: 0 };
}

export function addAccounting(total: Accounting, part: Accounting): void {
  total.linesRead += part.linesRead;
  total.parsed += part.parsed;
  total.rejected += part.rejected;
  total.bytesRead += part.bytesRead;
  for (const [reason, n] of Object.entries(part.byReason) as [RejectReason, number][]) {
    total.byReason[reason] = (total.byReason[reason] ?? 0) + n;
  }
}

const n = (x: number): string => x.toLocaleString('en-US');
const plural = (count: number, word: string): string => `${n(count)} ${word}${count === 1 ? '' : 's'}`;

function reasons(a: Accounting): string {
  return Object.entries(a.byReason).filter(([, c]) => c > 0).sort((x, y) => y[1] - x[1]).map(([r, c]) => `${r} ${n(c)}`).join(', ');
}

function lineCounts(a: Accounting): string {
  return `${plural(a.linesRead, 'line')}: ${n(a.parsed)} parsed, ${n(a.rejected)} rejected`;
}

function describeFormat(f: FormatChoice | undefined): string {
  if (!f) return 'format unknown';
  if (f.id === 'none') return 'no format (no lines to detect it from)';
  let s = `format ${terminalSafe(f.id, 80)}`;
  if (f.detected) {
    s += f.sampleLines !== undefined ? ` (detected: ${n(f.sampleMatched ?? 0)} of ${plural(f.sampleLines, 'sample line')} matched)` : ' (detected)';
  }
  if (f.tz) s += `, times without offset read as ${terminalSafe(f.tz, 60)}`;
  return s;
}

export interface SummaryOptions {
  readonly command: string;
  readonly rejectSample: readonly Reject[];
  readonly rejectsTotal: number;
  readonly inputNames: readonly string[];
  /** Lines to add at the end (warnings, where output went). */
  readonly trailer?: readonly string[];
}

/** The summary as text lines (without colours). */
export function formatSummary(results: readonly InputResult[], options: SummaryOptions): string[] {
  const total = emptyAccounting();
  for (const r of results) addAccounting(total, r.accounting);
  const out: string[] = [`${options.command}: ${plural(results.length, 'input')}, ${lineCounts(total)}`];
  if (total.rejected > 0 && results.length > 1) out.push(`  rejected: ${reasons(total)}`);
  for (const r of results) {
    const d = r.decode;
    const how = d && d.compression !== 'none'
      ? `${d.compression}${d.members > 1 ? `, ${d.members} members` : ''}, ${n(d.bytesIn)} → ${n(d.bytesOut)} bytes`
      : `${n(r.accounting.bytesRead || r.sizeBytes || 0)} bytes`;
    out.push(`  ${terminalSafe(r.name === '-' ? '(standard input)' : r.name)} (${how}): ${describeFormat(r.format)}; ${lineCounts(r.accounting)}${r.complete ? '' : ' (stopped early)'}`);
    if (r.accounting.rejected > 0) out.push(`    rejected: ${reasons(r.accounting)}`);
    if (r.flags.length > 0) out.push(`    flagged: ${r.flags.join(', ')}${r.notes.length > 0 ? ` (${r.notes.map((x) => terminalSafe(x, 160)).join('; ')})` : ''}`);
    out.push(`    sha256 ${r.sha256}`);
  }
  if (options.rejectSample.length > 0) {
    out.push(`first rejects (${n(options.rejectSample.length)} of ${n(options.rejectsTotal)}):`);
    for (const j of options.rejectSample) {
      const where = `${terminalSafe(options.inputNames[j.input] ?? String(j.input), 80)}:${j.line} (byte ${n(j.byteOffset)})`;
      out.push(`  ${where} ${j.reason}: ${terminalSafe(j.detail, 120)} — "${terminalSafe(j.excerpt, 80)}"`);
    }
  }
  if (options.trailer) out.push(...options.trailer);
  return out;
}
