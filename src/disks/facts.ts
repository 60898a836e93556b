// What berth learns about the machine's disks: lsblk's list (sysfs and udev, no disk I/O) and,
// for the disks it is asked about, smartctl with `-n standby` (a sleeping disk is not woken).
// The process runner is passed in; a missing smartctl is a fact, not a failure.
import type { Runner } from '../process/run.js';
import { type BlockDevice, lsblkArgv, parseLsblk } from './lsblk.js';
import { parseSmart, type SmartReading, smartctlArgv, smartQuery } from './smart.js';

export interface DiskFacts {
  device: BlockDevice;
  smart: SmartReading;
  /** A virtual machine's disk (virtio, Xen): it has no SMART and never sleeps. */
  virtual: boolean;
}

export interface DiskFactsDeps {
  runner: Runner;
  timeoutMs?: number;
}

const TIMEOUT_MS = 20_000;
export const NO_SMARTCTL = 'smartctl not installed (Debian package smartmontools)';

/** The whole disks (or the named devices), with their partitions and mounts. */
export async function listDisks(
  deps: DiskFactsDeps,
  devices: readonly string[] = [],
): Promise<BlockDevice[]> {
  const r = await deps.runner(lsblkArgv(devices), { timeoutMs: deps.timeoutMs ?? TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`lsblk failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  return parseLsblk(r.stdout, devices.length > 0);
}

/** The disk's SMART, read with `-n standby` and its type given; never a wake-up. */
export async function readSmart(deps: DiskFactsDeps, d: BlockDevice): Promise<SmartReading> {
  const q = smartQuery(d);
  if (!q.ask)
    return {
      health: 'unknown',
      reasons: [
        `not asked: the device type is not known (${d.tran ?? 'no transport'}), and guessing could wake it`,
      ],
    };
  const r = await deps.runner(smartctlArgv(d.path, q.type), { timeoutMs: deps.timeoutMs ?? TIMEOUT_MS });
  if (r.code === 127 && /ENOENT/.test(r.stderr)) return { health: 'unknown', reasons: [NO_SMARTCTL] };
  if (r.code === 124) return { health: 'unknown', reasons: ['smartctl did not answer in time'] };
  return parseSmart(r);
}

const NOT_ASKED: SmartReading = { health: 'unknown', reasons: ['not asked'] };

/** The disks, with SMART read only for those `ask` picks (the rest: 'not asked'). */
export async function readDiskFacts(
  deps: DiskFactsDeps,
  ask: (d: BlockDevice) => boolean = () => true,
  devices: readonly string[] = [],
): Promise<DiskFacts[]> {
  const disks = await listDisks(deps, devices);
  return Promise.all(
    disks.map(async (device) => ({
      device,
      smart: ask(device) ? await readSmart(deps, device) : NOT_ASKED,
      virtual: smartQuery(device).virtual,
    })),
  );
}
