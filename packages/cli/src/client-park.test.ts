/** parkClients / unparkClients: the set read back (plus what was added meanwhile) is the set a merge gives. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClientSet } from '@alf/core';
import { parkClients, unparkClients } from './client-park.ts';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'alf-park-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

function setOf(ips: readonly string[], opts?: { maxIpv4?: number }): ClientSet {
  const s = new ClientSet(opts);
  for (const ip of ips) s.addText(ip);
  return s;
}

describe('parking the client set between passes', () => {
  const first = Array.from({ length: 5000 }, (_, i) => `10.${(i * 7919) % 256}.${(i * 31) % 256}.${i % 256}`)
    .concat(['2001:db8::1', '2001:db8::ffff', '::ffff:192.0.2.1', 'fe80::1']);
  const later = ['10.0.0.1', '192.0.2.77', '2001:db8::1', '2001:db8:1::9'];

  test('read back with the later clients: the same snapshot as one set of all of them; the file is removed', async () => {
    const parked = await parkClients(setOf(first), join(dir, 'a.bin'));
    expect(parked.ipv4 + parked.ipv6).toBe(setOf(first).ipv4Count + setOf(first).ipv6Count);
    const back = await unparkClients(parked, setOf(later));
    expect(back.snapshot()).toEqual(setOf([...first, ...later]).snapshot());
    expect(await readdir(dir)).not.toContain('a.bin');
  });

  test('an empty set, and a capped (incomplete) set keep what they were', async () => {
    const empty = await unparkClients(await parkClients(new ClientSet(), join(dir, 'b.bin')), new ClientSet());
    expect(empty.snapshot()).toEqual(new ClientSet().snapshot());
    const capped = setOf(first, { maxIpv4: 100 });
    const back = await unparkClients(await parkClients(capped, join(dir, 'c.bin')), new ClientSet());
    const s = back.snapshot();
    expect(s.complete).toBe(false);
    expect(s.incompleteReason).toBe(capped.snapshot().incompleteReason);
    expect([...s.ipv4]).toEqual([...capped.snapshot().ipv4]);
  });
});
