// What is carried from the running root into another version's slot before it boots, on
// real files: a running root as a person left it, and a fresh slot as the next version ships it.
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { renderDeviceTimeout, renderMountUnit } from '../../src/disks/mount-unit.js';
import { carryOver } from '../../src/os/carry.js';

let from: string;
let to: string;
const put = (root: string, path: string, text: string, mode = 0o644) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text, { mode });
};
const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

beforeEach(() => {
  const w = mkdtempSync(join(tmpdir(), 'berth-carry-'));
  from = join(w, 'running');
  to = join(w, 'next');
  // The running version, as the person left it.
  put(from, 'etc/machine-id', 'abc123\n');
  put(from, 'etc/hostname', 'nas\n');
  symlinkSync('/usr/share/zoneinfo/Europe/Berlin', join(from, 'etc/localtime'));
  put(from, 'etc/ssh/ssh_host_ed25519_key', 'PRIVATE', 0o600);
  put(from, 'etc/ssh/ssh_host_ed25519_key.pub', 'PUBLIC');
  put(from, 'etc/ssh/sshd_config', 'from the running version');
  put(from, 'etc/shadow', 'root:$y$j9T$hash:20000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n', 0o640);
  put(from, 'etc/systemd/network/30-static.network', '[Match]\nName=en*\n');
  put(from, 'etc/systemd/system/berth-samba.service', 'the app unit');
  put(from, 'etc/systemd/system/berth.service', "the running version's berth unit");
  mkdirSync(join(from, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
  symlinkSync(
    '/etc/systemd/system/berth-samba.service',
    join(from, 'etc/systemd/system/multi-user.target.wants/berth-samba.service'),
  );
  // The next version as shipped: its own berth unit, a new system user, a stale password-login file.
  put(
    from,
    'etc/fstab',
    'PARTLABEL=berth-var\t/var\text4\tdefaults\t0\t2\n# a comment\nLABEL=films /srv/films ext4 nofail 0 2\n',
  );
  put(to, 'etc/fstab', 'PARTLABEL=berth-var\t/var\text4\tdefaults,noatime\t0\t2\n');
  put(
    from,
    'usr/lib/berth/fstab',
    'PARTLABEL=berth-var\t/var\text4\tdefaults\t0\t2\nPARTLABEL=esp /efi vfat umask=0077 0 2\n',
  );
  put(to, 'etc/systemd/system/berth-removed-app.service', 'an app removed since this slot last ran');
  put(to, 'etc/machine-id', '');
  put(to, 'etc/hostname', 'berth\n');
  put(
    to,
    'etc/shadow',
    'root:*:20100:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nnewuser:!:20100::::::\n',
    0o640,
  );
  put(to, 'etc/systemd/system/berth.service', "the next version's berth unit");
  put(to, 'etc/ssh/sshd_config', 'from the next version');
  put(to, 'etc/ssh/sshd_config.d/10-berth-password-login.conf', 'PasswordAuthentication yes');
});
afterEach(() => rmSync(dirname(from), { recursive: true, force: true }));

it("carries the person's settings and the apps' units, and keeps the next version's own files", async () => {
  const done = await carryOver(from, to);
  expect(read(to, 'etc/machine-id')).toBe('abc123\n');
  expect(read(to, 'etc/hostname')).toBe('nas\n');
  expect(readlinkSync(join(to, 'etc/localtime'))).toBe('/usr/share/zoneinfo/Europe/Berlin');
  expect(read(to, 'etc/ssh/ssh_host_ed25519_key')).toBe('PRIVATE');
  expect(lstatSync(join(to, 'etc/ssh/ssh_host_ed25519_key')).mode & 0o777).toBe(0o600);
  expect(read(to, 'etc/systemd/network/30-static.network')).toContain('Name=en*');
  expect(read(to, 'etc/systemd/system/berth-samba.service')).toBe('the app unit');
  expect(readlinkSync(join(to, 'etc/systemd/system/multi-user.target.wants/berth-samba.service'))).toBe(
    '/etc/systemd/system/berth-samba.service',
  );
  // The next version's own files stay its own.
  expect(read(to, 'etc/systemd/system/berth.service')).toBe("the next version's berth unit");
  expect(read(to, 'etc/ssh/sshd_config')).toBe('from the next version');
  // Root's password line only; the next version's new system user stays.
  expect(read(to, 'etc/shadow')).toBe(
    'root:$y$j9T$hash:20000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nnewuser:!:20100::::::\n',
  );
  expect(lstatSync(join(to, 'etc/shadow')).mode & 0o777).toBe(0o640);
  // Password login was not on in the running version: the next one does not turn it on.
  expect(existsSync(join(to, 'etc/ssh/sshd_config.d/10-berth-password-login.conf'))).toBe(false);
  expect(done).toContain("root's password (etc/shadow)");
  // An app removed since the target last ran does not come back.
  expect(existsSync(join(to, 'etc/systemd/system/berth-removed-app.service'))).toBe(false);
  // A data disk the person added; the next version's own line for /var wins, and a line the
  // running version shipped itself (/efi) is not carried (the next version may have dropped it).
  expect(read(to, 'etc/fstab')).toBe(
    'PARTLABEL=berth-var\t/var\text4\tdefaults,noatime\t0\t2\nLABEL=films /srv/films ext4 nofail 0 2\n',
  );
  // No temporary files are left behind.
  expect(JSON.stringify(done)).not.toMatch(/berth-carry/);
});

it('carrying twice changes nothing more', async () => {
  await carryOver(from, to);
  const again = await carryOver(from, to);
  expect(again).not.toContain("root's password (etc/shadow)");
  expect(again).not.toContain('etc/systemd/system/berth-samba.service');
  expect(again.filter((d) => d.startsWith('etc/fstab'))).toEqual([]);
});

it('never writes outside the other slot through a symlink in it', async () => {
  const outside = join(dirname(from), 'outside');
  mkdirSync(outside);
  rmSync(join(to, 'etc/ssh'), { recursive: true, force: true });
  symlinkSync(outside, join(to, 'etc/ssh'));
  await expect(carryOver(from, to)).rejects.toThrow(/leads out of the other slot/);
  expect(readdirSync(outside)).toEqual([]);
});

it("carries the data disks' mount units, their device drop-ins and links, and only berth's", async () => {
  const sys = 'etc/systemd/system';
  const media = renderMountUnit('media');
  const timeout = renderDeviceTimeout('media');
  put(from, `${sys}/${media.path}`, media.text);
  put(from, `${sys}/${timeout.path}`, timeout.text);
  for (const wants of ['multi-user.target.wants', 'dev-disk-by\\x2dlabel-media.device.wants']) {
    mkdirSync(join(from, sys, wants), { recursive: true });
    symlinkSync(`/etc/systemd/system/${media.path}`, join(from, sys, wants, media.path));
  }
  // The app on the disk is started by its mount.
  mkdirSync(join(from, sys, 'srv-media.mount.wants'));
  symlinkSync(
    '/etc/systemd/system/berth-samba.service',
    join(from, sys, 'srv-media.mount.wants/berth-samba.service'),
  );
  // A person's own mount unit (no berth mark) is not berth's to carry or remove.
  put(from, `${sys}/srv-own.mount`, '[Mount]\nWhat=/dev/sdz1\nWhere=/srv/own\n');
  put(to, `${sys}/mnt-theirs.mount`, '[Mount]\nWhat=/dev/sdy1\nWhere=/mnt/theirs\n');
  // A disk berth had when the target last ran, removed since.
  const old = renderMountUnit('old');
  put(to, `${sys}/${old.path}`, old.text);
  mkdirSync(join(to, sys, 'multi-user.target.wants'), { recursive: true });
  symlinkSync(`/etc/systemd/system/${old.path}`, join(to, sys, 'multi-user.target.wants', old.path));

  await carryOver(from, to);
  expect(read(to, `${sys}/srv-media.mount`)).toBe(media.text);
  expect(read(to, `${sys}/dev-disk-by\\x2dlabel-media.device.d/berth-disk-timeout.conf`)).toContain(
    'JobRunningTimeoutSec=30s',
  );
  for (const wants of ['multi-user.target.wants', 'dev-disk-by\\x2dlabel-media.device.wants'])
    expect(readlinkSync(join(to, sys, wants, 'srv-media.mount'))).toBe('/etc/systemd/system/srv-media.mount');
  expect(readlinkSync(join(to, sys, 'srv-media.mount.wants/berth-samba.service'))).toBe(
    '/etc/systemd/system/berth-samba.service',
  );
  expect(existsSync(join(to, sys, 'srv-own.mount'))).toBe(false);
  expect(read(to, `${sys}/mnt-theirs.mount`)).toContain('/mnt/theirs');
  expect(existsSync(join(to, sys, old.path))).toBe(false);
  expect(existsSync(join(to, sys, 'multi-user.target.wants', old.path))).toBe(false);
});
