// Free disk space, asked before berth fills a file system (image loads and pulls) and
// named in the message when a write runs out of it.
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';

export type FreeBytes = (path: string) => Promise<number>;

/** Bytes free to an unprivileged writer on the file system holding path (or its nearest existing parent). */
export const freeBytes: FreeBytes = async (path) => {
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = await statfs(p);
      return s.bavail * s.bsize;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || p === dirname(p)) throw err;
    }
  }
};

export const MiB = 1024 * 1024;

export function formatBytes(n: number): string {
  if (n >= 1024 * MiB) return `${(n / (1024 * MiB)).toFixed(1)} GiB`;
  if (n >= MiB) return `${Math.round(n / MiB)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} bytes`;
}

export class NoSpaceError extends Error {}

/** Throws a NoSpaceError saying what is needed where, when less is free. */
export async function requireSpace(
  what: string,
  path: string,
  needed: number,
  free: FreeBytes = freeBytes,
): Promise<void> {
  const have = await free(path);
  if (have < needed)
    throw new NoSpaceError(
      `not enough free space to ${what}: needs about ${formatBytes(needed)} in ${path}, ${formatBytes(have)} free; free some space there or use a larger disk`,
    );
}

/** An ENOSPC from a write, said as what it is and where. */
export function explainWriteError(err: unknown, path: string): Error {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT')
    return new NoSpaceError(`no space left to write ${path}; free some space on that file system`);
  return err as Error;
}
