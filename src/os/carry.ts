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
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';

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

async function copyEntry(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const st = await lstat(from);
  const tmp = `${to}.berth-carry`;
  await rm(tmp, { force: true, recursive: true });
  if (st.isSymbolicLink()) await symlink(await readlink(from), tmp);
  else if (st.isDirectory()) {
    await mkdir(tmp, { mode: st.mode & 0o7777 });
    for (const name of await readdir(from)) await copyEntry(join(from, name), join(tmp, name));
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

/** A person's own mounts (a data disk): fstab lines whose mount point the target has no line for. */
async function carryMounts(from: string, to: string): Promise<string[]> {
  const src = await readFile(join(from, 'etc/fstab'), 'utf8').catch(() => '');
  const dst = await readFile(join(to, 'etc/fstab'), 'utf8').catch(() => undefined);
  if (dst === undefined) return [];
  const point = (l: string) => (/^\s*#/.test(l) ? undefined : l.trim().split(/\s+/)[1]);
  const have = new Set(dst.split('\n').map(point).filter(Boolean));
  const add = src.split('\n').filter((l) => {
    const p = point(l);
    return p !== undefined && !have.has(p);
  });
  if (add.length === 0) return [];
  const target = join(to, 'etc/fstab');
  await writeFile(`${target}.berth-carry`, `${dst.replace(/\n*$/, '\n')}${add.join('\n')}\n`, {
    mode: 0o644,
  });
  await rename(`${target}.berth-carry`, target);
  return add.map((l) => `etc/fstab: ${l.trim().split(/\s+/)[1]}`);
}

/**
 * Copies the list from root `from` into root `to` (both directories: `/` and where the
 * other slot is mounted). Returns what was carried, for the log.
 */
export async function carryOver(from: string, to: string): Promise<string[]> {
  const done: string[] = [];
  for (const f of FILES)
    if (await exists(join(from, f))) {
      await copyEntry(join(from, f), join(to, f));
      done.push(f);
    }
  for (const f of MIRRORED) {
    if (await exists(join(from, f))) {
      await copyEntry(join(from, f), join(to, f));
      done.push(f);
    } else if (await exists(join(to, f))) {
      await rm(join(to, f), { force: true });
      done.push(`${f} (removed)`);
    }
  }
  // Host keys: clients keep trusting the machine after an update.
  const ssh = await readdir(join(from, 'etc/ssh')).catch(() => [] as string[]);
  for (const name of ssh.filter((n) => n.startsWith('ssh_host_')).sort()) {
    await copyEntry(join(from, 'etc/ssh', name), join(to, 'etc/ssh', name));
    done.push(`etc/ssh/${name}`);
  }
  // A person's own network files (berth's default is in /usr/lib/systemd/network).
  for (const name of (await readdir(join(from, 'etc/systemd/network')).catch(() => [] as string[])).sort()) {
    await copyEntry(join(from, 'etc/systemd/network', name), join(to, 'etc/systemd/network', name));
    done.push(`etc/systemd/network/${name}`);
  }
  // The apps' units berth wrote, so the apps start at boot even before berth runs; the
  // target's own berth units (the new version's) are never replaced.
  const units = join(from, 'etc/systemd/system');
  for (const name of (await readdir(units).catch(() => [] as string[])).sort()) {
    if (name.endsWith('.wants') || name.endsWith('.requires')) {
      for (const link of (await readdir(join(units, name)).catch(() => [] as string[])).sort())
        if (link.startsWith('berth-') && !(await exists(join(to, 'etc/systemd/system', name, link)))) {
          await copyEntry(join(units, name, link), join(to, 'etc/systemd/system', name, link));
          done.push(`etc/systemd/system/${name}/${link}`);
        }
    } else if (name.startsWith('berth-') && !(await exists(join(to, 'etc/systemd/system', name)))) {
      await copyEntry(join(units, name), join(to, 'etc/systemd/system', name));
      done.push(`etc/systemd/system/${name}`);
    }
  }
  done.push(...(await carryMounts(from, to)));
  if (await carryRootPassword(from, to)) done.push("root's password (etc/shadow)");
  return done;
}
