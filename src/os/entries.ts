// What the EFI system partition and the partition table say about the installed versions:
// one unified kernel image per version (its name carries systemd-boot's boot counter) and
// one root slot per version, labelled berth-root_<version>, or _empty.

/** The file-name stem of every version's kernel image on the ESP, in EFI/Linux. */
export const UKI_PREFIX = 'berth_';
/** The GPT label of a root slot holding a version (sysupdate labels a free slot `_empty`). */
export const SLOT_PREFIX = 'berth-root_';
/** systemd's root partition type for x86-64 (sysupdate's MatchPartitionType=root). */
export const ROOT_TYPE = '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709';

export type EntryState = 'good' | 'trying' | 'bad';

export interface BootEntry {
  version: string;
  file: string;
  state: EntryState;
  /** Boots left before systemd-boot gives up on it (counted entries only). */
  triesLeft?: number;
  triesDone?: number;
}

/** `berth_1.2+2-1.efi`: version 1.2, 2 tries left, 1 done (systemd-boot(7), BOOT COUNTING). */
export function parseEntry(file: string): BootEntry | undefined {
  const m = /^berth_([0-9][0-9A-Za-z._~^-]*?)(?:\+([0-9]+)(?:-([0-9]+))?)?\.efi$/i.exec(file);
  if (!m) return undefined;
  const version = m[1]!;
  if (m[2] === undefined) return { version, file, state: 'good' };
  const triesLeft = Number(m[2]);
  const triesDone = m[3] === undefined ? 0 : Number(m[3]);
  return { version, file, state: triesLeft > 0 ? 'trying' : 'bad', triesLeft, triesDone };
}

export interface Slot {
  /** The partition's device node, e.g. /dev/vda3. */
  node: string;
  label: string;
  /** The version in it, or undefined for an empty slot (or one sysupdate was writing). */
  version?: string;
  sizeBytes: number;
}

interface SfdiskJson {
  partitiontable?: {
    sectorsize?: number;
    partitions?: { node: string; size: number; type: string; name?: string }[];
  };
}

/** The root slots, from `sfdisk --json DISK`. */
export function parseSlots(json: string): Slot[] {
  const t = (JSON.parse(json) as SfdiskJson).partitiontable;
  const sector = t?.sectorsize ?? 512;
  return (t?.partitions ?? [])
    .filter((p) => p.type.toUpperCase() === ROOT_TYPE)
    .map((p) => {
      const label = p.name ?? '';
      const version = label.startsWith(SLOT_PREFIX) ? label.slice(SLOT_PREFIX.length) : undefined;
      return { node: p.node, label, ...(version ? { version } : {}), sizeBytes: p.size * sector };
    });
}
