// The supervisor as it runs in production: units/berth.service (Type=notify) started by
// a real systemd manager, watching the recipes dir and serving the control socket.
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askControl } from '../../src/supervisor/control.js';
import {
  type Appliance,
  ensureTestImages,
  httpGet,
  startAppliance,
  until,
  webRecipe,
} from '../harness/appliance.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
let box: Appliance;

const web = (name: string, port: number, extra = '') => webRecipe('sv', name, port, extra);

const containerId = async (app: string) =>
  (await box.podman(['container', 'inspect', '--format', '{{.Id}}', `berth-sv-${app}`])).trim();

beforeAll(async () => {
  await ensureTestImages();
  box = await startAppliance('sv');
  await box.writeRecipe('a.yaml', web('a', 18201));
  // The shipped unit, with the program pointed at this checkout's build.
  const unit = (await readFile(join(root, 'units', 'berth.service'), 'utf8'))
    .replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `)
    .replace('/usr/lib/berth/', `${root}/`);
  await writeFile(join(box.config.unitDir, 'berth.service'), unit);
  await box.runtime.systemd.reload();
}, 180_000);

afterAll(async () => {
  await box?.stop();
});

describe('berth supervise under systemd', () => {
  it('is started as Type=notify: active only after the first pass', async () => {
    expect(await box.runtime.systemd.start('berth.service')).toBe('done');
    // The start job finishes on READY=1, which comes after the first apply: the app is already up.
    expect((await box.runtime.systemd.state('berth-sv-a.service')).activeState).toBe('active');
    expect((await httpGet('http://127.0.0.1:18201/name.txt')).body.trim()).toBe('a');
  });

  it('applies a new recipe saved into the recipes dir', async () => {
    await box.writeRecipe('b.yaml', web('b', 18202));
    expect((await httpGet('http://127.0.0.1:18202/name.txt', 30_000)).body.trim()).toBe('b');
  });

  it('re-applies only what changed when a recipe is edited', async () => {
    const a = await containerId('a');
    const b = await containerId('b');
    await box.writeRecipe('b.yaml', web('b', 18202, 'env: {EDITED: "yes"}\n'));
    await until('b re-created', async () => (await containerId('b').catch(() => b)) !== b);
    expect(await containerId('a')).toBe(a);
  });

  it('serves status on a root-only control socket', async () => {
    const sock = box.config.socketPath;
    expect((await stat(sock)).mode & 0o777).toBe(0o600);
    expect((await stat(join(sock, '..'))).mode & 0o777).toBe(0o700);
    const status = (await askControl(sock, { cmd: 'status' })) as { app: string; state: string }[];
    expect(status.filter((s) => s.app.startsWith('sv-')).map((s) => [s.app, s.state])).toEqual([
      ['sv-a', 'active'],
      ['sv-b', 'active'],
    ]);
  });

  it('the CLI goes through the supervisor when it runs', async () => {
    const applied = await box.berth(['apply']);
    expect(applied.stderr).toContain('applied by the supervisor: 0 steps, 0 failed');
    // The same --json shape as an apply done by the CLI itself.
    expect(JSON.parse((await box.berth(['apply', '--json'])).stdout)).toEqual({
      steps: [],
      failed: [],
      skipped: [],
      invalid: [],
    });
    const status = JSON.parse((await box.berth(['status', '--json'])).stdout) as { app: string }[];
    expect(status.map((s) => s.app)).toEqual(['sv-a', 'sv-b']);
  });

  it('apps keep running when berth is killed, and systemd brings berth back', async () => {
    const a = await containerId('a');
    const pid =
      (await box.runtime.systemd.state('berth.service')).activeState === 'active' ? await mainPid() : 0;
    process.kill(pid, 'SIGKILL');
    expect((await httpGet('http://127.0.0.1:18201/name.txt')).body.trim()).toBe('a');
    await until(
      'berth restarted',
      async () =>
        (await mainPid()) !== pid &&
        (await box.runtime.systemd.state('berth.service')).activeState === 'active',
    );
    expect(await containerId('a')).toBe(a);
  });

  it('stopping berth leaves the apps running', async () => {
    expect(await box.runtime.systemd.stop('berth.service')).toBe('done');
    expect((await box.runtime.systemd.state('berth-sv-a.service')).activeState).toBe('active');
    expect((await httpGet('http://127.0.0.1:18201/name.txt')).body.trim()).toBe('a');
  });
});

async function mainPid(): Promise<number> {
  const { stdout } = await run(
    'systemctl',
    ['--user', 'show', '--property=MainPID', '--value', 'berth.service'],
    {
      env: { ...process.env, ...box.env },
    },
  );
  return Number(stdout.trim());
}
