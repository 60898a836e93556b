// berth disks add on a real block device: a loop device over a sparse file, read with the
// real lsblk, refused while it holds a file system, then wiped and formatted by the real
// wipefs and mkfs.ext4 (blkid reads the label back). systemd is not PID 1 here: the mount
// itself is proven in QEMU; its units pass systemd-analyze verify.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planAdd } from '../../src/disks/add.js';
import { diskHandlers } from '../../src/disks/execute.js';
import { readAddFacts } from '../../src/disks/add-facts.js';
import { renderMountUnit } from '../../src/disks/mount-unit.js';
import { spawnRunner } from '../../src/process/run.js';
import { renderUnit } from '../../src/render/unit.js';
import { RENDER_CTX, validApp, verifyUnits } from '../helpers.js';

const asRoot = (argv: string[]) => (process.getuid?.() === 0 ? argv : ['sudo', '-n', ...argv]);
const sh = (argv: string[]) =>
  execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 }).trim();
const root = (argv: string[]) => sh(asRoot(argv));

let work: string;
let loop = '';
const label = `bt-${process.pid % 100000}`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-datadisk-'));
  await mkdir(join(work, 'srv'));
  await mkdir(join(work, 'units'));
  const image = join(work, 'disk.img');
  await truncate(image, 64 * 1024 * 1024).catch(async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(image, '');
    await truncate(image, 64 * 1024 * 1024);
  });
  // What a person's old disk holds: a file system with a label of its own.
  sh(['mkfs.ext4', '-q', '-F', '-L', 'holiday-pics', image]);
  loop = root(['losetup', '-f', '--show', image]);
}, 60_000);

afterAll(async () => {
  if (loop) root(['losetup', '-d', loop]);
  await rm(work, { recursive: true, force: true });
});

const facts = () =>
  readAddFacts(loop, { run: spawnRunner, unitDir: join(work, 'units'), srvDir: join(work, 'srv') });

describe('berth disks add on a loop device', () => {
  it('refuses without --yes, saying what would be erased', async () => {
    const plan = planAdd(await facts(), { label, yes: false });
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.message).toMatch(/holds file systems or partitions, .*--yes/);
    expect(plan.erase).toEqual([
      { path: loop, type: 'loop', size: '64 MiB', fstype: 'ext4', label: 'holiday-pics' },
    ]);
  });

  it('with --yes, wipes it and formats ext4 with the label', async () => {
    const plan = planAdd(await facts(), { label, yes: true });
    if (!plan.ok) throw new Error(plan.message);
    const format = plan.steps.find((s) => s.kind === 'wipe-and-format');
    if (format?.kind !== 'wipe-and-format') throw new Error('no format step');
    const run =
      process.getuid?.() === 0
        ? spawnRunner
        : (argv: readonly string[], o: Parameters<typeof spawnRunner>[1]) =>
            spawnRunner(asRoot([...argv]), o);
    const handlers = diskHandlers({
      run,
      systemd: { reload: async () => {}, enable: async () => {}, start: async () => 'done' },
      unitDir: join(work, 'units'),
    });
    expect(await handlers['wipe-and-format'](format)).toBe(`formatted ${loop} as ext4, labelled ${label}`);
    expect(root(['blkid', '-p', '-o', 'value', '-s', 'LABEL', loop])).toBe(label);
    expect(root(['blkid', '-p', '-o', 'value', '-s', 'TYPE', loop])).toBe('ext4');
    // Formatted, it holds berth's file system now: a second add would ask for --yes again.
    const again = planAdd(await facts(), { label: 'other', yes: false });
    expect(again.ok).toBe(false);
  }, 120_000);

  it("passes systemd-analyze verify: the mount unit, and an app's unit wanted by it", () => {
    const app = validApp(
      'name: photos\nimage: docker.io/library/busybox:1.36\nvolumes:\n  lib: {target: /l, disk: media-2}\n',
    );
    const unit = renderUnit(app, RENDER_CTX);
    expect(
      verifyUnits([{ name: renderMountUnit('media-2').path, text: renderMountUnit('media-2').text }, unit]),
    ).toBe('');
  });
});
