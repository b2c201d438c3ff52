import { describe, expect, test } from 'vitest';
import { asnValue, cleanText, compileExtractor, detectLayout } from './record-fields.ts';

const GEOLITE_CITY = {
  city: { geoname_id: 2643743, names: { en: 'London', de: 'London' } },
  continent: { code: 'EU', names: { en: 'Europe' } },
  country: { iso_code: 'GB', names: { en: 'United Kingdom' } },
  registered_country: { iso_code: 'US' },
};
const GEOLITE_ASN = { autonomous_system_number: 15169, autonomous_system_organization: 'Google LLC' };
// IPinfo Lite: `country` is the name, `country_code` the ISO code, `asn` a string
const IPINFO_LITE = {
  asn: 'AS13335', as_name: 'Cloudflare, Inc.', as_domain: 'cloudflare.com',
  country_code: 'AU', country: 'Australia', continent_code: 'OC', continent: 'Oceania',
};
// IPinfo country_asn: `country` is the ISO code
const IPINFO_COUNTRY_ASN = { asn: 'AS15169', name: 'Google LLC', domain: 'google.com', country: 'US', continent: 'NA' };
const FLAT = { country_code: 'de', asn: 3320, as_name: 'Deutsche Telekom AG' };
const ENTERPRISE = { country: { iso_code: 'US' }, traits: { autonomous_system_number: 14671, autonomous_system_organization: 'FairPoint' } };

describe('detectLayout + compileExtractor', () => {
  test.for([
    ['GeoLite2-City', GEOLITE_CITY, { asn: null, asOrg: null, asDomain: null, country: 'GB', continent: 'EU', city: 'London' }, ['country', 'continent', 'city']],
    ['GeoLite2-ASN', GEOLITE_ASN, { asn: 15169, asOrg: 'Google LLC', asDomain: null, country: null, continent: null, city: null }, ['asn', 'as_org']],
    ['ipinfo lite', IPINFO_LITE, { asn: 13335, asOrg: 'Cloudflare, Inc.', asDomain: 'cloudflare.com', country: 'AU', continent: 'OC', city: null }, ['asn', 'as_org', 'as_domain', 'country', 'continent']],
    ['ipinfo country_asn', IPINFO_COUNTRY_ASN, { asn: 15169, asOrg: null, asDomain: null, country: 'US', continent: 'NA', city: null }, ['asn', 'country', 'continent']],
    ['custom', FLAT, { asn: 3320, asOrg: 'Deutsche Telekom AG', asDomain: null, country: 'DE', continent: null, city: null }, ['asn', 'as_org', 'country']],
    ['GeoIP2-Enterprise', ENTERPRISE, { asn: 14671, asOrg: 'FairPoint', asDomain: null, country: 'US', continent: null, city: null }, ['asn', 'as_org', 'country']],
  ] as const)('%s records', ([type, record, fields, answers]) => {
    const layout = detectLayout(type, [record]);
    expect(layout.answers).toEqual(answers);
    expect(compileExtractor(layout)(record)).toEqual(fields);
  });

  test('the database type decides only when no record could be read', () => {
    expect(detectLayout('GeoIP2-City', []).answers).toEqual(['country', 'continent', 'city']);
    expect(detectLayout('DBIP-ASN-Lite (compat=GeoLite2-ASN)', []).answers).toEqual(['asn', 'as_org']);
    expect(detectLayout('Test', [{ ip: 'test' }]).answers).toEqual([]);
    expect(detectLayout('GeoIP2-City', [{ ip: 'x' }]).answers).toEqual([]); // records win over the name
  });

  test('non-object records and hostile values give empty fields, never a throw', () => {
    const extract = compileExtractor(detectLayout('GeoIP2-City', [GEOLITE_CITY, GEOLITE_ASN]));
    for (const r of ['::/64', 42, null, [1, 2], { country: 'not-a-code' }, { country: { iso_code: 7 } }, { city: { names: 5 } }]) {
      expect(() => extract(r)).not.toThrow();
    }
    expect(extract({ country: { iso_code: 'GB' }, city: { names: { en: 'Lon\u001b[2Jdon\u202e' } } })).toMatchObject({ city: 'Lon[2Jdon' });
  });
});

describe('asnValue', () => {
  test.for([
    [15169, 15169], [15169n, 15169], ['AS15169', 15169], ['as13335', 13335], ['64500', 64500], [4294967295, 4294967295],
    [0, null], [-1, null], [1.5, null], ['AS', null], ['AS1x', null], [4294967296, null], [2n ** 64n, null], [null, null], [{}, null],
  ] as const)('%s → %s', ([input, out]) => {
    expect(asnValue(input)).toBe(out);
  });
});

test('cleanText strips control and bidi characters and caps length', () => {
  expect(cleanText('Evil\u0000Corp\u001b[31m\u0085\u200e')).toBe('EvilCorp[31m');
  expect(cleanText('  \u0007 ')).toBeNull();
  expect(cleanText(42)).toBeNull();
  expect(cleanText('x'.repeat(1000))!.length).toBe(200);
});
