// berth disks: one row per disk, from the disk facts and berth's own places (places.ts), as a
// text table or JSON. Pure.
import { formatBytes } from '../exec/space.js';
import { terminalText } from '../status/reason.js';
import { tableLines } from '../status/table.js';
import type { DiskFacts } from './facts.js';
import { mountsOf } from './lsblk.js';
import { type BerthPlace, placesByDisk } from './places.js';
import { type SmartHealth, smartQuery } from './smart.js';

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
