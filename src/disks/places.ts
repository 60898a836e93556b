// Where berth keeps things on the host (its data dir, each app's volumes) and which disk and
// mount point hold each: the longest mount point above the path. Pure.
import type { App } from '../recipe/app.js';
import { appPaths } from '../render/paths.js';
import { type BlockDevice, mountsOf } from './lsblk.js';

/** A host path where berth keeps something: its data dir, or an app's volume. */
export interface BerthPlace {
  path: string;
  /** The app whose volume it is; none for the data dir. */
  app?: string;
}

export function berthPlaces(dataDir: string, apps: readonly Pick<App, 'name' | 'volumes'>[]): BerthPlace[] {
  return [
    { path: dataDir },
    ...apps.flatMap((a) =>
      a.volumes.map((v) => ({ path: v.host ?? appPaths(dataDir, a.name).volume(v.name), app: a.name })),
    ),
  ];
}

const under = (path: string, mount: string) =>
  mount === '/' || path === mount || path.startsWith(`${mount.replace(/\/+$/, '')}/`);

/** The disk and mount point whose file system holds the path: the longest mount point above it. */
export function mountOfPath(
  path: string,
  disks: readonly BlockDevice[],
): { disk: BlockDevice; mount: string } | undefined {
  let best: { disk: BlockDevice; mount: string } | undefined;
  for (const disk of disks)
    for (const mount of mountsOf(disk))
      if (under(path, mount) && mount.length > (best?.mount.length ?? -1)) best = { disk, mount };
  return best;
}

/** Each disk's name with the places berth keeps on it (and the mount point that holds each). */
export function placesByDisk(
  places: readonly BerthPlace[],
  disks: readonly BlockDevice[],
): Map<string, (BerthPlace & { mount: string })[]> {
  const by = new Map<string, (BerthPlace & { mount: string })[]>();
  for (const p of places) {
    const m = mountOfPath(p.path, disks);
    if (m) by.set(m.disk.name, [...(by.get(m.disk.name) ?? []), { ...p, mount: m.mount }]);
  }
  return by;
}
