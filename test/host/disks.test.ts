// berth disks against this machine's real lsblk and smartctl: every disk read with
// `-n standby,3` (a virtual one says it has no SMART), a loop device with a mounted file system
// mapped to what berth keeps there and left untouched (its /sys/block stat does not move), and
// `berth disks --json` run as a command.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { runCli } from '../../src/cli/run.js';
import { listDisks, readDiskFacts, readSmart } from '../../src/disks/facts.js';
import { parseSmart, smartctlArgv } from '../../src/disks/smart.js';
import { diskRows } from '../../src/disks/view.js';
import { type Runner, spawnRunner } from '../../src/process/run.js';

const run = promisify(execFile);
const sh = (cmd: string, ...args: string[]) => run(cmd, args, { timeout: 30_000 });

/** spawnRunner, recording each argv. */
function recording(): { runner: Runner; calls: string[][] } {
  const calls: string[][] = [];
  return { calls, runner: (argv, o) => (calls.push([...argv]), spawnRunner(argv, o)) };
}

let dir = '';
let loop = '';
let mnt = '';

beforeAll(async () => {
  // /var/tmp: on a disk, where /tmp may be a tmpfs (the CLI test finds the data dir's disk).
  dir = await mkdtemp('/var/tmp/berth-disks-');
  const img = join(dir, 'disk.img');
  mnt = join(dir, 'mnt');
  await mkdir(mnt);
  await sh('truncate', '-s', '32M', img);
  await sh('mkfs.ext4', '-q', '-F', img);
  loop = (await sh('losetup', '--find', '--show', img)).stdout.trim();
  // Read-only: nothing (no journal commit, no lazy init) does I/O on it unless asked to.
  await sh('mount', '-o', 'ro', loop, mnt);
});

afterAll(async () => {
  if (mnt) await sh('umount', mnt).catch(() => undefined);
  if (loop) await sh('losetup', '-d', loop).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const ioCounts = async (dev: string) => {
  const f = (await readFile(`/sys/block/${dev.replace('/dev/', '')}/stat`, 'utf8')).trim().split(/\s+/);
  // Reads, writes, discards, flushes (docs.kernel.org/block/stat.html).
  return [f[0], f[4], f[11], f[15]];
};

describe('berth disks on this machine', () => {
  it('reads every disk with -n standby,3; a virtual disk has no SMART', async () => {
    const { runner, calls } = recording();
    const facts = await readDiskFacts({ runner });
    expect(facts.length).toBeGreaterThan(0);
    for (const f of facts) {
      expect(['ok', 'failing', 'asleep', 'unsupported', 'unknown']).toContain(f.smart.health);
      if (f.virtual) expect(f.smart).toEqual({ health: 'unsupported', reasons: ['no SMART on this device'] });
    }
    const smartctl = calls.filter((c) => c[0] === 'smartctl');
    for (const c of smartctl) expect(c.slice(1, 5)).toEqual(['-j', '-a', '-n', 'standby,3']);
  });

  it('maps a mounted loop device to what berth keeps there, and never touches it', async () => {
    const deps = { runner: spawnRunner };
    const before = await ioCounts(loop);
    const [disk] = await listDisks(deps, [loop]);
    expect(disk).toMatchObject({ path: loop, type: 'loop', mounts: [mnt] });
    // Its type is not known to smartctl: not asked, so as not to wake it.
    expect((await readSmart(deps, disk!)).reasons[0]).toMatch(/^not asked: the device type is not known/);
    const facts = await readDiskFacts(deps, () => true, [loop]);
    const [row] = diskRows(facts, [{ path: join(mnt, 'share'), app: 'samba' }]);
    expect(row).toMatchObject({
      name: loop.replace('/dev/', ''),
      mounts: [mnt],
      berth: ['app data (samba)'],
    });
    expect(await ioCounts(loop)).toEqual(before);
    // smartctl itself says the same as for a virtual disk.
    expect(parseSmart(await spawnRunner(smartctlArgv(loop), { timeoutMs: 20_000 })).health).toBe(
      'unsupported',
    );
  });

  it('berth disks --json and berth disks run', async () => {
    const recipes = join(dir, 'recipes');
    await mkdir(recipes);
    const cli = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), isTty: false };
      const code = await runCli(
        [...argv, '--recipes', recipes, '--data-dir', join(dir, 'data')],
        COMMANDS,
        io,
      );
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const json = await cli('disks', '--json');
    expect(json).toMatchObject({ code: 0, err: '' });
    const rows = JSON.parse(json.out) as { name: string; berth: string[]; health: string }[];
    expect(rows.length).toBeGreaterThan(0);
    // The data dir is on one of them.
    expect(rows.some((r) => r.berth.includes("berth's data dir"))).toBe(true);
    const text = await cli('disks');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^DISK +MODEL +SIZE +HEALTH/);
  });
});
