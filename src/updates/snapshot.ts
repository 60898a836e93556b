// Data snapshots: the app's data dirs in one zstd-compressed tar, taken with the app
// stopped. Owners, modes, ACLs and xattrs are kept (numeric IDs: the container's users
// have no names on the host). Written under a temporary name, fsynced and renamed, so a
// crash never leaves half a snapshot that counts.
import { lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type FreeBytes, formatBytes, freeBytes, NoSpaceError } from '../exec/space.js';
import { faultPoint } from '../exec/faults.js';
import { spawnRunner } from '../process/run.js';
import { appPaths } from '../render/paths.js';
import { shortId } from './record.js';
import { ASIDE_PREFIX, RESTORE_PREFIX, SNAPSHOT_FLOOR, stamp, TAR_KEEP, TAR_LIMIT, tarError } from './tar.js';

export { SNAPSHOT_FLOOR } from './tar.js';

export interface SnapshotInfo {
  path: string;
  name: string;
  /** The image the data belonged to (short ID). */
  image: string;
  /** ms since the epoch. */
  takenAt: number;
  bytes: number;
}

const SUFFIX = '.tar.zst';
const NAME_RE = /^(\d{8}T\d{6}(?:\d{3})?Z)-([0-9a-f]{12})\.tar\.zst$/;

/** The longest sizing the data may take (it runs under the apply lock). */
export const SIZE_LIMIT_MS = 60_000;

export class SizingTimeout extends NoSpaceError {}

export interface SizeOptions {
  limitMs?: number;
  now?: () => number;
}

/**
 * Bytes the paths hold (what an archive of them needs at most, before compression). Sized
 * as tar reads them: lstat, so a symlink counts as itself and a loop is never followed; and
 * within a time bound, so a huge tree refuses the update instead of holding the lock for ever.
 */
export async function sizeOf(paths: readonly string[], opts: SizeOptions = {}): Promise<number> {
  const now = opts.now ?? Date.now;
  const limit = opts.limitMs ?? SIZE_LIMIT_MS;
  const end = now() + limit;
  let total = 0;
  let entries = 0;
  const walk = async (p: string): Promise<void> => {
    if (now() > end)
      throw new SizingTimeout(
        `sizing the data in ${paths.join(', ')} took longer than ${limit / 1000}s (${entries} entries so far); ` +
          `set update.snapshot: false for an app with this much data; nothing was changed`,
      );
    const st = await lstat(p).catch(() => undefined);
    if (!st) return;
    entries++;
    total += st.isFile() ? st.size : 4096;
    if (st.isDirectory())
      for (const e of await readdir(p).catch(() => [] as string[])) await walk(join(p, e));
  };
  for (const p of paths) await walk(p);
  return total;
}

export interface SnapshotDeps {
  free?: FreeBytes;
  now?: () => Date;
  size?: SizeOptions;
}

/**
 * Refuses (NoSpaceError) when a snapshot of the paths would leave less than the floor free;
 * returns the paths that exist. The update checks this before it stops the app.
 */
export async function requireSnapshotSpace(
  dataDir: string,
  app: string,
  paths: readonly string[],
  free: FreeBytes = freeBytes,
  size: SizeOptions = {},
): Promise<string[]> {
  const dir = appPaths(dataDir, app).snapshotsDir;
  const present = [];
  for (const p of paths) if (await lstat(p).catch(() => undefined)) present.push(p);
  const need = await sizeOf(present, size);
  const have = await free(dir);
  if (have - need < SNAPSHOT_FLOOR)
    throw new NoSpaceError(
      `not enough free space to snapshot the data of ${app} before the update: it holds up to ${formatBytes(need)}, ` +
        `${formatBytes(have)} is free in ${dir} and berth keeps ${formatBytes(SNAPSHOT_FLOOR)} free; ` +
        `free some space, lower update.keep, or set update.snapshot: false; nothing was changed`,
    );
  return present;
}

/** Takes a snapshot of the paths (those that exist) for an app; returns its path. */
export async function takeSnapshot(
  dataDir: string,
  app: string,
  paths: readonly string[],
  image: string,
  deps: SnapshotDeps = {},
): Promise<string> {
  const dir = appPaths(dataDir, app).snapshotsDir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const present = await requireSnapshotSpace(dataDir, app, paths, deps.free, deps.size);
  const name = `${stamp((deps.now ?? (() => new Date()))())}-${shortId(image)}${SUFFIX}`;
  const final = join(dir, name);
  const tmp = join(dir, `.${name}.tmp`);
  try {
    const r = await spawnRunner(
      [
        'tar',
        '--create',
        '--zstd',
        ...TAR_KEEP,
        '--sparse',
        `--file=${tmp}`,
        '--directory=/',
        // Data a rollback moved aside, or a restore's staged copy, is not the app's data.
        `--exclude=${ASIDE_PREFIX}*`,
        `--exclude=${RESTORE_PREFIX}*`,
        '--',
        ...present.map((p) => p.replace(/^\/+/, '')),
      ],
      TAR_LIMIT,
    );
    faultPoint('snapshot-written');
    if (r.code !== 0) throw new Error(`tar failed (exit ${r.code}): ${tarError(r)}`);
    const fh = await open(tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return final;
}

/** The app's complete snapshots, oldest first (temporary files of an interrupted one are not listed). */
export async function listSnapshots(dataDir: string, app: string): Promise<SnapshotInfo[]> {
  const dir = appPaths(dataDir, app).snapshotsDir;
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: SnapshotInfo[] = [];
  for (const name of names.sort()) {
    const m = NAME_RE.exec(name);
    if (!m) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (!st) continue;
    const s = m[1]!;
    const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${s.length > 16 ? s.slice(15, 18) : '000'}Z`;
    out.push({ path: join(dir, name), name, image: m[2]!, takenAt: Date.parse(iso), bytes: st.size });
  }
  return out;
}

export interface AsideInfo {
  path: string;
  name: string;
  /** What it holds (as sizeOf counts it). */
  bytes: number;
}

/** Data rollbacks moved aside into the app's .aside dir, oldest first. */
export async function listAside(dataDir: string, app: string): Promise<AsideInfo[]> {
  const out: AsideInfo[] = [];
  for (const a of await listAsideNames(dataDir, app))
    out.push({ ...a, bytes: await sizeOf([a.path], { limitMs: Number.POSITIVE_INFINITY }) });
  return out;
}

const oldest = <T>(all: readonly T[], keep: number) => all.slice(0, Math.max(0, all.length - keep));

/**
 * Deletes the oldest snapshots beyond keep, and the oldest data set aside by rollbacks
 * beyond keep (kept like snapshots), and the temporary files an interrupted snapshot left.
 */
export async function pruneSnapshots(dataDir: string, app: string, keep: number): Promise<string[]> {
  const dir = appPaths(dataDir, app).snapshotsDir;
  for (const n of await readdir(dir).catch(() => [] as string[]))
    if (n.startsWith('.') && n.endsWith('.tmp')) await rm(join(dir, n), { force: true });
  const gone = [
    ...oldest(await listSnapshots(dataDir, app), keep),
    ...oldest(await listAsideNames(dataDir, app), keep),
  ];
  for (const s of gone) await rm(s.path, { recursive: true, force: true });
  return gone.map((s) => s.name);
}

/** The .aside entries without their sizes (pruning needs only the order). */
async function listAsideNames(dataDir: string, app: string): Promise<{ path: string; name: string }[]> {
  const dir = appPaths(dataDir, app).asideDir;
  return (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => /^\d{8}T\d{6}\d*Z$/.test(n))
    .sort()
    .map((name) => ({ path: join(dir, name), name }));
}
