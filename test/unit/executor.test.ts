// Executor behaviour under faults, with a fault-injecting service manager. (The same
// paths run against the real manager in test/integration.)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execute } from '../../src/exec/executor.js';
import { plan } from '../../src/plan/plan.js';
import type { Step } from '../../src/plan/steps.js';
import { Podman } from '../../src/podman/podman.js';
import { desiredApp } from '../../src/state/desired.js';
import type { JobResult, ServiceManager, UnitState } from '../../src/systemd/manager.js';
import { RENDER_CTX, validApp } from '../helpers.js';

function fakeManager(failStart: Set<string>, log: string[]): ServiceManager {
  const state = (name: string): UnitState => ({
    name,
    loadState: 'loaded',
    activeState: 'failed',
    subState: 'failed',
    result: 'exit-code',
    nRestarts: 0,
    execMainStatus: 3,
    activeEnterUsec: 0,
    unitFileState: 'enabled',
    needDaemonReload: false,
  });
  const job =
    (verb: string) =>
    async (unit: string): Promise<JobResult> => {
      log.push(`${verb} ${unit}`);
      return failStart.has(unit) ? 'failed' : 'done';
    };
  return {
    reload: async () => void log.push('reload'),
    start: job('start'),
    stop: job('stop'),
    restart: job('restart'),
    enable: async (u) => void log.push(`enable ${u.join(',')}`),
    disable: async (u) => void log.push(`disable ${u.join(',')}`),
    resetFailed: async () => {},
    state: async (u) => state(u),
    follow: async () => () => {},
    close: () => {},
  };
}

const fakePodman = new Podman(['podman'], async () => ({ code: 0, stdout: '[]', stderr: '' }));

describe('execute', () => {
  it('a failing app does not stop the others; its dependents are skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-exec-'));
    const ctx = { ...RENDER_CTX, dataDir: join(dir, 'data') };
    const apps = [
      validApp('name: db\nimage: docker.io/library/postgres:16\n'),
      validApp('name: api\nimage: docker.io/library/node:20\ndepends_on: [db]\n'),
      validApp('name: web\nimage: docker.io/library/nginx:1.27\n'),
    ];
    const desired = apps.map((a) => desiredApp(a, ctx));
    const steps = plan({
      desired,
      current: {
        dataDir: '/var/lib/berth',
        apps: new Map(),
        images: new Map(apps.map((a) => [a.image, 'a'.repeat(64)])),
        networks: new Set(),
      },
      protectedApps: new Set(),
    });
    const log: string[] = [];
    const result = await execute(steps, {
      systemd: fakeManager(new Set(['berth-db.service']), log),
      podman: fakePodman,
      unitDir: dir,
      dataDir: ctx.dataDir,
      hostname: 'h',
      preloadDir: join(dir, 'images'),
      desired: new Map(desired.map((d) => [d.app.name, d])),
      explainFailure: async (app) => `${app}: cannot open /data/db.sqlite`,
    });
    expect(result.failed.map((f) => f.step.kind + ' ' + ('app' in f.step ? f.step.app : ''))).toEqual([
      'start db',
    ]);
    expect(result.failed[0]!.error).toContain(
      "start berth-db.service: failed, exit status 3: db: cannot open /data/db.sqlite; 'berth status db' shows its last output",
    );
    expect(result.skipped.map((s) => s.kind + ' ' + ('app' in s ? s.app : ''))).toEqual(['start api']);
    expect(log).toContain('start berth-web.service');
    expect(log.filter((l) => l === 'reload')).toHaveLength(1);
  });

  it('a step of a kind no handler knows fails; it is never counted as done', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-exec-'));
    const log: string[] = [];
    const bogus = { kind: 'reticulate', app: 'web' } as unknown as Step;
    const result = await execute([bogus], {
      systemd: fakeManager(new Set(), log),
      podman: fakePodman,
      unitDir: dir,
      dataDir: join(dir, 'data'),
      hostname: 'h',
      preloadDir: join(dir, 'images'),
      desired: new Map(),
    });
    expect(result.done).toEqual([]);
    expect(result.failed).toEqual([{ step: bogus, error: "no handler for the step kind 'reticulate'" }]);
  });
});
