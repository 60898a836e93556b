// The kernel's socket tables (/proc/net/{tcp,tcp6,udp,udp6}) of the network namespace this
// process runs in: listening TCP sockets and bound UDP sockets, with their inodes.
import { endianness } from 'node:os';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';

export interface BoundSocket {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
  inode: number;
}

const TCP_LISTEN = '0A';
const FILES = [
  ['tcp', 'tcp'],
  ['tcp6', 'tcp'],
  ['udp', 'udp'],
  ['udp6', 'udp'],
] as const;

/** The kernel prints each 32-bit word of an address in host byte order. */
function words(hex: string): Buffer {
  const buf = Buffer.from(hex, 'hex');
  if (endianness() === 'LE') for (let i = 0; i < buf.length; i += 4) buf.subarray(i, i + 4).reverse();
  return buf;
}

export function formatAddress(hex: string): string {
  const b = words(hex);
  if (b.length === 4) return [...b].join('.');
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff)
    return `::ffff:${[...b.subarray(12)].join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16));
  // The longest run of zero groups becomes '::'.
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.len < 2) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

export function parseProcNet(text: string, protocol: 'tcp' | 'udp'): BoundSocket[] {
  const out: BoundSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [addr, port] = f[1]!.split(':');
    const inode = Number(f[9]);
    if (!addr || !port || !inode) continue;
    if (protocol === 'tcp' && f[3] !== TCP_LISTEN) continue;
    out.push({ protocol, address: formatAddress(addr), port: Number.parseInt(port, 16), inode });
  }
  return out;
}

export async function boundSockets(procRoot: string): Promise<BoundSocket[]> {
  const tables = await Promise.all(
    FILES.map(async ([file, protocol]) => {
      const text = await readFile(posix.join(procRoot, 'net', file), 'utf8').catch(() => '');
      return parseProcNet(text, protocol);
    }),
  );
  return tables.flat();
}

const isV4 = (a: string) => !a.includes(':');
const WILDCARDS = new Set(['0.0.0.0', '::']);

/** Whether a socket bound to `address` keeps berth from binding `bind` (undefined: every address). */
export function overlaps(bind: string | undefined, address: string): boolean {
  if (bind === undefined || WILDCARDS.has(address) || WILDCARDS.has(bind)) {
    // A v4 wildcard does not cover v6 addresses; a v6 wildcard (dual-stack) covers both.
    if (bind && address === '0.0.0.0' && !isV4(bind)) return false;
    if (bind === '0.0.0.0' && !isV4(address) && address !== '::' && !address.startsWith('::ffff:'))
      return false;
    return true;
  }
  return bind === address || `::ffff:${bind}` === address;
}
