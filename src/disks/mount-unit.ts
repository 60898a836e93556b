// A data disk's systemd units: the mount of /srv/<label> by its file system label, and a
// drop-in for the disk's device unit. Written to /etc/systemd/system, which an OS update
// carries into the next version (os/carry.ts, by the mark below). Pure: same label, same bytes.
import { pathUnitName } from '../render/escape.js';
import { diskMountPoint } from '../render/paths.js';
import { OWNER_MARK } from '../render/unit.js';

/** Marks a mount unit as a data disk's that berth wrote; its value is the label. */
export const DISK_MARK = 'X-Berth-Disk';
/** How long boot waits for a data disk before its mount (and the apps on it) give up. */
export const DEVICE_TIMEOUT = '30s';
/** The drop-in's file name in the device unit's .d folder (berth-* is what the OS update carries). */
export const DEVICE_DROPIN = 'berth-disk-timeout.conf';

export interface UnitFileText {
  /** Relative to the unit dir: a name, or a folder and a name for a drop-in. */
  path: string;
  text: string;
}

export const diskDevicePath = (label: string) => `/dev/disk/by-label/${label}`;
export const diskDeviceUnit = (label: string) => pathUnitName(diskDevicePath(label), 'device');

export function renderMountUnit(label: string): UnitFileText {
  const where = diskMountPoint(label);
  const name = pathUnitName(where, 'mount');
  const text = [
    `# ${name}: the data disk ${label}, written by 'berth disks add'.`,
    '# nofail: boot does not wait for it. Mounted by label: the disk may move to another port.',
    '[Unit]',
    `Description=berth data disk ${label}`,
    OWNER_MARK,
    `${DISK_MARK}=${label}`,
    '',
    '[Mount]',
    `What=${diskDevicePath(label)}`,
    `Where=${where}`,
    'Type=ext4',
    'Options=nofail,noatime',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    // Plugging the disk in (again) mounts it; its mount starts the apps that wait for it.
    `WantedBy=${diskDeviceUnit(label)}`,
    '',
  ].join('\n');
  return { path: name, text };
}

/**
 * x-systemd.device-timeout= is read only from fstab, never from a unit's Options=; the fstab
 * generator writes this drop-in instead, and so does berth: a missing disk fails fast at boot.
 */
export function renderDeviceTimeout(label: string): UnitFileText {
  const text = [
    `# The data disk ${label}, written by 'berth disks add': boot waits ${DEVICE_TIMEOUT} for it, not 90s.`,
    '[Unit]',
    `JobRunningTimeoutSec=${DEVICE_TIMEOUT}`,
    OWNER_MARK,
    '',
  ].join('\n');
  return { path: `${diskDeviceUnit(label)}.d/${DEVICE_DROPIN}`, text };
}
