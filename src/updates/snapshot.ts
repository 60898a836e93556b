// Data snapshots: the app's data dirs in one zstd-compressed tar, taken with the app
// stopped. Owners, modes, ACLs and xattrs are kept (numeric IDs: the container's users
// have no names on the host). Written under a temporary name, fsynced and renamed, so a
// crash never leaves half a snapshot that counts.
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type FreeBytes, formatBytes, freeBytes, MiB, NoSpaceError } from '../exec/space.js';
import { faultPoint } from '../exec/faults.js';
import { spawnRunner } from '../podman/podman.js';
import { appPaths } from '../render/paths.js';
import { shortId } from './record.js';

/** Free space a snapshot must leave behind on the data file system. */
export const SNAPSHOT_FLOOR = 256 * MiB;

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
/** The longest a tar of an app's data may run. */
const TAR_LIMIT = { timeoutMs: 60 * 60_000 };
const NAME_RE = /^(\d{8}T\d{6}(?:\d{3})?Z)-([0-9a-f]{12})\.tar\.zst$/;

/** Bytes the paths hold (what an archive of them needs at most, before compression). */
export async function sizeOf(paths: readonly string[]): Promise<number> {
  let total = 0;
  const walk = async (p: string): Promise<void> => {
    const st = await stat(p).catch(() => undefined);
    if (!st) return;
    total += st.isFile() ? st.size : 4096;
    if (st.isDirectory())
      for (const e of await readdir(p).catch(() => [] as string[])) await walk(join(p, e));
  };
  for (const p of paths) await walk(p);
  return total;
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('.', '');

/** tar arguments that keep what a restore needs; paths are stored relative to / and restored there. */
const TAR_KEEP = ['--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner'];

export interface SnapshotDeps {
  free?: FreeBytes;
  now?: () => Date;
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
): Promise<string[]> {
  const dir = appPaths(dataDir, app).snapshotsDir;
  const present = [];
  for (const p of paths) if (await stat(p).catch(() => undefined)) present.push(p);
  const need = await sizeOf(present);
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
  const present = await requireSnapshotSpace(dataDir, app, paths, deps.free);
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
        // Data a rollback moved aside is not part of the app's data any more.
        '--exclude=.berth-aside-*',
        '--',
        ...present.map((p) => p.replace(/^\/+/, '')),
      ],
      TAR_LIMIT,
    );
    faultPoint('snapshot-written');
    if (r.code !== 0)
      throw new Error(`tar failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
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

/** Deletes the oldest snapshots beyond keep, and temporary files an interrupted snapshot left. */
export async function pruneSnapshots(dataDir: string, app: string, keep: number): Promise<string[]> {
  const dir = appPaths(dataDir, app).snapshotsDir;
  for (const n of await readdir(dir).catch(() => [] as string[]))
    if (n.startsWith('.') && n.endsWith('.tmp')) await rm(join(dir, n), { force: true });
  const all = await listSnapshots(dataDir, app);
  const gone = all.slice(0, Math.max(0, all.length - keep));
  for (const s of gone) await rm(s.path, { force: true });
  return gone.map((s) => s.name);
}

/**
 * Puts the data back as the snapshot has it. What is there now is moved aside first, never
 * deleted: berth's own volumes into the app's .aside dir, a host path's contents into a
 * .berth-aside-<time> dir inside it (a host path may be a mount point, which cannot move).
 */
export async function restoreSnapshot(
  dataDir: string,
  app: string,
  snapshot: string,
  paths: readonly string[],
  now: Date = new Date(),
): Promise<string> {
  const st = await stat(snapshot).catch(() => undefined);
  if (!st?.isFile()) throw new Error(`the snapshot ${snapshot} is missing; the data was left as it is`);
  const p = appPaths(dataDir, app);
  const aside = join(p.asideDir, stamp(now));
  for (const path of paths) {
    if (!(await stat(path).catch(() => undefined))) continue;
    if (path.startsWith(`${p.root}/`)) {
      await mkdir(aside, { recursive: true, mode: 0o700 });
      await rename(path, join(aside, basename(path)));
    } else {
      const inside = join(path, `.berth-aside-${stamp(now)}`);
      await mkdir(inside, { mode: 0o700 });
      for (const e of await readdir(path))
        if (!e.startsWith('.berth-aside-')) await rename(join(path, e), join(inside, e));
    }
  }
  const r = await spawnRunner(
    [
      'tar',
      '--extract',
      '--zstd',
      ...TAR_KEEP,
      '--same-permissions',
      '--same-owner',
      `--file=${snapshot}`,
      '--directory=/',
    ],
    TAR_LIMIT,
  );
  if (r.code !== 0)
    throw new Error(
      `restoring ${basename(snapshot)} failed (tar exit ${r.code}): ${r.stderr.trim().split('\n').slice(-2).join(' | ')}; the data found before is in ${aside}`,
    );
  return aside;
}
