// What snapshots and restores share: tar's arguments, the names of berth's dirs beside an
// app's data, and the free space a snapshot or a restore must leave.
import type { RunResult } from '../process/run.js';
import { MiB } from '../exec/space.js';

/** Free space a snapshot (or a restore's staged copy) must leave behind on the data file system. */
export const SNAPSHOT_FLOOR = 256 * MiB;

/** The longest a tar of an app's data may run. */
export const TAR_LIMIT = { timeoutMs: 60 * 60_000 };

/** tar arguments that keep what a restore needs; paths are stored relative to /. */
export const TAR_KEEP = ['--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner'];

/** Inside a host directory: data a restore moved aside, and a restore's staged copy. */
export const ASIDE_PREFIX = '.berth-aside-';
export const RESTORE_PREFIX = '.berth-restore-';

export const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('.', '');

/** tar's last two error lines. */
export const tarError = (r: Pick<RunResult, 'stderr'>) => r.stderr.trim().split('\n').slice(-2).join(' | ');
