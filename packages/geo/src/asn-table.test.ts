import { expect, test } from 'vitest';
import { asnTableSource, buildAsnTable, parseAsnTable, serializeAsnTable } from './asn-table.ts';
import { parseIp } from './ip-address.ts';

// 1.0.0.0–1.0.0.255, 1.0.4.0–1.0.7.255, an overlapping row, quoted names, CRLF
const V4 = [
  '16777216,16777471,13335,"Cloudflare, Inc."',
  '16778240,16779263,38803,Gtelecom Pty Ltd',
  '16779000,16779300,64500,Overlap Test', // overlaps the row before: clipped to start after it
  '35309568,35313663,201907,"LLC ""SPUTNIK"""\r',
  'garbage line',
  '',
].join('\n');
// 2001:200::/35 (WIDE), 2001:4:112::/48
const V6 = [
  '42540488479219738492182115193345540096,42540488479220947418001729822520246271,112,DNS-OARC',
  '42540528726795050063891204319802818560,42540528727329395276160870415022948351,2500,WIDE Project',
].join('\n');

function table() {
  const t = buildAsnTable(Buffer.from(V4), Buffer.from(V6), { packageName: 'x', packageVersion: '1', sources: [] });
  const round = parseAsnTable(serializeAsnTable(t));
  if (!round) throw new Error('round trip failed');
  return round;
}

function find(ip: string) {
  const src = asnTableSource(table());
  const p = parseIp(ip)!;
  const hit = p.version === 4 ? src.findV4(p.value, ip) : src.findV6(p.hextets);
  return { asn: hit.fields?.asn ?? null, org: hit.fields?.asOrg ?? null, len: hit.prefixLength };
}

test('serialised table round-trips and keeps the counts', () => {
  const t = table();
  expect(t.header).toMatchObject({ v4Count: 4, v6Count: 2 });
});

test.for([
  ['1.0.0.1', 13335, 'Cloudflare, Inc.', 24],
  ['1.0.5.9', 38803, 'Gtelecom Pty Ltd', 22],
  ['1.0.8.0', 64500, 'Overlap Test', 27], // the overlap is clipped to 1.0.8.0–1.0.8.36
  ['2.26.200.1', 201907, 'LLC "SPUTNIK"', 21], // 2.26.200.0–2.26.215.255 holds 2.26.200.0/21
  ['2001:200::1', 2500, 'WIDE Project', 40], // 2001:200::–2001:200:1b9:ffff:… holds 2001:200::/40
  ['2001:4:112:ffff::1', 112, 'DNS-OARC', 48],
] as const)('%s → AS%i %s in a /%i', ([ip, asn, org, len]) => {
  expect(find(ip)).toEqual({ asn, org, len });
});

test('gap blocks never cover a neighbouring range', () => {
  expect(find('1.0.1.0').len).toBe(24); // 1.0.1.0/24 (1.0.0.0/23 would contain Cloudflare's /24)
  expect(find('1.0.2.0').len).toBe(23); // 1.0.2.0/23 ends right before 1.0.4.0
  expect(find('0.0.0.1').len).toBe(8);
  expect(find('255.255.255.255').len).toBe(1); // 128.0.0.0/1 lies after every range
  expect(find('2001:200:1ba::1').len).toBe(47); // right after WIDE's range ends at 2001:200:1b9:ffff:…
});

test('truncated or foreign bytes are not a table', () => {
  const bytes = serializeAsnTable(table());
  expect(parseAsnTable(bytes.subarray(0, bytes.length - 4))).toBeNull();
  expect(parseAsnTable(Buffer.from('ALFASN01garbage'))).toBeNull();
  expect(parseAsnTable(Buffer.alloc(0))).toBeNull();
});
