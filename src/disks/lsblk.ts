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
