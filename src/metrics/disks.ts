// /metrics' disk rows: what the supervisor's SMART check last learnt (SMART is never read at a
// scrape, so a scrape wakes no disk), with the free bytes of each mount point that holds
// berth's data (statfs: the kernel's figures, no disk I/O).
import { statfs as fsStatfs } from 'node:fs/promises';
import type { WatchedDisk } from '../disks/watch.js';
import type { DiskSmartFacts } from './render.js';

type StatFs = (path: string) => Promise<{ bavail: number; bsize: number }>;

export async function diskMetricFacts(
  watched: readonly WatchedDisk[],
  statfs: StatFs = fsStatfs,
): Promise<DiskSmartFacts[]> {
  return Promise.all(
    watched.map(async (w): Promise<DiskSmartFacts> => {
      const mounts = await Promise.all(
        w.mounts.map(async (mount) => {
          const fs = await statfs(mount).catch(() => undefined);
          return fs ? [{ mount, freeBytes: fs.bavail * fs.bsize }] : [];
        }),
      );
      return {
        disk: w.disk,
        ...(w.health === 'ok' || w.health === 'failing' ? { healthy: w.health === 'ok' } : {}),
        ...(w.temperatureC !== undefined ? { temperatureC: w.temperatureC } : {}),
        ...(w.asleep !== undefined ? { asleep: w.asleep } : {}),
        mounts: mounts.flat(),
      };
    }),
  );
}
