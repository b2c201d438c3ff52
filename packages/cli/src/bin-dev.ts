/**
 * Development entry: runs the TypeScript sources (tests spawn this through a
 * real pipe): `node --conditions=alf-source --import tsx packages/cli/src/bin-dev.ts …`.
 */
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
