// The machine's whole disks as `lsblk -J -b` lists them, with their partitions, and what each
// is mounted on. lsblk reads sysfs and udev's database, never the disk itself.
// Pure: lsblk's JSON in, disks out.
import { z } from 'zod';

export const LSBLK_COLUMNS = 'NAME,PATH,MODEL,SERIAL,SIZE,TYPE,TRAN,ROTA,MOUNTPOINTS,LABEL,FSTYPE';

export function lsblkArgv(devices: readonly string[] = []): string[] {
  return ['lsblk', '-J', '-b', '-o', LSBLK_COLUMNS, ...devices];
}

export interface BlockDevice {
  name: string;
  path: string;
  type: string;
  sizeBytes: number;
  model?: string;
  serial?: string;
  /** sata, nvme, usb, …; none for virtual disks. */
  tran?: string;
  rotational: boolean;
  mounts: string[];
  label?: string;
  fstype?: string;
  /** A disk's partitions (and what stands on them: crypt, lvm). */
  children: BlockDevice[];
}

interface Raw {
  name?: unknown;
  path?: unknown;
  model?: unknown;
  serial?: unknown;
  size?: unknown;
  type?: unknown;
  tran?: unknown;
  rota?: unknown;
  mountpoints?: unknown;
  mountpoint?: unknown;
  label?: unknown;
  fstype?: unknown;
  children?: unknown;
}

const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const opt = <K extends string>(key: K, v: unknown) => {
  const t = text(v);
  return t ? ({ [key]: t } as Record<K, string>) : {};
};

function device(r: Raw): BlockDevice {
  const mounts = Array.isArray(r.mountpoints) ? r.mountpoints : [r.mountpoint];
  const name = text(r.name) ?? '?';
  return {
    name,
    path: text(r.path) ?? `/dev/${name}`,
    type: text(r.type) ?? 'unknown',
    sizeBytes: Number(r.size) || 0,
    ...opt('model', r.model),
    ...opt('serial', r.serial),
    ...opt('tran', r.tran),
    rotational: r.rota === true || r.rota === '1' || r.rota === 1,
    mounts: mounts.flatMap((m) => (typeof m === 'string' && m ? [m] : [])),
    ...opt('label', r.label),
    ...opt('fstype', r.fstype),
    children: Array.isArray(r.children) ? (r.children as Raw[]).map(device) : [],
  };
}

/** Memory-backed and empty devices are not disks a person has. */
const isRealDisk = (d: BlockDevice) => d.type === 'disk' && !/^(zram|ram)\d/.test(d.name) && d.sizeBytes > 0;

/** The whole disks lsblk listed (with `devices` named, those devices whatever their type). */
export function parseLsblk(stdout: string, named = false): BlockDevice[] {
  const j = JSON.parse(stdout) as { blockdevices?: Raw[] };
  const all = (j.blockdevices ?? []).map(device);
  return named ? all : all.filter(isRealDisk);
}

/** Every mount point on the disk: its own and its partitions' (and theirs). */
export function mountsOf(d: BlockDevice): string[] {
  return [...d.mounts, ...d.children.flatMap(mountsOf)];
}

/** The device and everything on it (partitions, their holders), depth first. */
export const withChildren = (d: BlockDevice): BlockDevice[] => [d, ...d.children.flatMap(withChildren)];

/** The chain from a top-level disk down to the device with that path; empty when none has it. */
export function chainTo(devices: readonly BlockDevice[], path: string): BlockDevice[] {
  for (const d of devices) {
    if (d.path === path) return [d];
    const below = chainTo(d.children, path);
    if (below.length) return [d, ...below];
  }
  return [];
}

/** A signature wipefs finds on a device (a file system, a partition table, a RAID member…). */
export interface Signature {
  type: string;
  label?: string;
}

export const wipefsProbeArgv = (device: string) => ['wipefs', '--no-act', '--json', device];

const signatures = z.object({
  signatures: z.array(z.object({ type: z.string(), label: z.string().nullish() })),
});

/**
 * What `wipefs --no-act --json` prints: read from the device itself, so it sees what udev's
 * database (lsblk's FSTYPE) may not know yet, or at all where no udev runs. No output: none.
 */
export function parseWipefs(json: string): Signature[] {
  if (!json.trim()) return [];
  return signatures
    .parse(JSON.parse(json))
    .signatures.map((x) => ({ type: x.type, ...(x.label ? { label: x.label } : {}) }));
}
