#!/usr/bin/env node
// Installed entry point: runs the built CLI (pnpm build). During development use
// `pnpm alf …`, which runs the TypeScript sources directly.
import { main } from '../dist/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`alf: internal error: ${err?.stack ?? err}\n`); process.exitCode = 70; },
);
