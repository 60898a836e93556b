// What berth writes about an app's data: secrets at rest are their owner's only, and the
// data is sized as tar reads it (symlinks as themselves, within a time bound).
import { mkdir, mkdtemp, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeSecrets, writeAppFiles } from '../../src/exec/files.js';
import { Podman } from '../../src/podman/podman.js';
import { appPaths } from '../../src/render/paths.js';
import { desiredApp } from '../../src/state/desired.js';
import type { ServiceManager, UnitState } from '../../src/systemd/manager.js';
import { runUpdateStep } from '../../src/updates/execute.js';
import { writeRecord } from '../../src/updates/record.js';
import { listAside, pruneSnapshots, sizeOf } from '../../src/updates/snapshot.js';
import { RENDER_CTX, validApp } from '../helpers.js';

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe('secrets at rest', () => {
  it('a file that holds a ${secret:…} is 0600 in a 0700 dir; one without keeps its mode', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-rest-'));
    const d = desiredApp(
      validApp(
        'name: a\nimage: docker.io/library/nginx:1.27\nfiles:\n' +
          '  conf: {target: /etc/a.conf, content: "password=${secret:pw}\\n"}\n' +
          '  plain: {target: /etc/b.conf, content: "hello\\n"}\n',
      ),
      { ...RENDER_CTX, dataDir },
    );
    const p = appPaths(dataDir, 'a');
    await makeSecrets(p.secretsDir, d.secrets);
    await writeAppFiles(d, dataDir, 'h');
    expect(await mode(join(p.configDir, 'conf'))).toBe(0o600);
    expect(await mode(join(p.configDir, 'plain'))).toBe(0o644);
    expect(await mode(p.configDir)).toBe(0o700);
    expect(d.dirs.find((x) => x.path === p.configDir)?.mode).toBe(0o700);
  });

  it("the failed version's kept output is 0600 in a 0700 dir", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-rest-'));
    await writeRecord(dataDir, 'a', { current: { ref: 'r', id: 'b'.repeat(64), at: 't' }, rejected: [] });
    const inactive = {
      activeState: 'failed',
      subState: 'failed',
      nRestarts: 0,
      execMainStatus: 1,
    } as UnitState;
    await expect(
      runUpdateStep(
        { kind: 'gate', app: 'a', unit: 'berth-a.service', windowMs: 1000, stableForMs: 1000, health: false },
        {
          systemd: { state: async () => inactive } as unknown as ServiceManager,
          podman: new Podman(['podman'], async () => ({ code: 1, stdout: '', stderr: '' })),
          dataDir,
          lastOutput: async () => ['DB_PASSWORD=hunter2 rejected'],
        },
      ),
    ).rejects.toThrow(/its unit is failed/);
    const stateDir = appPaths(dataDir, 'a').stateDir;
    expect(await mode(join(stateDir, `failed-${'b'.repeat(12)}.log`))).toBe(0o600);
    expect(await mode(stateDir)).toBe(0o700);
  });
});

describe('sizing the data', () => {
  it('counts a symlink as itself: a loop of links is never followed', { timeout: 10_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-size-'));
    await writeFile(join(dir, 'f'), 'x'.repeat(1000));
    // Two links back to their own dir: following them would walk 2^40 paths.
    await symlink('.', join(dir, 'loop1'));
    await symlink('.', join(dir, 'loop2'));
    expect(await sizeOf([dir])).toBe(1000 + 3 * 4096);
  });

  it('refuses, saying so, when sizing takes longer than its bound', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-size-'));
    for (let i = 0; i < 10; i++) await writeFile(join(dir, `f${i}`), 'x');
    let t = 0;
    await expect(sizeOf([dir], { limitMs: 5000, now: () => (t += 1000) })).rejects.toThrow(
      /sizing the data in .* took longer than 5s .*update.snapshot: false/,
    );
  });
});

describe('data set aside by rollbacks', () => {
  it('is kept like snapshots: the newest keep copies stay, and their sizes are listed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-aside-'));
    const aside = appPaths(dataDir, 'a').asideDir;
    for (const s of ['20260101T000001000Z', '20260101T000002000Z', '20260101T000003000Z']) {
      await mkdir(join(aside, s, 'data'), { recursive: true });
      await writeFile(join(aside, s, 'data', 'f'), 'x'.repeat(100));
    }
    expect((await listAside(dataDir, 'a')).map((a) => a.bytes)).toEqual([
      2 * 4096 + 100,
      2 * 4096 + 100,
      2 * 4096 + 100,
    ]);
    expect(await pruneSnapshots(dataDir, 'a', 2)).toEqual(['20260101T000001000Z']);
    expect((await listAside(dataDir, 'a')).map((a) => a.name)).toEqual([
      '20260101T000002000Z',
      '20260101T000003000Z',
    ]);
  });
});
