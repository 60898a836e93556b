// How the appliance finds its BERTH partition (image-build/os/mount-settings, plain sh), with
// the system's tools faked on PATH: from the partition table of the disk holding /, by GPT
// name, with no udev link; a partition node that appears late is waited for, then mounted.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '../../image-build/os/mount-settings');
let work: string;

async function tool(name: string, body: string) {
  await writeFile(join(work, 'bin', name), `#!/bin/sh\n${body}\n`);
  await chmod(join(work, 'bin', name), 0o755);
}

/** The boot disk's table as sfdisk --dump prints it, its nodes under the test's dev/. */
const table = (settingsName: string) =>
  [
    'label: gpt',
    `${work}/dev/vda1 : start=2048, size=524288, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"`,
    `${work}/dev/vda2 : start=526336, size=131072, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="${settingsName}"`,
    `${work}/dev/vda3 : start=657408, size=4194304, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="berth-root_0.1.0"`,
  ].join('\n');

async function run(o: { name?: string; mounted?: boolean; wait?: number }) {
  await tool('mountpoint', o.mounted ? 'exit 0' : 'exit 1');
  await tool('findmnt', `echo ${work}/dev/vda3`);
  await tool('lsblk', `case "$*" in *" ${work}/dev/vda3") echo vda ;; esac`);
  await tool('sfdisk', `[ "$*" = "--dump /dev/vda" ] && cat <<'T'\n${table(o.name ?? 'berth-settings')}\nT`);
  await tool('fsck.vfat', `echo "$*" >> ${work}/calls`);
  await tool('mount', `echo "mount $*" >> ${work}/calls`);
  return new Promise<{ code: number; out: string }>((resolve) =>
    execFile(
      'sh',
      [SCRIPT],
      {
        env: {
          PATH: `${join(work, 'bin')}:/usr/bin:/bin`,
          BERTH_SETTINGS_MOUNT: join(work, 'boot-berth'),
          BERTH_SETTINGS_WAIT: String(o.wait ?? 10),
        },
      },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    ),
  );
}
const calls = () => readFile(join(work, 'calls'), 'utf8').catch(() => '');

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-settings-part-'));
  await mkdir(join(work, 'bin'));
  await mkdir(join(work, 'dev'));
});
afterEach(() => rm(work, { recursive: true, force: true }));

describe('finding the BERTH partition at boot', () => {
  it('waits for a partition node that appears late, then checks and mounts it', async () => {
    const late = setTimeout(() => void writeFile(join(work, 'dev', 'vda2'), ''), 1500);
    const r = await run({});
    clearTimeout(late);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain(`mounted ${work}/dev/vda2 (the BERTH partition)`);
    expect(await calls()).toBe(
      `-a ${work}/dev/vda2\nmount -t vfat -o noexec,nosuid,nodev,umask=0077,quiet,flush ${work}/dev/vda2 ${work}/boot-berth\n`,
    );
  }, 15_000);

  it('a node that never appears fails the import (it says so) instead of going on without it', async () => {
    const r = await run({ wait: 1 });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/vda2 \(the BERTH partition\) did not appear within 1 s/);
    expect(await calls()).toBe('');
  }, 15_000);

  it('a disk without the partition is no error: nothing to import', async () => {
    const r = await run({ name: 'something-else' });
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/no partition named berth-settings on \/dev\/vda/);
    expect(await calls()).toBe('');
  });

  it('an already mounted partition is left as it is', async () => {
    const r = await run({ mounted: true });
    expect(r).toMatchObject({ code: 0, out: '' });
    expect(await calls()).toBe('');
  });
});
