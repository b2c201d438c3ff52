/**
 * Builds (or checks) the embedded ASN table cache ahead of the first run:
 *   pnpm --filter @alf/geo asn-cache [CACHE_DIR]
 * Without CACHE_DIR it uses the same directory as `openGeo` ($ALF_CACHE_DIR,
 * $XDG_CACHE_HOME/alf or ~/.cache/alf). `openGeo` builds the cache on first use anyway.
 */
import { defaultCacheDir, loadEmbeddedAsn } from './embedded-data.ts';

const dir = process.argv[2] ?? defaultCacheDir(process.env);
const started = performance.now();
const asn = loadEmbeddedAsn(dir);
const ms = Math.round(performance.now() - started);
process.stdout.write(
  `${asn.built ? 'built' : 'already cached'}: ${asn.path} (${asn.sizeBytes} bytes, ${asn.table.header.v4Count} IPv4 + ` +
    `${asn.table.header.v6Count} IPv6 ranges, ${ms} ms)\n`,
);
for (const note of asn.notes) process.stderr.write(`note: ${note}\n`);
