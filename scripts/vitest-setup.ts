import fc from 'fast-check';

/**
 * fast-check seeds: random on a developer's machine (every run explores new
 * cases; a failure prints its seed and path), fixed in CI so that a landing
 * does not depend on luck. `FC_SEED=<n>` reproduces a run anywhere.
 */
const fromEnv = process.env['FC_SEED'];
if (fromEnv !== undefined && fromEnv !== '') fc.configureGlobal({ seed: Number(fromEnv) });
else if (process.env['CI']) fc.configureGlobal({ seed: 20_261_126 });
