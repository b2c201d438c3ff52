/**
 * How to start one of alf's worker-thread modules: the built `.js` beside this
 * file, or, running from the TypeScript sources (tsx, vitest), the `.ts` module
 * loaded through tsx registered in the worker first.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export interface WorkerEntry {
  readonly entry: URL | string;
  readonly eval: boolean;
  readonly execArgv: string[];
}

/** `module`: the worker module's path relative to this file, without extension (e.g. `./analyze-worker`). */
export function workerEntry(module: string): WorkerEntry {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // tsx's ESM API (its `import` export of tsx/esm/api; require.resolve would give the CommonJS one).
    const tsxApi = new URL('dist/esm/api/index.mjs', pathToFileURL(createRequire(here).resolve('tsx/package.json'))).href;
    const source = new URL(`${module}.ts`, here).href;
    const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(source)}); });`;
    return { entry: code, eval: true, execArgv: ['--conditions=alf-source'] };
  }
  return { entry: new URL(`${module}.js`, here), eval: false, execArgv: [] };
}
