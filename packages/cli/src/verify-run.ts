/**
 * What `alf verify` does (definition in commands/verify.ts): runs the report
 * package's `verifyPack` and prints one line per problem, or OK.
 */
import { z } from 'zod';
import { AlfError } from '@alf/parser';
import { verifyPack } from '@alf/report';
import type { VerifyResult } from '@alf/report';
import type { VerifyArgs } from './commands/verify.ts';
import { EXIT } from './exit-codes.ts';
import { validateOptions } from './options.ts';
import { terminalSafe } from './terminal-text.ts';

function verifyOptionsSchema() {
  return z.object({
    pack: z.string({ error: '`alf verify` needs the pack directory, e.g. `alf verify alf-access.log-…`' }),
    inputs: z.array(z.string()).default([]),
    quiet: z.boolean({ error: '`--quiet` takes no value' }).default(false),
  });
}

const short = (sha: string | null): string => (sha === null ? 'unreadable' : `${sha.slice(0, 16)}…`);
const safe = (s: string): string => terminalSafe(s, 300);

/** The report as lines: problems first, then a verdict line. */
export function verifyReport(r: VerifyResult): string[] {
  const out: string[] = [];
  for (const e of r.errors) out.push(`error: ${safe(e)}`);
  for (const c of r.changed) {
    out.push(c.reason === 'not_a_file'
      ? `changed: ${safe(c.path)} (not a regular file any more)`
      : `changed: ${safe(c.path)} (sha256 ${short(c.expectedSha256)} → ${short(c.actualSha256)}, ${c.expectedSize} → ${c.actualSize ?? '?'} bytes)`);
  }
  for (const m of r.missing) out.push(`missing: ${safe(m)}`);
  for (const x of r.extra) out.push(`extra: ${safe(x)} (not listed in manifest.json)`);
  for (const i of r.inputs) {
    const what = i.status === 'ok' ? 'input ok' : i.status === 'changed' ? 'input changed' : i.status === 'unknown' ? 'input not in the pack' : 'input unreadable';
    const matched = i.matched !== null && i.matched !== i.given ? ` (recorded as ${safe(i.matched === '-' ? 'standard input' : i.matched)})` : '';
    out.push(`${what}: ${safe(i.given)}${matched}${i.detail ? `: ${safe(i.detail)}` : ''}`);
  }
  const problems = r.errors.length + r.changed.length + r.missing.length + r.extra.length + r.inputs.filter((i) => i.status !== 'ok').length;
  if (problems === 0) {
    const inputs = r.inputs.length > 0 ? ` and ${r.inputs.length} input${r.inputs.length === 1 ? '' : 's'}` : '';
    out.push(r.status === 'complete'
      ? `OK: ${safe(r.dir)}: ${r.checked} file${r.checked === 1 ? '' : 's'}${inputs} as recorded in manifest.json`
      : `INTACT BUT ${String(r.status).toUpperCase()}: ${safe(r.dir)}: ${r.checked} files as recorded, but the run that wrote the pack is marked ${r.status}${r.manifest?.statusReason ? ` (${safe(r.manifest.statusReason)})` : ''}`);
  } else {
    out.push(`FAILED: ${safe(r.dir)}: ${problems} problem${problems === 1 ? '' : 's'} (${r.checked} files listed in manifest.json)`);
  }
  return out;
}

export async function runVerify(args: VerifyArgs): Promise<number> {
  const ctx = args.alf;
  const opts = validateOptions(verifyOptionsSchema(), args);
  const result = await verifyPack(opts.pack, { inputs: opts.inputs });
  const lines = verifyReport(result);
  const shown = opts.quiet && result.ok && result.status === 'complete' ? [] : lines;
  if (shown.length > 0) ctx.stdout.write(shown.map((l) => `${l}\n`).join(''));
  if (result.manifest === null) {
    throw new AlfError('ALF_INPUT_UNREADABLE', `cannot read the manifest of ${opts.pack}: ${result.errors.join('; ')}; is it a pack written by \`alf analyze\`?`, { path: opts.pack });
  }
  const differs = result.errors.length + result.changed.length + result.missing.length + result.extra.length > 0
    || result.inputs.some((i) => i.status === 'changed' || i.status === 'unknown');
  if (differs) return EXIT.warnings;
  if (result.inputs.some((i) => i.status === 'unreadable')) return EXIT.inputUnreadable;
  return result.status === 'complete' ? EXIT.ok : EXIT.warnings;
}
