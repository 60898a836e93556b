// berth disks: one row per disk, from the disk facts and berth's own places (its data dir,
// each app's volumes), as a text table or JSON. Pure.
import { formatBytes } from '../exec/space.js';
import type { App } from '../recipe/app.js';
import { appPaths } from '../render/paths.js';
import { terminalText } from '../status/reason.js';
import { tableLines } from '../status/table.js';
import type { DiskFacts } from './facts.js';
import { type BlockDevice, mountsOf } from './lsblk.js';
import { type SmartHealth, smartQuery } from './smart.js';

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

export type Power = 'asleep' | 'spinning' | 'awake' | 'unknown';

export interface DiskRow {
  name: string;
  path: string;
  model?: string;
  serial?: string;
  sizeBytes: number;
  mounts: string[];
  /** What berth keeps there, in words ("berth's data dir", "app data (samba, minidlna)"). */
  berth: string[];
  /** The apps with data there. */
  apps: string[];
  health: SmartHealth;
  healthText: string;
  temperatureC?: number;
  power: Power;
  reasons: string[];
}

function keeps(places: readonly BerthPlace[]): { berth: string[]; apps: string[] } {
  const apps = [...new Set(places.flatMap((p) => (p.app ? [p.app] : [])))].sort();
  const berth = [
    ...(places.some((p) => !p.app) ? ["berth's data dir"] : []),
    ...(apps.length ? [`app data (${apps.join(', ')})`] : []),
  ];
  return { berth, apps };
}

function healthText(f: DiskFacts): string {
  const h = f.smart.health;
  if (h === 'unsupported') return f.virtual ? 'no SMART (virtual disk)' : 'no SMART';
  return { ok: 'ok', failing: 'FAILING', asleep: 'asleep (not read)', unknown: 'unknown' }[h];
}

function power(f: DiskFacts): Power {
  if (f.smart.health === 'asleep') return 'asleep';
  if (f.smart.health !== 'ok' && f.smart.health !== 'failing') return 'unknown';
  // It answered: with -n standby an ATA or SCSI disk answers only when it is up.
  const type = smartQuery(f.device).type;
  if (type === 'nvme') return 'awake';
  if (type === 'sat' || type === 'scsi') return f.device.rotational ? 'spinning' : 'awake';
  return 'unknown';
}

export function diskRows(facts: readonly DiskFacts[], places: readonly BerthPlace[]): DiskRow[] {
  const by = placesByDisk(
    places,
    facts.map((f) => f.device),
  );
  return facts.map(({ device: d, smart }, i): DiskRow => ({
    name: d.name,
    path: d.path,
    ...(d.model ? { model: d.model } : {}),
    ...(d.serial ? { serial: d.serial } : {}),
    sizeBytes: d.sizeBytes,
    mounts: mountsOf(d),
    ...keeps(by.get(d.name) ?? []),
    health: smart.health,
    healthText: healthText(facts[i]!),
    ...(smart.temperatureC !== undefined ? { temperatureC: smart.temperatureC } : {}),
    power: power(facts[i]!),
    reasons: smart.reasons,
  }));
}

const HEADER = ['DISK', 'MODEL', 'SIZE', 'HEALTH', 'TEMP', 'POWER', 'MOUNTS', 'BERTH KEEPS'];

/** The table, then a line of why for each disk that is failing or could not be read. */
export function diskTable(rows: readonly DiskRow[]): string[] {
  if (rows.length === 0) return ['no disks found'];
  const cells = rows.map((r) => [
    r.name,
    r.model ?? '-',
    formatBytes(r.sizeBytes),
    r.healthText,
    r.temperatureC === undefined ? '-' : `${r.temperatureC} °C`,
    r.power,
    r.mounts.join(', ') || '-',
    r.berth.join('; ') || '-',
  ]);
  // Model names and reasons come from the disks and smartctl: none may drive the terminal.
  const why = rows.flatMap((r) =>
    r.health === 'failing' || r.health === 'unknown' ? [`${r.name}: ${r.reasons.join('; ')}`] : [],
  );
  return [...tableLines([HEADER, ...cells.map((c) => c.map(terminalText))]), ...why.map(terminalText)];
}
