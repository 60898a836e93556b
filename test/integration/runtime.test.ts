// The runtime against real parts: a systemd user manager over D-Bus, real podman
// containers from a locally built image, HTTP on 127.0.0.1. Each scenario asserts on
// real state (podman inspect, unit properties, HTTP answers).
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Appliance,
  ensureTestImages,
  httpGet,
  startAppliance,
  until,
  webRecipe,
} from '../harness/appliance.js';

const IMAGE = 'localhost/berth/busybox:1.35.0';
let box: Appliance;

const web = (name: string, port: number, extra = '') => webRecipe('rt', name, port, extra);

interface Inspect {
  Id: string;
  State: { StartedAt: string; Running: boolean };
  Config: { Env: string[]; Cmd: string[]; Labels: Record<string, string> };
}

async function inspect(app: string): Promise<Inspect> {
  return (JSON.parse(await box.podman(['container', 'inspect', `berth-rt-${app}`])) as Inspect[])[0]!;
}

async function containersOf(app: string): Promise<string[]> {
  const out = await box.podman(['ps', '-a', '--filter', `label=berth.app=rt-${app}`, '--format', '{{.ID}}']);
  return out.split('\n').filter(Boolean);
}

async function unitState(app: string) {
  return box.runtime.systemd.state(`berth-rt-${app}.service`);
}

beforeAll(async () => {
  await ensureTestImages();
  box = await startAppliance('rt');
}, 180_000);

afterAll(async () => {
  await box?.stop();
});

describe('runtime: apply through systemd and podman', () => {
  it('runs a bridge app whose published port answers', async () => {
    await box.writeRecipe('a.yaml', web('a', 18101));
    const r = await box.berth(['apply']);
    expect(r.stderr).toMatch(/applied \d+ steps/);
    expect((await httpGet('http://127.0.0.1:18101/name.txt')).body.trim()).toBe('a');
    const st = await unitState('a');
    expect(st.activeState).toBe('active');
    expect(st.unitFileState).toBe('enabled');
    const c = await inspect('a');
    expect(c.Config.Labels['berth.app']).toBe('rt-a');
    expect(c.Config.Labels['berth.hash']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a second apply changes nothing', async () => {
    const before = await inspect('a');
    const r = await box.berth(['apply', '--json']);
    expect(JSON.parse(r.stdout).steps).toEqual([]);
    expect((await inspect('a')).Id).toBe(before.Id);
  });

  it('runs a host-network app', async () => {
    await box.writeRecipe(
      'host.yaml',
      `name: rt-host
image: ${IMAGE}
init: true
network: host
command: [httpd, -f, -p, "127.0.0.1:18102", -h, /]
`,
    );
    await box.berth(['apply']);
    expect((await httpGet('http://127.0.0.1:18102/etc/passwd')).body).toContain('root:x:0:0');
    expect(
      JSON.parse(await box.podman(['container', 'inspect', 'berth-rt-host']))[0].HostConfig.NetworkMode,
    ).toBe('host');
  });

  it('keeps volume data across restart, recipe edit and container re-creation', async () => {
    const vol = 'volumes:\n  site: {target: /www/site}\n';
    await box.writeRecipe('vol.yaml', web('vol', 18103, vol));
    await box.berth(['apply']);
    const dataFile = join(box.config.dataDir, 'apps', 'rt-vol', 'site', 'keep.txt');
    await box.podman(['exec', 'berth-rt-vol', 'sh', '-c', 'echo precious > /www/site/keep.txt']);
    expect((await readFile(dataFile, 'utf8')).trim()).toBe('precious');

    await box.berth(['restart', 'rt-vol']);
    expect((await httpGet('http://127.0.0.1:18103/site/keep.txt')).body.trim()).toBe('precious');

    const id1 = (await inspect('vol')).Id;
    await box.writeRecipe('vol.yaml', web('vol', 18103, `${vol}env: {EDITED: "1"}\n`));
    await box.berth(['apply']);
    const id2 = (await inspect('vol')).Id;
    expect(id2).not.toBe(id1);
    expect((await httpGet('http://127.0.0.1:18103/site/keep.txt')).body.trim()).toBe('precious');

    await box.podman(['rm', '-f', 'berth-rt-vol']);
    await until(
      'systemd re-creates the container',
      async () => (await unitState('vol')).activeState === 'active' && (await inspect('vol')).Id !== id2,
    );
    expect((await httpGet('http://127.0.0.1:18103/site/keep.txt')).body.trim()).toBe('precious');
  });

  it('editing one recipe restarts only that app', async () => {
    await box.writeRecipe('b.yaml', web('b', 18104));
    await box.berth(['apply']);
    const a = await inspect('a');
    const b = await inspect('b');
    await box.writeRecipe('b.yaml', web('b', 18104, 'env: {COLOR: blue}\n'));
    await box.berth(['apply']);
    const a2 = await inspect('a');
    const b2 = await inspect('b');
    expect(a2.Id).toBe(a.Id);
    expect(a2.State.StartedAt).toBe(a.State.StartedAt);
    expect(b2.Id).not.toBe(b.Id);
    expect(b2.Config.Env).toContain('COLOR=blue');
  });

  it('a killed container is restarted by systemd', async () => {
    const before = await unitState('b');
    await box.podman(['kill', 'berth-rt-b']);
    await until('the restart', async () => {
      const s = await unitState('b');
      return s.nRestarts > before.nRestarts && s.activeState === 'active';
    });
    expect((await httpGet('http://127.0.0.1:18104/name.txt')).body.trim()).toBe('b');
  });

  it('an invalid edit keeps the last good version running and status shows the error', async () => {
    const before = await inspect('b');
    await box.writeRecipe('b.yaml', `${web('b', 18104)}volume:\n  x: {target: /x}\n`);
    const r = await box.berth(['apply'], { allowFail: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/b\.yaml:\d+:1: error: unknown key 'volume', did you mean 'volumes'\?/);
    expect((await inspect('b')).Id).toBe(before.Id);
    expect((await unitState('b')).activeState).toBe('active');
    const status = JSON.parse((await box.berth(['status', '--json'])).stdout) as {
      app: string;
      state: string;
      errors: { file: string; line: number; message: string }[];
    }[];
    const b = status.find((s) => s.app === 'rt-b')!;
    expect(b.state).toBe('active');
    expect(b.errors[0]).toMatchObject({ file: join(box.config.recipesDir, 'b.yaml'), line: 7 });
    // Fixed again: back to normal.
    await box.writeRecipe('b.yaml', web('b', 18104, 'env: {COLOR: blue}\n'));
    expect(JSON.parse((await box.berth(['apply', '--json'])).stdout).invalid).toEqual([]);
  });

  it('removing a recipe removes unit and container and keeps the data', async () => {
    const dataDir = join(box.config.dataDir, 'apps', 'rt-vol', 'site');
    await box.removeRecipe('vol.yaml');
    await box.berth(['apply']);
    expect(await containersOf('vol')).toEqual([]);
    await expect(stat(join(box.config.unitDir, 'berth-rt-vol.service'))).rejects.toThrow();
    expect((await unitState('vol')).loadState).toBe('not-found');
    expect((await readFile(join(dataDir, 'keep.txt'), 'utf8')).trim()).toBe('precious');
  });

  it('honours depends_on order', async () => {
    await box.writeRecipe('dep-db.yaml', web('db', 18105));
    await box.writeRecipe('dep-api.yaml', web('api', 18106, 'depends_on: [rt-db]\n'));
    await box.writeRecipe('dep-ui.yaml', web('ui', 18107, 'depends_on: [rt-api]\n'));
    const r = await box.berth(['apply']);
    const order = [...r.stdout.matchAll(/start berth-rt-(db|api|ui)\.service/g)].map((m) => m[1]);
    expect(order).toEqual(['db', 'api', 'ui']);
    const t = async (x: string) => (await unitState(x)).activeEnterUsec;
    expect(await t('db')).toBeLessThanOrEqual(await t('api'));
    expect(await t('api')).toBeLessThanOrEqual(await t('ui'));
    const unit = await readFile(join(box.config.unitDir, 'berth-rt-api.service'), 'utf8');
    expect(unit).toContain('Requires=berth-rt-db.service\nAfter=berth-rt-db.service');
  });

  it('recipe values with quotes, $, %, spaces and backslashes arrive literally', async () => {
    const values = [
      'say "hi"',
      "it's",
      '$HOME and ${HOME}',
      '100% %n %%',
      'two  spaces',
      'back\\slash\\',
      '--privileged',
      ';',
    ];
    const yamlList = values.map((v) => `  - ${JSON.stringify(v)}`).join('\n');
    const envLines = values
      .map((v, i) => `  V${i}: ${JSON.stringify(v.replaceAll('${', () => '$${'))}`)
      .join('\n');
    await box.writeRecipe(
      'lit.yaml',
      `name: rt-lit
image: ${IMAGE}
init: true
entrypoint: [sh, -c, "exec sleep 3600", sh]
command:
${yamlList}
env:
${envLines}
`,
    );
    // The arguments become unused positional parameters of sh; podman inspect shows what the container got.
    await box.berth(['apply']);
    const c = await inspect('lit');
    expect(c.Config.Cmd).toEqual(values);
    for (const [i, v] of values.entries()) expect(c.Config.Env).toContain(`V${i}=${v}`);
  });

  it('berth killed with SIGKILL mid-apply converges on the next run with one container per app', async () => {
    const names = ['k1', 'k2', 'k3', 'k4'];
    for (const [i, n] of names.entries()) await box.writeRecipe(`${n}.yaml`, web(n, 18110 + i));
    for (const delayMs of [60, 150, 300]) {
      // Change every app, start an apply, kill it part-way.
      for (const [i, n] of names.entries())
        await box.writeRecipe(`${n}.yaml`, web(n, 18110 + i, `env: {ROUND: "${delayMs}"}\n`));
      const child = spawn(
        'node',
        [join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js'), 'apply'],
        {
          env: { ...process.env, ...box.env },
          stdio: 'ignore',
        },
      );
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('close', r));
      await box.berth(['apply'], { allowFail: true });
      for (const [i, n] of names.entries()) {
        expect(await containersOf(n)).toHaveLength(1);
        expect((await unitState(n)).activeState).toBe('active');
        expect((await inspect(n)).Config.Env).toContain(`ROUND=${delayMs}`);
        expect((await httpGet(`http://127.0.0.1:${18110 + i}/name.txt`)).body.trim()).toBe(n);
      }
      expect(JSON.parse((await box.berth(['apply', '--json'])).stdout).steps).toEqual([]);
    }
  });

  it('logs and exec reach the app container', async () => {
    await box.writeRecipe(
      'le.yaml',
      web('le', 18121).replace('mkdir -p /www &&', 'echo hello-from-le && mkdir -p /www &&'),
    );
    await box.berth(['apply']);
    await httpGet('http://127.0.0.1:18121/name.txt');
    const logs = await box.berth(['logs', 'rt-le']);
    expect(`${logs.stdout}${logs.stderr}`).toContain('hello-from-le');
    const exec = await box.berth(['exec', 'rt-le', '--', 'cat', '/www/name.txt']);
    expect(exec.stdout.trim()).toBe('le');
  });

  it('remove keeps data; remove --purge --yes deletes it, and refuses without --yes when not asked', async () => {
    const data = join(box.config.dataDir, 'apps', 'rt-le');
    await box.berth(['remove', 'rt-le']);
    expect(await containersOf('le')).toEqual([]);
    await expect(stat(join(box.config.recipesDir, 'le.yaml.removed'))).resolves.toBeTruthy();
    await expect(stat(data)).resolves.toBeTruthy();
    const refused = await box.berth(['remove', 'rt-le', '--purge'], { allowFail: true });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('without confirmation; add --yes');
    await expect(stat(data)).resolves.toBeTruthy();
    await box.berth(['remove', 'rt-le', '--purge', '--yes']);
    await expect(stat(data)).rejects.toThrow();
  });

  it('a unit file berth did not write is never touched', async () => {
    const foreign = join(box.config.unitDir, 'berth-rt-foreign.service');
    await writeFile(foreign, '[Service]\nExecStart=/bin/true\n');
    await box.writeRecipe('foreign.yaml', web('foreign', 18120));
    const r = await box.berth(['apply'], { allowFail: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('was not written by berth');
    expect(await readFile(foreign, 'utf8')).toBe('[Service]\nExecStart=/bin/true\n');
    await box.removeRecipe('foreign.yaml');
  });
});
