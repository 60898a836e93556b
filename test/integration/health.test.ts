// Health checks run by berth's own timer units, on a real user manager with podman 4.3,
// where podman's own transient timers cannot run: healthy and unhealthy for real, the
// on-failure restart, depends_on healthy, and advertising that waits for health.
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus } from '../../src/status.js';
import {
  type Appliance,
  ensureTestImages,
  startAppliance,
  startSupervisorService,
  until,
  webRecipe,
} from '../harness/appliance.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
let box: Appliance;

/** A web app with a state volume whose file `ok` makes its check pass. */
const app = (name: string, port: number, health: string, extra = '') =>
  webRecipe('hc', name, port, `volumes:\n  state: {target: /state}\nhealth:\n${health}${extra}`);
const okFile = (name: string) => join(box.config.dataDir, 'apps', `hc-${name}`, 'state', 'ok');
const setOk = async (name: string, ok: boolean) => {
  await mkdir(join(okFile(name), '..'), { recursive: true });
  if (ok) await writeFile(okFile(name), 'ok\n');
  else await rm(okFile(name), { force: true });
};
const statusOf = async (name: string) =>
  (JSON.parse((await box.berth(['status', '--json'])).stdout) as AppStatus[]).find(
    (a) => a.app === `hc-${name}`,
  );
const unit = (name: string) => box.runtime.systemd.state(`berth-hc-${name}.service`);

beforeAll(async () => {
  await ensureTestImages();
  box = await startAppliance('hc');
}, 180_000);

afterAll(async () => {
  await box?.stop();
});

describe('health checks run by berth', () => {
  it("turn healthy from berth's own timer; podman makes no timers of its own", async () => {
    await setOk('a', true);
    await box.writeRecipe(
      'a.yaml',
      app('a', 18401, '  cmd: test -f /state/ok\n  interval: 1s\n  retries: 2\n'),
    );
    await box.berth(['apply']);
    expect((await box.runtime.systemd.state('berth-hc-a.health.timer')).activeState).toBe('active');
    await until('hc-a healthy', async () => (await statusOf('a'))?.health === 'healthy', 30_000);
    const timers = await run(
      'systemctl',
      ['--user', 'list-units', '--type=timer', '--all', '--plain', '--no-legend'],
      {
        env: { ...process.env, ...box.env },
      },
    );
    const names = timers.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0])
      .filter(Boolean);
    expect(names).toEqual(['berth-hc-a.health.timer']);
  });

  it('an unhealthy app is killed and restarted by systemd (on_failure: restart)', async () => {
    const before = (await unit('a')).nRestarts;
    await setOk('a', false);
    await until('hc-a restarted', async () => (await unit('a')).nRestarts > before, 60_000);
    await setOk('a', true);
    await until('hc-a healthy again', async () => (await statusOf('a'))?.health === 'healthy', 60_000);
  });

  it("on_failure: none only reports; status shows the failing check's output", async () => {
    await setOk('b', false);
    await box.writeRecipe(
      'b.yaml',
      app(
        'b',
        18402,
        '  cmd: echo "state file missing"; test -f /state/ok\n  interval: 1s\n  retries: 2\n  on_failure: none\n',
      ),
    );
    await box.berth(['apply']);
    await until('hc-b unhealthy', async () => (await statusOf('b'))?.health === 'unhealthy', 30_000);
    expect((await statusOf('b'))?.healthOutput).toBe('state file missing');
    expect((await box.berth(['status'])).stdout).toContain('hc-b: health check failing: state file missing');
    expect((await unit('b')).nRestarts).toBe(0);
    expect((await unit('b')).activeState).toBe('active');
  });

  it('depends_on {app: healthy} starts the dependent app only once the dependency is healthy', async () => {
    await setOk('c', false);
    await box.writeRecipe(
      'c.yaml',
      app('c', 18403, '  cmd: test -f /state/ok\n  interval: 1s\n  retries: 1\n  on_failure: none\n'),
    );
    await box.writeRecipe('d.yaml', webRecipe('hc', 'd', 18404, 'depends_on:\n  - hc-c: healthy\n'));
    // The apply waits for d's start job, which waits for c: run it in the background.
    const apply = spawn(process.execPath, [join(root, 'dist', 'cli', 'main.js'), 'apply'], {
      env: { ...process.env, ...box.env },
      stdio: 'ignore',
    });
    const applied = new Promise<number | null>((r) => apply.on('close', r));
    await until(
      'hc-c checked and failing',
      async () => (await statusOf('c'))?.health === 'unhealthy',
      30_000,
    );
    await until('hc-d waiting', async () => (await unit('d')).activeState === 'activating', 30_000);
    await setOk('c', true);
    await until('hc-d active', async () => (await unit('d')).activeState === 'active', 60_000);
    expect((await statusOf('c'))?.health).toBe('healthy');
    expect(await applied).toBe(0);
  });

  it('the supervisor announces an app with a health check only while it is healthy', async () => {
    await setOk('e', false);
    await box.writeRecipe(
      'e.yaml',
      app(
        'e',
        18405,
        '  cmd: test -f /state/ok\n  interval: 1s\n  retries: 1\n  on_failure: none\n',
        'advertise:\n  - {type: _http._tcp, port: 18405, name: "Health test"}\n',
      ),
    );
    // No journald here: the supervisor's log goes to a file, shown when this test fails.
    await startSupervisorService(box, [`StandardOutput=append:${join(box.root, 'berth.log')}`]);
    await until('hc-e unhealthy', async () => (await statusOf('e'))?.health === 'unhealthy', 30_000);
    expect((await statusOf('e'))?.advertised ?? []).toEqual([]);
    await setOk('e', true);
    const supervisorLog = async () =>
      (await readFile(join(box.root, 'berth.log'), 'utf8').catch(() => '')).slice(-3000);
    await until(
      'hc-e announced',
      async () => ((await statusOf('e'))?.advertised ?? []).some((a) => a.includes('Health test')),
      30_000,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await supervisorLog()}`);
    });
    await setOk('e', false);
    await until('hc-e withdrawn', async () => ((await statusOf('e'))?.advertised ?? []).length === 0, 30_000);
    // The event log heard each change once: failing, passing again, failing again.
    const healthKinds = async () =>
      (JSON.parse((await box.berth(['events', '--json'])).stdout) as { kind: string; subject: string }[])
        .filter((e) => e.subject === 'hc-e' && e.kind.startsWith('health-'))
        .map((e) => e.kind);
    await until('health events told', async () => (await healthKinds()).length >= 3, 30_000).catch(
      async (e: Error) => {
        throw new Error(`${e.message}: ${JSON.stringify(await healthKinds())}\n${await supervisorLog()}`);
      },
    );
    expect(await healthKinds()).toEqual(['health-failing', 'health-recovered', 'health-failing']);
    await box.runtime.systemd.stop('berth.service');
  });
});
