// Putting a snapshot back, so that no path ever leaves an app on half-restored data: the
// archive is read whole first (a damaged one is found before anything moves), the space its
// copy needs is checked, each of its paths is extracted into a staging dir beside it, and
// only then is what is there now moved aside and the staged copy renamed into place. On any
// failure the moves are undone: the data is either what it was, or the complete snapshot.
import { chmod, chown, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type FreeBytes, formatBytes, freeBytes } from '../exec/space.js';
import { faultPoint } from '../exec/faults.js';
import { spawnRunner } from '../process/run.js';
import { appPaths } from '../render/paths.js';
import { ASIDE_PREFIX, RESTORE_PREFIX, SNAPSHOT_FLOOR, stamp, TAR_KEEP, TAR_LIMIT, tarError } from './tar.js';

/** A restore that did not go through; the message says where the data is. */
export class RestoreError extends Error {}

/** One top-level path the archive writes (as the snapshot stored it), and what it holds. */
export interface ArchiveRoot {
  /** Absolute path on the host. */
  path: string;
  /** The member name in the archive (relative to /, no trailing slash). */
  member: string;
  isDir: boolean;
  bytes: number;
}

/** GNU tar's default quoting ("escape"): backslash escapes for backslash and unprintable bytes. */
export function unescapeTarName(s: string): string {
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', b: '\b', a: '\x07' };
  return s.replace(/\\([0-7]{3}|.)/g, (_, e: string) =>
    /^[0-7]{3}$/.test(e) ? String.fromCharCode(Number.parseInt(e, 8)) : (simple[e] ?? e),
  );
}

/**
 * The archive's top-level paths from `tar --list --verbose` lines: a member not under an
 * earlier root starts a new one (tar writes each path it was given, then what is under it).
 */
export function archiveRoots(listing: string): ArchiveRoot[] {
  const roots: ArchiveRoot[] = [];
  for (const line of listing.split('\n')) {
    const m = /^(\S)\S*\s+\S+\s+(\S+)\s+\S+\s+\S+\s(.*)$/.exec(line);
    if (!m) continue;
    const [, type, size, rest] = m as unknown as [string, string, string, string];
    let name = rest;
    if (type === 'l') name = name.split(' -> ')[0]!;
    if (type === 'h') name = name.split(' link to ')[0]!;
    name = unescapeTarName(name).replace(/\/+$/, '');
    const bytes = (/^\d+$/.test(size) ? Number(size) : 0) + 512;
    const owner = roots.find((r) => name === r.member || name.startsWith(`${r.member}/`));
    if (owner) owner.bytes += bytes;
    else roots.push({ path: `/${name}`, member: name, isDir: type === 'd', bytes });
  }
  return roots;
}

async function listArchive(snapshot: string): Promise<ArchiveRoot[]> {
  const r = await spawnRunner(
    ['tar', '--list', '--verbose', '--zstd', '--numeric-owner', `--file=${snapshot}`],
    TAR_LIMIT,
  );
  if (r.code !== 0)
    throw new RestoreError(
      `the snapshot ${basename(snapshot)} cannot be read (${tarError(r)}); nothing was moved, the data is as it was`,
    );
  return archiveRoots(r.stdout);
}

/** Where one root is staged, and where what is there now goes. */
interface Placement {
  root: ArchiveRoot;
  /** The staging dir tar extracts into (the member lands at staging/member). */
  staging: string;
  /**
   * whole: the path itself is renamed (berth's volumes, single files); contents: its entries
   * are (a host directory may be a mount point, which cannot be renamed).
   */
  how: 'whole' | 'contents';
  /** Where the current data goes: a dir that receives the path (whole) or its entries (contents). */
  aside: string;
}

function placements(dataDir: string, app: string, roots: readonly ArchiveRoot[], at: string): Placement[] {
  const p = appPaths(dataDir, app);
  return roots.map((root) => {
    if (root.path.startsWith(`${p.root}/`))
      return { root, staging: join(p.root, RESTORE_PREFIX + at), how: 'whole', aside: join(p.asideDir, at) };
    if (root.isDir)
      return {
        root,
        staging: join(root.path, RESTORE_PREFIX + at),
        how: 'contents',
        aside: join(root.path, ASIDE_PREFIX + at),
      };
    const dir = dirname(root.path);
    return {
      root,
      staging: join(dir, RESTORE_PREFIX + at),
      how: 'whole',
      aside: join(dir, ASIDE_PREFIX + at),
    };
  });
}

const exists = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );

/** Staging dirs an interrupted restore left: never data, so removed before a new one. */
async function removeStaleStaging(places: readonly Placement[]): Promise<void> {
  for (const dir of new Set(places.map((x) => dirname(x.staging))))
    for (const n of await readdir(dir).catch(() => [] as string[]))
      if (n.startsWith(RESTORE_PREFIX)) await rm(join(dir, n), { recursive: true, force: true });
}

/** Refuses when staging the archive would leave less than the floor free (per file system). */
async function requireRestoreSpace(places: readonly Placement[], free: FreeBytes): Promise<void> {
  const need = new Map<string, number>();
  for (const x of places) {
    const at = dirname(x.staging);
    need.set(at, (need.get(at) ?? 0) + x.root.bytes);
  }
  const seen = new Map<number, number>();
  for (const [dir, bytes] of need) {
    const dev = (await lstat(dir).catch(() => undefined))?.dev ?? -1;
    const total = (seen.get(dev) ?? 0) + bytes;
    seen.set(dev, total);
    const have = await free(dir);
    if (have - total < SNAPSHOT_FLOOR)
      throw new RestoreError(
        `not enough free space to restore the snapshot: its copy needs up to ${formatBytes(total)} in ${dir} while the data there now is kept, ` +
          `${formatBytes(have)} is free and berth keeps ${formatBytes(SNAPSHOT_FLOOR)} free; nothing was moved, the data is as it was`,
      );
  }
}

async function extract(snapshot: string, x: Placement): Promise<void> {
  // Several of berth's volumes share one staging dir (beside them, in the app's dir).
  await mkdir(x.staging, { recursive: true, mode: 0o700 });
  const r = await spawnRunner(
    [
      'tar',
      '--extract',
      '--zstd',
      ...TAR_KEEP,
      '--same-permissions',
      '--same-owner',
      '--no-wildcards',
      `--file=${snapshot}`,
      `--directory=${x.staging}`,
      '--',
      x.root.member,
    ],
    TAR_LIMIT,
  );
  if (r.code !== 0) throw new Error(`tar exit ${r.code}: ${tarError(r)}`);
}

/** Renames done so far, undone in reverse when the restore cannot finish. */
type Journal = { from: string; to: string }[];

async function move(from: string, to: string, journal: Journal): Promise<void> {
  await rename(from, to);
  journal.push({ from, to });
}

async function commit(x: Placement, journal: Journal): Promise<void> {
  const staged = join(x.staging, x.root.member);
  const target = x.root.path;
  if (x.how === 'whole') {
    if (await exists(target)) {
      await mkdir(x.aside, { recursive: true, mode: 0o700 });
      await move(target, join(x.aside, basename(target)), journal);
    }
    await mkdir(dirname(target), { recursive: true });
    await move(staged, target, journal);
    return;
  }
  await mkdir(x.aside, { mode: 0o700 });
  for (const e of await readdir(target))
    if (!e.startsWith(ASIDE_PREFIX) && !e.startsWith(RESTORE_PREFIX))
      await move(join(target, e), join(x.aside, e), journal);
  for (const e of await readdir(staged)) await move(join(staged, e), join(target, e), journal);
  // The directory itself cannot move: its mode and owner are set as the snapshot has them.
  const st = await lstat(staged);
  await chmod(target, st.mode & 0o7777);
  const cur = await lstat(target);
  if (cur.uid !== st.uid || cur.gid !== st.gid) await chown(target, st.uid, st.gid);
}

async function undo(journal: Journal): Promise<string[]> {
  const stuck: string[] = [];
  for (const { from, to } of [...journal].reverse())
    await rename(to, from).catch(() => stuck.push(`${from} (now ${to})`));
  return stuck;
}

export interface RestoreDeps {
  now?: Date;
  free?: FreeBytes;
}

/**
 * Puts the data back as the snapshot has it, every path it holds (not only those the recipe
 * names today). What is there now is moved aside, never deleted: berth's own volumes into
 * the app's .aside dir, a host directory's entries into a .berth-aside-<time> dir inside it.
 * Returns where the set-aside data went; throws RestoreError with the data as it was.
 */
export async function restoreSnapshot(
  dataDir: string,
  app: string,
  snapshot: string,
  deps: RestoreDeps = {},
): Promise<string> {
  const st = await lstat(snapshot).catch(() => undefined);
  if (!st?.isFile())
    throw new RestoreError(`the snapshot ${snapshot} is missing; the data was left as it is`);
  const at = stamp(deps.now ?? new Date());
  const roots = await listArchive(snapshot);
  if (roots.length === 0)
    throw new RestoreError(`the snapshot ${basename(snapshot)} holds nothing; the data was left as it is`);
  const places = placements(dataDir, app, roots, at);
  await removeStaleStaging(places);
  await requireRestoreSpace(places, deps.free ?? freeBytes);
  const journal: Journal = [];
  try {
    for (const x of places)
      await extract(snapshot, x).catch((err: Error) => {
        throw new Error(`extracting ${x.root.path} failed (${err.message})`);
      });
    faultPoint('restore-staged');
    for (const x of places)
      await commit(x, journal).catch((err: Error) => {
        throw new Error(`putting ${x.root.path} in place failed (${err.message})`);
      });
  } catch (err) {
    const stuck = await undo(journal);
    for (const x of places) await rm(x.staging, { recursive: true, force: true }).catch(() => undefined);
    throw new RestoreError(
      `restoring ${basename(snapshot)} failed: ${(err as Error).message}; ` +
        (stuck.length === 0
          ? 'the data is as it was before the restore'
          : `the data could not all be put back: ${stuck.join(', ')}`),
    );
  }
  for (const x of places) await rm(x.staging, { recursive: true, force: true }).catch(() => undefined);
  return places[0]!.aside;
}
