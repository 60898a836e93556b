// Snapshots with the real tar and zstd on a temp dir (owners, modes, keep, the free-space
// floor, a half-written file never counts); the gate against scripted systemd and podman
// answers, for the ways a new version fails.
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InspectedContainer, Podman } from '../../src/podman/podman.js';
import type { ServiceManager, UnitState } from '../../src/systemd/manager.js';
import { GateFailed, runGate } from '../../src/updates/gate.js';
import { restoreSnapshot } from '../../src/updates/restore.js';
import { listSnapshots, pruneSnapshots, takeSnapshot } from '../../src/updates/snapshot.js';

const ID = 'f'.repeat(64);

describe('snapshots', () => {
  it('take, list, restore (the data written since is moved aside), keep N', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-snap-'));
    const vol = join(dataDir, 'apps', 'a', 'data');
    await mkdir(join(vol, 'sub'), { recursive: true });
    await writeFile(join(vol, 'schema'), 'schema=1\n');
    await writeFile(join(vol, 'sub', 'secret'), 'x');
    await chmod(join(vol, 'sub', 'secret'), 0o600);
    await symlink('schema', join(vol, 'link'));
    let t = Date.parse('2026-01-01T00:00:00Z');
    const now = () => new Date((t += 1000));
    const snap = await takeSnapshot(dataDir, 'a', [vol], ID, { now });
    expect((await listSnapshots(dataDir, 'a')).map((s) => s.image)).toEqual(['ffffffffffff']);

    await writeFile(join(vol, 'schema'), 'schema=2\n');
    await writeFile(join(vol, 'new-file'), 'new');
    const aside = await restoreSnapshot(dataDir, 'a', snap, { now: now() });
    expect(await readFile(join(vol, 'schema'), 'utf8')).toBe('schema=1\n');
    expect((await lstat(join(vol, 'sub', 'secret'))).mode & 0o777).toBe(0o600);
    expect((await lstat(join(vol, 'link'))).isSymbolicLink()).toBe(true);
    expect(await readdir(vol)).not.toContain('new-file');
    expect(await readFile(join(aside, 'data', 'schema'), 'utf8')).toBe('schema=2\n');

    for (let i = 0; i < 4; i++) await takeSnapshot(dataDir, 'a', [vol], ID, { now });
    // A snapshot cut short leaves only a temporary file: never listed, removed by the next prune.
    await writeFile(
      join(dataDir, 'apps', 'a', '.snapshots', '.20260101T000000000Z-ffffffffffff.tar.zst.tmp'),
      'half',
    );
    expect(await listSnapshots(dataDir, 'a')).toHaveLength(5);
    await pruneSnapshots(dataDir, 'a', 3);
    expect(await listSnapshots(dataDir, 'a')).toHaveLength(3);
    expect(
      (await readdir(join(dataDir, 'apps', 'a', '.snapshots'))).filter((f) => f.endsWith('.tmp')),
    ).toEqual([]);
  });

  it('refuses, changing nothing, when it would leave less than the free-space floor', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-snap-'));
    const vol = join(dataDir, 'apps', 'a', 'data');
    await mkdir(vol, { recursive: true });
    await writeFile(join(vol, 'f'), 'x'.repeat(1000));
    await expect(
      takeSnapshot(dataDir, 'a', [vol], ID, { free: async () => 100 * 1024 * 1024 }),
    ).rejects.toThrow(/not enough free space to snapshot the data of a .* nothing was changed/);
    expect(await listSnapshots(dataDir, 'a')).toEqual([]);
  });

  it('a missing snapshot is said, and the data is left as it is', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-snap-'));
    await expect(restoreSnapshot(dataDir, 'a', join(dataDir, 'nope.tar.zst'))).rejects.toThrow(/is missing/);
  });
});

/** A unit and container whose answers follow a script: one entry per poll. */
function scripted(
  states: Partial<UnitState>[],
  containers: (Partial<InspectedContainer['State']> & { Id?: string })[],
) {
  let i = 0;
  let j = 0;
  const systemd = {
    state: async () => ({
      activeState: 'active',
      subState: 'running',
      nRestarts: 0,
      execMainStatus: 0,
      ...states[Math.min(i++, states.length - 1)],
    }),
  } as unknown as ServiceManager;
  const podman = {
    inspect: async () => {
      const c = containers[Math.min(j++, containers.length - 1)]!;
      return { Id: c.Id ?? 'c1', State: { Running: true, ...c } };
    },
  } as unknown as Podman;
  let clock = 0;
  return { systemd, podman, now: () => clock, sleep: async (ms: number) => void (clock += ms), pollMs: 500 };
}

describe('the gate', () => {
  const spec = { app: 'a', unit: 'berth-a.service', windowMs: 5000, stableForMs: 3000, health: false };
  it('passes when the unit stays active for stable_for', async () => {
    await expect(runGate(spec, scripted([{}], [{}]))).resolves.toBeUndefined();
  });
  it('fails when the app restarts', async () => {
    await expect(
      runGate(spec, scripted([{}, {}, { nRestarts: 1, execMainStatus: 1 }], [{}])),
    ).rejects.toThrow(/restarted .* \(exit status 1\)/);
  });
  it('fails when the container is replaced', async () => {
    await expect(runGate(spec, scripted([{}], [{ Id: 'c1' }, { Id: 'c2' }]))).rejects.toThrow(GateFailed);
  });
  it('waits for healthy, then for stable_for', async () => {
    const deps = scripted([{}], [{ Health: { Status: 'starting' } }, { Health: { Status: 'healthy' } }]);
    await expect(runGate({ ...spec, health: true }, deps)).resolves.toBeUndefined();
    expect(deps.now()).toBeGreaterThanOrEqual(3000);
  });
  it('fails when not healthy within the window, naming the status', async () => {
    await expect(
      runGate({ ...spec, health: true }, scripted([{}], [{ Health: { Status: 'starting' } }])),
    ).rejects.toThrow(/not healthy within 5s \(health: starting\)/);
  });
  it('names the failing check when podman kills the app for it before the gate sees unhealthy', async () => {
    const failing = {
      Health: { Status: 'starting', FailingStreak: 1, Log: [{ ExitCode: 1, Output: 'no /www/healthy\n' }] },
    };
    await expect(
      runGate(
        { ...spec, health: true },
        scripted(
          [{}, {}, { activeState: 'activating', subState: 'auto-restart', execMainStatus: 137 }],
          [failing],
        ),
      ),
    ).rejects.toThrow(/exit status 137.*its health check failed: no \/www\/healthy/);
  });
});
