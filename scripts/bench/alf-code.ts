/**
 * Which alf the bench measures. By default the built one (`pnpm build`: the
 * packages' dist/ and packages/cli/bin/alf.js), as a user runs it: no tsx in
 * the alf process or its worker threads (from source, every thread compiles
 * the TypeScript it loads: about +70 MB and +1 s per thread). `run.ts --source`
 * (env ALF_BENCH_SOURCE=1 for the steps) measures the TypeScript sources instead.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const fromSource = (): boolean => process.env['ALF_BENCH_SOURCE'] === '1';

/** Node arguments of a bench step script: it is TypeScript (tsx); `@alf/*` resolves to dist/ unless measuring the sources. */
export function stepArgs(): string[] {
  return fromSource() ? ['--conditions=alf-source', '--import', 'tsx'] : ['--import', 'tsx'];
}

/** Node arguments that run the `alf` command (followed by its own arguments). */
export function alfCommand(): string[] {
  if (fromSource()) return ['--conditions=alf-source', '--import', 'tsx', join(ROOT, 'packages/cli/src/main.ts')];
  const bin = join(ROOT, 'packages/cli/bin/alf.js');
  if (!existsSync(join(ROOT, 'packages/cli/dist/main.js'))) throw new Error('alf is not built: run `pnpm build` (or the bench with --source)');
  return [bin];
}
