/**
 * The run's client set (every IP seen, for the blocklists) is built in pass 1 and needed again
 * only when the pack is written: 40 MB at 10M distinct IPv4 clients. Between the two it waits
 * in a file of the run's temporary directory (`parkClients`), so that pass 2 and the records
 * pass, where the other peaks are, do not carry it; `unparkClients` reads it back (no copy:
 * the set adopts the arrays read) and adds what was collected meanwhile.
 */
import { open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { ClientSet } from '@alf/core';

export interface ParkedClients {
  readonly path: string;
  readonly ipv4: number;
  /** IPv6 addresses (4 words each in the file). */
  readonly ipv6: number;
  readonly complete: boolean;
  readonly incompleteReason: string | null;
}

/** Writes the set's addresses to `path` (IPv4 words, then IPv6 words, in host byte order). */
export async function parkClients(set: ClientSet, path: string): Promise<ParkedClients> {
  const s = set.snapshot(true);
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.write(new Uint8Array(s.ipv4.buffer, s.ipv4.byteOffset, s.ipv4.byteLength));
    await fh.write(new Uint8Array(s.ipv6.buffer, s.ipv6.byteOffset, s.ipv6.byteLength));
  } finally {
    await fh.close();
  }
  return { path, ipv4: s.ipv4.length, ipv6: s.ipv6.length >> 2, complete: s.complete, incompleteReason: s.incompleteReason };
}

/** The parked set with `more` added; the file is removed. */
export async function unparkClients(p: ParkedClients, more: ClientSet): Promise<ClientSet> {
  const ipv4 = new Uint32Array(p.ipv4);
  const ipv6 = new Uint32Array(p.ipv6 * 4);
  const fh = await open(p.path, 'r');
  try {
    await readAll(fh, new Uint8Array(ipv4.buffer), 0);
    await readAll(fh, new Uint8Array(ipv6.buffer), ipv4.byteLength);
  } finally {
    await fh.close();
  }
  await rm(p.path, { force: true });
  const set = ClientSet.adopt({ ipv4, ipv6, complete: p.complete, incompleteReason: p.incompleteReason });
  set.merge(more);
  return set;
}

async function readAll(fh: FileHandle, into: Uint8Array, position: number): Promise<void> {
  let at = 0;
  while (at < into.length) {
    const { bytesRead } = await fh.read(into, at, into.length - at, position + at);
    if (bytesRead === 0) throw new Error('the parked client set was cut short');
    at += bytesRead;
  }
}

