/** Test-only in-memory GeoLookup: first rule whose `startsWith` prefix matches the IP. */
import type { GeoAnswer, GeoLookup } from '@alf/geo';
import { networkKey } from './split-window.ts';

export interface GeoRule {
  readonly startsWith: string;
  readonly asn: number;
  readonly asOrg: string;
  readonly country: string;
}

export const TEST_GEO_RULES: readonly GeoRule[] = [
  { startsWith: '66.249.', asn: 15169, asOrg: 'GOOGLE', country: 'US' },
  { startsWith: '157.55.', asn: 8075, asOrg: 'MICROSOFT-CORP-MSN-AS-BLOCK', country: 'US' },
  { startsWith: '203.0.113.', asn: 14061, asOrg: 'DIGITALOCEAN-ASN', country: 'NL' },
  { startsWith: '198.51.100.', asn: 16509, asOrg: 'AMAZON-02', country: 'US' },
  { startsWith: '192.0.2.', asn: 24940, asOrg: 'Hetzner Online GmbH', country: 'DE' },
  { startsWith: '198.72.227.', asn: 20473, asOrg: 'AS-CHOOPA', country: 'US' },
];

export function memoryGeo(rules: readonly GeoRule[] = TEST_GEO_RULES): GeoLookup {
  return {
    lookup(ip: string): GeoAnswer {
      const r = rules.find((x) => ip.startsWith(x.startsWith));
      // Everything else: residential ISPs keyed by first octet.
      const first = Number(ip.split('.')[0]);
      const residential = Number.isFinite(first) && !ip.includes(':');
      return {
        asn: r?.asn ?? (residential ? 64500 + (first % 20) : null),
        asOrg: r?.asOrg ?? (residential ? `Residential Broadband ${first % 20}` : null),
        country: r?.country ?? (residential ? ['DE', 'FR', 'US', 'BR', 'IN'][first % 5]! : null),
        continent: null, city: null, network: null,
        aggPrefix: networkKey(ip), label: null, error: false,
      };
    },
  };
}
