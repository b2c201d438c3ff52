#!/usr/bin/env node
// `pnpm demo` (after `pnpm build`): runs the built `alf analyze` on bundled real data and
// leaves the evidence pack under alf-out/ (replaced on each run).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// secrepo.com's own web server, 15 Dec 2018 (CC BY 4.0, Mike Sconzo): 4,961 lines with a real
// burst: 198.72.227.213 sends ~4,150 requests between 00:24 and 00:43 (-0800) on 16 Dec.
const input = 'testdata/real/secrepo/access.log.2018-12-15.gz';
const output = join('alf-out', 'secrepo-2018-12-15');

mkdirSync(join(root, 'alf-out'), { recursive: true });
console.log(`$ alf analyze ${input} --out ${output} --force`);
const run = spawnSync(process.execPath, ['packages/cli/bin/alf.js', 'analyze', input, '--out', output, '--force'], {
  cwd: root,
  stdio: 'inherit',
});
// 1 = completed with warnings (the embedded ASN/country data is years newer than this 2018 log).
if (run.status !== 0 && run.status !== 1) {
  console.error(`demo: alf exited with status ${run.status ?? run.signal}`);
  process.exit(run.status ?? 1);
}
const pack = relative(process.cwd(), join(root, output)) || output;
console.log(`\nThe evidence pack is in ${pack}/ (bursts.csv, attackers.csv, asns.csv, summary.md, manifest.json …).`);
console.log(`Check it later with: alf verify ${pack}\n`);
const summary = readFileSync(join(root, output, 'summary.md'), 'utf8').split('\n');
const start = summary.findIndex((l) => l === '## Bursts');
console.log(`--- ${pack}/summary.md (first lines) ---`);
console.log(summary.slice(0, 8).join('\n'));
if (start > 8) console.log(['…', ...summary.slice(start, start + 14)].join('\n'));
