#!/usr/bin/env node
// `pnpm demo` (after `pnpm build`): runs the built `alf` on bundled real data and
// leaves the output under alf-out/. A later issue switches this to `alf analyze`.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// secrepo.com's own web server, 15 Dec 2018 (CC BY 4.0, Mike Sconzo): 4,961 lines with a real burst.
const input = 'testdata/real/secrepo/access.log.2018-12-15.gz';
const output = join('alf-out', 'access.log.2018-12-15.csv');

mkdirSync(join(root, 'alf-out'), { recursive: true });
console.log(`$ alf parse --to csv -o ${output} ${input}`);
const run = spawnSync(process.execPath, ['packages/cli/bin/alf.js', 'parse', '--to', 'csv', '-o', output, input], {
  cwd: root,
  stdio: 'inherit',
});
if (run.status !== 0 && run.status !== 1) {
  console.error(`demo: alf exited with status ${run.status ?? run.signal}`);
  process.exit(run.status ?? 1);
}
console.log(`\nThe parsed records are in ${relative(process.cwd(), join(root, output)) || output} (one row per request; open it in a spreadsheet or with csvlook).`);
