// A restore that cannot finish leaves the data as it was, with the real tar and zstd on temp
// dirs: a truncated snapshot, tar failing half-way (a full disk), a failure while putting
// the data in place. And what berth does then: the app is kept stopped, and says why.
import { chmod, mkdir, mkdtemp, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { plan } from '../../src/plan/plan.js';
import { Podman } from '../../src/podman/podman.js';
import { desiredApp } from '../../src/state/desired.js';
import type { ServiceManager } from '../../src/systemd/manager.js';
import { runUpdateStep } from '../../src/updates/execute.js';
import { planHeldRollback } from '../../src/updates/plan.js';
import { readHistory, readRecord, type Transition, writeRecord } from '../../src/updates/record.js';
import { archiveRoots, restoreSnapshot } from '../../src/updates/restore.js';
import { SNAPSHOT_FLOOR, takeSnapshot } from '../../src/updates/snapshot.js';
import { RENDER_CTX, validApp } from '../helpers.js';

const ID = 'f'.repeat(64);
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** An app dir with one volume of 20 files in a subdir (21 entries, as the reproduction). */
async function dataWith21Entries() {
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-restore-'));
  const vol = join(dataDir, 'apps', 'a', 'data');
  await mkdir(join(vol, 'sub'), { recursive: true });
  for (let i = 0; i < 20; i++) await writeFile(join(vol, 'sub', `f${i}`), `old ${i}\n`.repeat(2000));
  return { dataDir, vol };
}

/** What a tree holds, as path → content (dirs as 'dir'). */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string) => {
    for (const e of (await readdir(d)).sort()) {
      const p = join(d, e);
      if ((await stat(p)).isDirectory()) {
        out[`${rel}${e}/`] = 'dir';
        await walk(p, `${rel}${e}/`);
      } else out[`${rel}${e}`] = await readFile(p, 'utf8');
    }
  };
  await walk(dir, '');
  return out;
}

const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

/** A tar that fails after it extracted (as a disk that fills up at the end would make it). */
async function failingExtractTar(): Promise<void> {
  const bin = await mkdtemp(join(tmpdir(), 'berth-fake-tar-'));
  const real = (await import('node:child_process'))
    .execFileSync('sh', ['-c', 'command -v tar'])
    .toString()
    .trim();
  await writeFile(
    join(bin, 'tar'),
    `#!/bin/sh\ncase " $* " in *" --extract "*) "${real}" "$@"; echo "tar: f9: Cannot write: No space left on device" >&2; exit 2;; esac\nexec "${real}" "$@"\n`,
  );
  await chmod(join(bin, 'tar'), 0o755);
  process.env.PATH = `${bin}:${savedPath}`;
}

describe('a restore that cannot finish', () => {
  it('a truncated snapshot: nothing is moved, all 21 entries stay as they were', async () => {
    const { dataDir, vol } = await dataWith21Entries();
    const snap = await takeSnapshot(dataDir, 'a', [vol], ID, { now: () => new Date(T0) });
    await writeFile(join(vol, 'sub', 'f3'), 'new\n');
    const before = await tree(vol);
    expect(Object.keys(before)).toHaveLength(21);
    await truncate(snap, Math.floor((await stat(snap)).size / 2));
    await expect(restoreSnapshot(dataDir, 'a', snap, { now: new Date(T0 + 1000) })).rejects.toThrow(
      /cannot be read .*nothing was moved, the data is as it was/,
    );
    expect(await tree(vol)).toEqual(before);
    expect(await readdir(join(dataDir, 'apps', 'a'))).toEqual(expect.not.arrayContaining(['.aside']));
  });

  it('tar failing half-way (a full disk): the staged copy goes, the data is as it was', async () => {
    const { dataDir, vol } = await dataWith21Entries();
    const snap = await takeSnapshot(dataDir, 'a', [vol], ID, { now: () => new Date(T0) });
    await writeFile(join(vol, 'sub', 'f3'), 'new\n');
    const before = await tree(vol);
    await failingExtractTar();
    await expect(restoreSnapshot(dataDir, 'a', snap, { now: new Date(T0 + 1000) })).rejects.toThrow(
      /extracting .*data failed .*No space left on device.*the data is as it was before the restore/,
    );
    expect(await tree(vol)).toEqual(before);
    // No staged copy and nothing set aside is left behind.
    expect((await readdir(join(dataDir, 'apps', 'a'))).sort()).toEqual(['.snapshots', 'data']);
  });

  it('too little space for the staged copy: refused before anything moves', async () => {
    const { dataDir, vol } = await dataWith21Entries();
    const snap = await takeSnapshot(dataDir, 'a', [vol], ID, { now: () => new Date(T0) });
    const before = await tree(vol);
    await expect(
      restoreSnapshot(dataDir, 'a', snap, { free: async () => SNAPSHOT_FLOOR + 100_000 }),
    ).rejects.toThrow(/not enough free space to restore the snapshot.*nothing was moved/);
    expect(await tree(vol)).toEqual(before);
  });

  it('a failure while putting the data in place moves back what was already moved', async () => {
    const { dataDir, vol } = await dataWith21Entries();
    const host = join(dataDir, 'host');
    await mkdir(host);
    await writeFile(join(host, 'h'), 'old host\n');
    const snap = await takeSnapshot(dataDir, 'a', [vol, host], ID, { now: () => new Date(T0) });
    await writeFile(join(vol, 'sub', 'f3'), 'new\n');
    await writeFile(join(host, 'h'), 'new host\n');
    const [volBefore, hostBefore] = [await tree(vol), await tree(host)];
    // The host dir's set-aside dir cannot be made: the second path fails after the first moved.
    await writeFile(join(host, '.berth-aside-20260101T000001000Z'), 'in the way');
    await expect(restoreSnapshot(dataDir, 'a', snap, { now: new Date(T0 + 1000) })).rejects.toThrow(
      /putting .*host in place failed.*the data is as it was before the restore/,
    );
    expect(await tree(vol)).toEqual(volBefore);
    const { ['.berth-aside-20260101T000001000Z']: _blocker, ...hostAfter } = await tree(host);
    expect(hostAfter).toEqual(hostBefore);
  });

  it('sets aside and restores every path the archive holds, not only those the recipe names now', async () => {
    const { dataDir, vol } = await dataWith21Entries();
    const old = join(dataDir, 'apps', 'a', 'old');
    await mkdir(old);
    await writeFile(join(old, 'x'), 'old volume\n');
    const snap = await takeSnapshot(dataDir, 'a', [vol, old], ID, { now: () => new Date(T0) });
    await writeFile(join(old, 'x'), 'written since\n');
    const aside = await restoreSnapshot(dataDir, 'a', snap, { now: new Date(T0 + 1000) });
    expect(await readFile(join(old, 'x'), 'utf8')).toBe('old volume\n');
    expect(await readFile(join(aside, 'old', 'x'), 'utf8')).toBe('written since\n');
    expect(Object.keys(await tree(vol))).toHaveLength(21);
  });

  it('reads the archive roots from tar --list --verbose, names with spaces and escapes included', () => {
    const listing = [
      'drwxr-xr-x 0/0               0 2026-01-01 00:00 var/lib/berth/apps/a/data/',
      '-rw-r--r-- 0/0            1000 2026-01-01 00:00 var/lib/berth/apps/a/data/f',
      'lrwxrwxrwx 0/0               0 2026-01-01 00:00 var/lib/berth/apps/a/data/l -> f',
      'drwxr-xr-x 1000/1000         0 2026-01-01 00:00 srv/my media/',
      '-rw------- 1000/1000        10 2026-01-01 00:00 srv/my media/a\\nb',
      'crw-r--r-- 0/0             1,3 2026-01-01 00:00 srv/my media/null',
    ].join('\n');
    expect(archiveRoots(listing)).toEqual([
      { path: '/var/lib/berth/apps/a/data', member: 'var/lib/berth/apps/a/data', isDir: true, bytes: 2536 },
      { path: '/srv/my media', member: 'srv/my media', isDir: true, bytes: 1546 },
    ]);
  });
});

describe('berth keeps the app stopped when its restore failed', () => {
  const app = desiredApp(
    validApp('name: a\nimage: docker.io/library/nginx:1.27\nvolumes:\n  data: {target: /data}\n'),
    RENDER_CTX,
  );
  const pin = (c: string) => ({ ref: 'docker.io/library/nginx:1.27', id: c.repeat(64), at: 't' });

  it('the restore step marks the rollback held, writes history and disables the unit', async () => {
    const { dataDir, vol } = await dataWith21Entries();
    const snap = await takeSnapshot(dataDir, 'a', [vol], ID, { now: () => new Date(T0) });
    await truncate(snap, 100);
    const transition: Transition = {
      kind: 'rollback',
      from: pin('b'),
      to: pin('a'),
      startedAt: 't',
      snapshot: snap,
      reason: 'its unit is failed',
    };
    await writeRecord(dataDir, 'a', { current: pin('b'), previous: pin('a'), transition, rejected: [] });
    const log: string[] = [];
    const systemd = {
      disable: async (u: string[]) => void log.push(`disable ${u.join(',')}`),
      reload: async () => void log.push('reload'),
    };
    await expect(
      runUpdateStep(
        { kind: 'restore-snapshot', app: 'a', snapshot: snap },
        {
          systemd: systemd as unknown as ServiceManager,
          podman: new Podman(['podman'], async () => ({ code: 1, stdout: '', stderr: '' })),
          dataDir,
        },
      ),
    ).rejects.toThrow(/a is kept stopped/);
    const held = readRecord(dataDir, 'a').transition?.held;
    expect(held?.reason).toMatch(
      /the rollback could not restore the data: the snapshot .* cannot be read.*'berth rollback a --data'/,
    );
    expect(log).toEqual(['disable berth-a.service', 'reload']);
    expect(readHistory(dataDir, 'a').at(-1)).toMatchObject({ result: 'failed', reason: held?.reason });
    // The next pass only keeps it stopped and disabled: no restore, no start.
    const current = {
      dataDir: RENDER_CTX.dataDir,
      apps: new Map([
        [
          'a',
          {
            name: 'a',
            unitHash: app.unit.hash,
            activeState: 'active',
            unitFileState: 'enabled',
            needDaemonReload: false,
            containers: [],
            missingDirs: [],
            missingSecrets: [],
            missingFiles: false,
            record: readRecord(dataDir, 'a'),
          },
        ],
      ]),
      images: new Map(),
      networks: new Set<string>(),
    };
    expect(plan({ desired: [app], current, protectedApps: new Set() }).map((s) => s.kind)).toEqual([
      'stop',
      'disable',
    ]);
    // An app that depends on it is not started either (Requires= would start it too).
    const web = desiredApp(
      validApp('name: web\nimage: docker.io/library/nginx:1.27\ndepends_on: [a]\n'),
      RENDER_CTX,
    );
    const both = plan({ desired: [app, web], current, protectedApps: new Set() });
    expect(both.filter((s) => 'app' in s && s.app === 'web').map((s) => s.kind)).not.toContain('start');
    // `berth rollback a` finishes it without the data; `--data` restores again.
    const rec = readRecord(dataDir, 'a');
    expect(planHeldRollback(app, rec, false).map((s) => s.kind)).not.toContain('restore-snapshot');
    expect(planHeldRollback(app, rec, true).map((s) => s.kind)).toContain('restore-snapshot');
  });
});
