// --move-data / --copy-data: a folder beside the compose file (`./data`) goes into the app's
// volume in berth's data dir, whole or not at all. Stage: copy into a dot-folder beside the
// volume; verify: the same tree (names, kinds, sizes, modes, link targets); then one rename
// makes it the volume. A move then sets the source aside by one rename and removes it. A
// kill at any point leaves the data whole in one place: before the rename in the source
// (the stage is leftover, removed by the next import), after it in the volume (the set-aside
// source, named so, is removed by the next import).
import { cp, lchown, lstat, readdir, readlink, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface TakeRequest {
  from: string;
  /** The volume dir it becomes (must not exist, or be empty). */
  to: string;
  move: boolean;
}

const STAGE = (to: string) => join(dirname(to), `.${basename(to)}.import-stage`);
const ASIDE = (from: string) => join(dirname(from), `.${basename(from)}.moved-to-berth`);

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/** Leftovers of an import that was killed: a stage (the source is still whole) and a set-aside source (the volume is whole). */
export async function clearLeftovers(req: TakeRequest): Promise<void> {
  await rm(STAGE(req.to), { recursive: true, force: true });
  if (await exists(req.to)) await rm(ASIDE(req.from), { recursive: true, force: true });
}

/** Why the take cannot start, or undefined: a volume that already holds data is never mixed into. */
export async function takeRefusal(req: TakeRequest): Promise<string | undefined> {
  const held = await readdir(req.to).catch(() => undefined);
  if (held && held.length > 0)
    return `${req.to} already holds data (${held.length} entries): nothing was ${req.move ? 'moved' : 'copied'}; empty it or import without --${req.move ? 'move' : 'copy'}-data`;
  return undefined;
}

/**
 * A tree as lines: path, kind, size, mode, owner, link target (what must be the same after
 * the copy). With `ownAs`, each entry of `root` first gets the owner its twin there has
 * (a copy is made by root; the app may run as another user).
 */
async function treeOf(root: string, ownAs?: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    if (ownAs) {
      const src = await lstat(join(ownAs, rel));
      await lchown(join(root, rel), src.uid, src.gid);
    }
    const st = await lstat(join(root, rel));
    const kind = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : 'o';
    const link = kind === 'l' ? await readlink(join(root, rel)) : '';
    out.push(
      `${rel}\t${kind}\t${kind === 'f' ? st.size : 0}\t${st.mode & 0o7777}\t${st.uid}:${st.gid}\t${link}`,
    );
    if (kind === 'd') for (const e of (await readdir(join(root, rel))).sort()) await walk(join(rel, e));
  };
  await walk('.');
  return out;
}

export async function takeData(req: TakeRequest): Promise<void> {
  await clearLeftovers(req);
  const refused = await takeRefusal(req);
  if (refused) throw new Error(refused);
  const stage = STAGE(req.to);
  await cp(req.from, stage, {
    recursive: true,
    preserveTimestamps: true,
    verbatimSymlinks: true,
    errorOnExist: true,
    force: false,
  });
  const want = await treeOf(req.from);
  const got = await treeOf(stage, req.from);
  if (want.join('\n') !== got.join('\n')) {
    await rm(stage, { recursive: true, force: true });
    throw new Error(`the copy of ${req.from} differs from it: nothing was taken`);
  }
  // An empty volume dir (made by an earlier apply) gives way to the staged copy.
  await rmdir(req.to).catch(() => undefined);
  await rename(stage, req.to);
  if (!req.move) return;
  const aside = ASIDE(req.from);
  await rename(req.from, aside);
  await rm(aside, { recursive: true, force: true });
}
