// What a person set that lives in /etc, carried from the running root into another version's
// root slot before it boots (at install, and before going back by hand). Everything else a
// person makes is on /var, which every version mounts: recipes (/etc/berth links there), app
// data, the image store, root's home with authorized_keys.
import { constants } from 'node:fs';
import {
  chown,
  copyFile,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { berthDiskUnits } from '../disks/add-facts.js';

/** Files copied as they are, when the running root has them. */
const FILES = [
  'etc/machine-id', // networkd's DHCP client ID, the journal's directory
  'etc/hostname',
  'etc/hosts',
  'etc/localtime',
  'etc/timezone',
];
/** Files that follow the running root: copied, or removed from the target when absent. */
const MIRRORED = [
  'etc/ssh/sshd_config.d/10-berth-password-login.conf',
  'etc/issue.d/berth-one-time-password.issue',
];

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/**
 * The folder `to` goes into, made if missing, checked to lie inside the target root: a
 * symlink in the other slot (say etc/ssh -> /etc/ssh) must not lead the copy out of it.
 */
async function insideTarget(top: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const real = await realpath(dirname(to));
  const root = await realpath(top);
  if (real !== root && !real.startsWith(`${root}/`))
    throw new Error(`${dirname(to)} leads out of the other slot (to ${real}); nothing was copied there`);
}

async function copyEntry(top: string, from: string, to: string): Promise<void> {
  await insideTarget(top, to);
  const st = await lstat(from);
  const tmp = `${to}.berth-carry`;
  await rm(tmp, { force: true, recursive: true });
  if (st.isSymbolicLink()) await symlink(await readlink(from), tmp);
  else if (st.isDirectory()) {
    await mkdir(tmp, { mode: st.mode & 0o7777 });
    for (const name of await readdir(from)) await copyEntry(top, join(from, name), join(tmp, name));
  } else await copyFile(from, tmp, constants.COPYFILE_EXCL);
  await rm(to, { force: true, recursive: true });
  await rename(tmp, to);
}

/** Root's line of the running /etc/shadow into the target's (system users stay the target's). */
async function carryRootPassword(from: string, to: string): Promise<boolean> {
  const src = await readFile(join(from, 'etc/shadow'), 'utf8').catch(() => undefined);
  const dst = await readFile(join(to, 'etc/shadow'), 'utf8').catch(() => undefined);
  const line = src?.split('\n').find((l) => l.startsWith('root:'));
  if (!line || dst === undefined) return false;
  const lines = dst.split('\n');
  const i = lines.findIndex((l) => l.startsWith('root:'));
  if (i < 0 || lines[i] === line) return false;
  lines[i] = line;
  const target = join(to, 'etc/shadow');
  const st = await stat(target);
  const tmp = `${target}.berth-carry`;
  await writeFile(tmp, lines.join('\n'), { mode: st.mode & 0o7777 });
  await chown(tmp, st.uid, st.gid);
  await rename(tmp, target);
  return true;
}

/**
 * A person's own mounts (a data disk): fstab lines the running version did not ship itself
 * (its copy is in usr/lib/berth/fstab) and whose mount point the target has no line for.
 */
async function carryMounts(from: string, to: string): Promise<string[]> {
  const factory = new Set(
    (await readFile(join(from, 'usr/lib/berth/fstab'), 'utf8').catch(() => ''))
      .split('\n')
      .map((l) => l.trim()),
  );
  const src = await readFile(join(from, 'etc/fstab'), 'utf8').catch(() => '');
  const dst = await readFile(join(to, 'etc/fstab'), 'utf8').catch(() => undefined);
  if (dst === undefined) return [];
  const point = (l: string) => (/^\s*#/.test(l) ? undefined : l.trim().split(/\s+/)[1]);
  const have = new Set(dst.split('\n').map(point).filter(Boolean));
  const add = src.split('\n').filter((l) => {
    const p = point(l);
    return p !== undefined && !have.has(p) && !factory.has(l.trim());
  });
  if (add.length === 0) return [];
  const target = join(to, 'etc/fstab');
  await writeFile(`${target}.berth-carry`, `${dst.replace(/\n*$/, '\n')}${add.join('\n')}\n`, {
    mode: 0o644,
  });
  await rename(`${target}.berth-carry`, target);
  return add.map((l) => `etc/fstab: ${l.trim().split(/\s+/)[1]}`);
}

/** Whether two entries are the same file content or the same link (then nothing is copied). */
async function same(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([lstat(a).catch(() => undefined), lstat(b).catch(() => undefined)]);
  if (!sa || !sb) return false;
  if (sa.isSymbolicLink() && sb.isSymbolicLink()) return (await readlink(a)) === (await readlink(b));
  if (sa.isFile() && sb.isFile() && sa.size === sb.size) return (await readFile(a)).equals(await readFile(b));
  return false;
}

/**
 * Copies the list from root `from` into root `to` (both directories: `/` and where the
 * other slot is mounted). Returns what was carried, for the log.
 */
export async function carryOver(from: string, to: string): Promise<string[]> {
  const done: string[] = [];
  const copy = async (rel: string, note = rel) => {
    await copyEntry(to, join(from, rel), join(to, rel));
    done.push(note);
  };
  for (const f of FILES) if (await exists(join(from, f))) await copy(f);
  for (const f of MIRRORED) {
    if (await exists(join(from, f))) await copy(f);
    else if (await exists(join(to, f))) {
      await rm(join(to, f), { force: true });
      done.push(`${f} (removed)`);
    }
  }
  // Host keys: clients keep trusting the machine after an update.
  const ssh = await readdir(join(from, 'etc/ssh')).catch(() => [] as string[]);
  for (const name of ssh.filter((n) => n.startsWith('ssh_host_')).sort()) await copy(`etc/ssh/${name}`);
  // A person's own network files (berth's default is in /usr/lib/systemd/network).
  for (const name of (await readdir(join(from, 'etc/systemd/network')).catch(() => [] as string[])).sort())
    await copy(`etc/systemd/network/${name}`);
  // What berth wrote for the apps and the data disks (berth-* in /etc/systemd/system, its
  // .wants folders and drop-in folders, and the disks' mount units, which carry berth's mark;
  // berth's own units are in /usr): the target gets exactly the running set, so the apps and
  // their disks come up at boot even before berth runs, and what was removed since does not come back.
  const sys = 'etc/systemd/system';
  const disks = new Map([
    [from, new Set((await berthDiskUnits(join(from, sys))).keys())],
    [to, new Set((await berthDiskUnits(join(to, sys))).keys())],
  ]);
  const mirror = async (dir: string) => {
    const names = async (root: string) =>
      (await readdir(join(root, dir)).catch(() => [] as string[]))
        .filter((n) => n.startsWith('berth-') || disks.get(root)!.has(n))
        .sort();
    const have = await names(from);
    for (const n of have) if (!(await same(join(from, dir, n), join(to, dir, n)))) await copy(`${dir}/${n}`);
    for (const n of await names(to))
      if (!have.includes(n)) {
        await rm(join(to, dir, n), { recursive: true, force: true });
        done.push(`${dir}/${n} (removed)`);
      }
  };
  await mirror(sys);
  const folders = new Set(
    [
      ...(await readdir(join(from, sys)).catch(() => [] as string[])),
      ...(await readdir(join(to, sys)).catch(() => [] as string[])),
    ].filter((n) => n.endsWith('.wants') || n.endsWith('.requires') || n.endsWith('.d')),
  );
  for (const f of [...folders].sort()) await mirror(`${sys}/${f}`);
  done.push(...(await carryMounts(from, to)));
  if (await carryRootPassword(from, to)) done.push("root's password (etc/shadow)");
  return done;
}
