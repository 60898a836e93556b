// `berth disks add DEVICE`, planned: from facts about the machine's block devices, either a
// refusal that says why (and what would be erased), or the steps, as data, that make DEVICE
// a data disk mounted at /srv/<label>. Pure: the executor (execute.ts) does the I/O.
import { formatBytes } from '../exec/space.js';
import { DISK_LABEL_RE, diskMountPoint } from '../render/paths.js';
import { type BlockDevice, chainTo, mountsOf, type Signature, withChildren } from './lsblk.js';
import { renderDeviceTimeout, renderMountUnit, type UnitFileText } from './mount-unit.js';

export interface AddFacts {
  /** The whole lsblk tree (every disk), to see what DEVICE is part of. */
  devices: readonly BlockDevice[];
  /** DEVICE as given, with symlinks (/dev/disk/by-id/…) resolved. */
  device: string;
  /** Names under /srv that hold something (a file, or a dir that is not empty). */
  srvInUse: ReadonlySet<string>;
  /** Labels of the data disks berth has mount units for already. */
  berthDisks: ReadonlySet<string>;
  /** What wipefs finds on DEVICE and each of its partitions, by path (lsblk's FSTYPE comes from udev). */
  signatures: ReadonlyMap<string, readonly Signature[]>;
}

export interface AddOptions {
  label: string;
  /** The person agreed to erase what is on DEVICE. */
  yes: boolean;
}

export const DEFAULT_LABEL = 'data';

export type DiskStep =
  | { kind: 'wipe-and-format'; device: string; label: string; commands: string[][] }
  | { kind: 'write-mount-unit'; unit: UnitFileText }
  | { kind: 'write-device-timeout-dropin'; unit: UnitFileText }
  | { kind: 'enable-and-start-mount'; unit: string };

/** One line of what will be (or would be) erased. */
export interface EraseRow {
  path: string;
  type: string;
  size: string;
  fstype: string;
  label: string;
}

export type AddPlan =
  | { ok: false; message: string; erase: EraseRow[] }
  | { ok: true; erase: EraseRow[]; steps: DiskStep[]; mountPoint: string; recipeLine: string };

/** Mount points that make a disk the system's own. */
const SYSTEM_MOUNTS = new Set(['/', '/var', '/usr', '/efi', '/boot', '/boot/efi', '[SWAP]']);
const ERASABLE_TYPES = new Set(['disk', 'part', 'loop']);

function eraseRows(d: BlockDevice, signatures: AddFacts['signatures']): EraseRow[] {
  const sigs = (x: BlockDevice) => signatures.get(x.path) ?? [];
  return withChildren(d)
    .filter((x) => x.fstype || sigs(x).length || x.type === 'part' || (x === d && d.children.length))
    .map((x) => ({
      path: x.path,
      type: x.type,
      size: formatBytes(x.sizeBytes),
      fstype:
        x.fstype ??
        (sigs(x)
          .map((g) => g.type)
          .join(', ') ||
          '-'),
      label: x.label ?? sigs(x).find((g) => g.label)?.label ?? '-',
    }));
}

/** Why DEVICE may not be touched at all, whatever --yes says. */
function deviceProblem(facts: AddFacts): string | undefined {
  const chain = chainTo(facts.devices, facts.device);
  const d = chain.at(-1);
  if (!d) return `${facts.device} is not a block device this machine has (lsblk lists its disks)`;
  if (!ERASABLE_TYPES.has(d.type))
    return `${facts.device} is a ${d.type}, not a disk or a partition: give the disk itself`;
  const system = mountsOf(chain[0]!).filter((m) => SYSTEM_MOUNTS.has(m));
  if (system.length)
    return `${facts.device} is ${chain.length > 1 ? 'on ' : ''}the system disk (it holds ${system.join(', ')}): berth never formats it`;
  const mounted = mountsOf(d);
  if (mounted.length)
    return `${facts.device} is in use: mounted at ${mounted.join(', ')}; unmount it (and remove it from /etc/fstab) first`;
  const held = withChildren(d).filter((x) => x !== d && x.type !== 'part');
  if (held.length)
    return `${facts.device} is in use: ${held.map((x) => `${x.path} (${x.type})`).join(', ')} runs on it; stop that first`;
  return undefined;
}

/** Why the label cannot be this disk's, if it cannot. */
function labelProblem(facts: AddFacts, label: string, device: BlockDevice): string | undefined {
  if (!DISK_LABEL_RE.test(label))
    return `the label '${label}' is not one berth takes: lower-case letters, digits and inner dashes, at most 16 (ext4's limit)`;
  if (facts.berthDisks.has(label))
    return `berth has a data disk labelled ${label} already: choose another --label`;
  const mine = new Set(withChildren(device));
  const other = facts.devices.flatMap(withChildren).find((x) => x.label === label && !mine.has(x));
  if (other)
    return `${other.path} has the label ${label} already: two disks with one label cannot be told apart at boot; choose another --label`;
  if (facts.srvInUse.has(label))
    return `${diskMountPoint(label)} already holds data: choose another --label (berth mounts the disk there)`;
  return undefined;
}

export function planAdd(facts: AddFacts, opts: AddOptions): AddPlan {
  const problem = deviceProblem(facts);
  const d = chainTo(facts.devices, facts.device).at(-1);
  if (problem || !d) return { ok: false, message: problem ?? 'no device', erase: [] };
  const erase = eraseRows(d, facts.signatures);
  const why = labelProblem(facts, opts.label, d);
  if (why) return { ok: false, message: why, erase };
  if (erase.length && !opts.yes)
    return {
      ok: false,
      message: `${facts.device} holds file systems or partitions, and formatting erases them: run again with --yes to erase them`,
      erase,
    };
  const mount = renderMountUnit(opts.label);
  // The partitions' signatures first, then the disk's own (its partition table).
  const wipe = [...withChildren(d).filter((x) => x.type === 'part' && x !== d), d];
  const commands = [
    ...wipe.map((x) => ['wipefs', '-a', x.path]),
    // -F: no question on a terminal nobody answers; what it would ask was checked above.
    ['mkfs.ext4', '-q', '-F', '-L', opts.label, d.path],
  ];
  return {
    ok: true,
    erase,
    steps: [
      { kind: 'wipe-and-format', device: d.path, label: opts.label, commands },
      { kind: 'write-mount-unit', unit: mount },
      { kind: 'write-device-timeout-dropin', unit: renderDeviceTimeout(opts.label) },
      { kind: 'enable-and-start-mount', unit: mount.path },
    ],
    mountPoint: diskMountPoint(opts.label),
    recipeLine: `volumes: {media: {target: /media, disk: ${opts.label}}}`,
  };
}
