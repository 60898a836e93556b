// An app whose data disk is not mounted waits for it: it is not started (it would write into
// the empty mount point on the system disk) and says why. Pure: the mount states are facts.
import type { App } from '../recipe/app.js';
import { appDisks, diskMountUnit } from '../render/paths.js';

/** Why an app waits for a disk, as berth status says it. */
export const diskWaitText = (labels: readonly string[]) =>
  `waiting for its data disk${labels.length > 1 ? 's' : ''} ${labels.join(', ')} (not connected)`;

/**
 * Why the app waits, when one of its disks is not mounted; undefined when all are.
 * `mounted` answers for a label (from systemd's state of its mount unit).
 */
export function diskWait(app: Pick<App, 'volumes'>, mounted: (label: string) => boolean): string | undefined {
  const missing = appDisks(app.volumes).filter((l) => !mounted(l));
  return missing.length === 0 ? undefined : diskWaitText(missing);
}

/** diskWait with the mount states read from systemd (a unit it cannot read counts as not mounted). */
export async function diskWaitNow(
  app: Pick<App, 'volumes'>,
  unitState: (unit: string) => Promise<{ activeState: string }>,
): Promise<string | undefined> {
  const labels = appDisks(app.volumes);
  if (labels.length === 0) return undefined;
  const states = await Promise.all(labels.map((l) => unitState(diskMountUnit(l)).catch(() => undefined)));
  const active = new Set(labels.filter((_, i) => states[i]?.activeState === 'active'));
  return diskWait(app, (l) => active.has(l));
}
