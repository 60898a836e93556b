// The block devices as `lsblk -J -b -o NAME,PATH,TYPE,SIZE,FSTYPE,LABEL,MOUNTPOINTS,MODEL`
// prints them (util-linux 2.37+: MOUNTPOINTS is a list). Parsed here, read by the planner.
import { z } from 'zod';

export const LSBLK_ARGV = ['lsblk', '-J', '-b', '-o', 'NAME,PATH,TYPE,SIZE,FSTYPE,LABEL,MOUNTPOINTS,MODEL'];

export interface BlockDevice {
  name: string;
  path: string;
  type: string;
  size: number;
  fstype?: string;
  label?: string;
  mountpoints: string[];
  model?: string;
  children: BlockDevice[];
}

const text = z.string().nullish();
type RawDevice = {
  name: string;
  path?: string | null | undefined;
  type: string;
  size?: number | string | null | undefined;
  fstype?: string | null | undefined;
  label?: string | null | undefined;
  mountpoints?: (string | null)[] | null | undefined;
  mountpoint?: string | null | undefined;
  model?: string | null | undefined;
  children?: RawDevice[] | undefined;
};
const raw: z.ZodType<RawDevice> = z.lazy(() =>
  z.object({
    name: z.string(),
    path: text,
    type: z.string(),
    size: z.union([z.number(), z.string()]).nullish(),
    fstype: text,
    label: text,
    mountpoints: z.array(z.string().nullable()).nullish(),
    mountpoint: text,
    model: text,
    children: z.array(raw).optional(),
  }),
);
const output = z.object({ blockdevices: z.array(raw) });

function device(r: RawDevice): BlockDevice {
  const mounts = [...(r.mountpoints ?? []), r.mountpoint].filter((m): m is string => !!m);
  return {
    name: r.name,
    path: r.path ?? `/dev/${r.name}`,
    type: r.type,
    size: Number(r.size ?? 0),
    ...(r.fstype ? { fstype: r.fstype } : {}),
    ...(r.label ? { label: r.label } : {}),
    mountpoints: [...new Set(mounts)],
    ...(r.model?.trim() ? { model: r.model.trim() } : {}),
    children: (r.children ?? []).map(device),
  };
}

/** lsblk's JSON as a tree; a text lsblk did not print as expected throws. */
export function parseLsblk(json: string): BlockDevice[] {
  return output.parse(JSON.parse(json)).blockdevices.map(device);
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
