// A real systemd user manager with real podman, for integration tests: each test file
// gets its own manager, unit dir, data dir and recipes dir under a temp root. Must run
// inside test/in-sandbox.sh (npm test does), which gives the manager its /run/systemd.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { type Config, resolveConfig } from '../../src/config.js';
import { Podman } from '../../src/podman/podman.js';
import type { Runtime } from '../../src/runtime.js';
import { DbusServiceManager } from '../../src/systemd/manager.js';

const run = promisify(execFile);

/** The repository root, found from here whether this file runs from test/ or compiled elsewhere. */
export function repoRoot(from = import.meta.dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = join(dir, '..');
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(`timed out: ${what}${last ? ` (${(last as Error).message.split('\n')[0]})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A small bridge web app on 127.0.0.1:PORT that serves its own name at /name.txt. */
export function webRecipe(prefix: string, name: string, port: number, extra = ''): string {
  return `name: ${prefix}-${name}
image: localhost/berth/busybox:1.35.0
init: true
command: [sh, -c, "mkdir -p /www && echo ${name} > /www/name.txt && exec httpd -f -p 80 -h /www"]
ports: ["127.0.0.1:${port}:80"]
stop_timeout: 2s
${extra}`;
}

export interface Appliance {
  root: string;
  config: Config;
  runtime: Runtime;
  env: NodeJS.ProcessEnv;
  /** Runs the built berth CLI against this appliance. */
  berth(
    args: string[],
    opts?: { allowFail?: boolean; env?: NodeJS.ProcessEnv },
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  writeRecipe(file: string, text: string): Promise<void>;
  removeRecipe(file: string): Promise<void>;
  podman(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export function inSandbox(): boolean {
  return process.env.BERTH_SANDBOX_NS === '1';
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export async function startAppliance(
  name: string,
  extraEnv: NodeJS.ProcessEnv = {},
  wrap: string[] = [],
): Promise<Appliance> {
  if (!inSandbox()) throw new Error('integration tests run inside test/in-sandbox.sh; use npm test');
  const root = await mkdtemp(join(tmpdir(), `berth-${name}-`));
  const dirs = {
    run: join(root, 'run'),
    config: join(root, 'config'),
    unitDir: join(root, 'config', 'systemd', 'user'),
    data: join(root, 'data'),
    recipes: join(root, 'recipes'),
    srv: join(root, 'srv'),
  };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true, mode: 0o700 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    XDG_RUNTIME_DIR: dirs.run,
    XDG_CONFIG_HOME: dirs.config,
    // podman settings this host needs (see image-build/containers-host.conf).
    CONTAINERS_CONF: join(repoRoot(), 'image-build', 'containers-host.conf'),
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dirs.run, 'bus')}`,
    BERTH_USER: '1',
    BERTH_RECIPES_DIR: dirs.recipes,
    BERTH_DATA_DIR: dirs.data,
    BERTH_UNIT_DIR: dirs.unitDir,
    BERTH_HOSTNAME: 'berthtest',
    BERTH_ALLOWED_ROOTS: dirs.srv,
    BERTH_SOCKET: join(dirs.run, 'berth', 'control.sock'),
    // Tests send traffic only to loopback or to namespaces they made: never mDNS on the host's LAN.
    BERTH_ADVERTISE_INTERFACES: 'lo',
    // A store of its own, when the run asks for one: another sandbox's running containers make
    // podman ps fail here ("unknown FS magic on /run/netns/…"), as their namespaces are not ours.
    ...(process.env.CONTAINERS_STORAGE_CONF
      ? { CONTAINERS_STORAGE_CONF: process.env.CONTAINERS_STORAGE_CONF }
      : {}),
    ...extraEnv,
  };
  // `wrap` (e.g. nsenter --net=…) puts the manager, and so every app and berth.service, elsewhere.
  // Its own cgroup: test files run side by side, and two managers started from one cgroup
  // share their units' cgroups (each file's berth.service would kill the other's).
  const cgroup = `berth-test-${basename(root)}`;
  const ownCgroup = join(repoRoot(), 'image-build', 'own-cgroup.sh');
  const [prog, ...progArgs] = [...wrap, 'sh', ownCgroup, cgroup, 'join', '/lib/systemd/systemd', '--user'];
  const manager: ChildProcess = spawn(prog!, progArgs, {
    env,
    stdio: 'ignore',
    detached: true,
  });
  await waitFor('the user manager bus', async () => (existsSync(join(dirs.run, 'bus')) ? true : undefined));
  const systemd = await waitFor('the user manager', async () => {
    const m = await DbusServiceManager.connect({ user: true, busAddress: env.DBUS_SESSION_BUS_ADDRESS! });
    return m;
  });
  const config: Config = {
    recipesDir: dirs.recipes,
    dataDir: dirs.data,
    unitDir: dirs.unitDir,
    user: true,
    allowedRoots: [dirs.srv],
    hostname: 'berthtest',
    podman: '/usr/bin/podman',
    socketPath: env.BERTH_SOCKET!,
    settingsDir: join(dirs.data, 'no-settings-partition'),
    catalogDir: join(import.meta.dirname, '../../recipes/catalog'),
    notifyFile: join(root, 'notify.yaml'),
    disksFile: join(root, 'disks.yaml'),
    os: resolveConfig({}, {}).os,
  };
  const podmanEnv = { ...process.env, CONTAINERS_CONF: env.CONTAINERS_CONF };
  const cli = join(repoRoot(), 'dist', 'cli', 'main.js');
  const appliance: Appliance = {
    root,
    config,
    env,
    runtime: { config, systemd, podman: new Podman(['/usr/bin/podman']) },
    async berth(args, opts = {}) {
      try {
        const [p0, ...pa] = [...wrap, process.execPath, cli, ...args];
        const r = await run(p0!, pa, { env: { ...process.env, ...env, ...opts.env } });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string };
        if (!opts.allowFail)
          throw new Error(`berth ${args.join(' ')} failed (${err.code}):\n${err.stdout}\n${err.stderr}`);
        return { code: err.code, stdout: err.stdout, stderr: err.stderr };
      }
    },
    async writeRecipe(file, text) {
      // As an editor does it: a temp file renamed over the recipe.
      const tmp = join(dirs.recipes, `.${file}.swp`);
      await writeFile(tmp, text);
      await run('mv', [tmp, join(dirs.recipes, file)]);
    },
    async removeRecipe(file) {
      await rm(join(dirs.recipes, file), { force: true });
    },
    async podman(args) {
      return (await run('podman', args, { env: podmanEnv })).stdout;
    },
    async stop() {
      systemd.close();
      // Stopping the manager stops every unit, and so every app container.
      if (manager.pid) process.kill(-manager.pid, 'SIGTERM');
      await waitFor(
        'the user manager to exit',
        async () => (manager.exitCode !== null || manager.signalCode ? true : undefined),
        60_000,
      ).catch(() => {
        if (manager.pid) process.kill(-manager.pid, 'SIGKILL');
      });
      await run('sh', [ownCgroup, cgroup, 'remove']).catch(() => undefined);
      // Leftovers of this file's apps (their names start with the appliance name).
      const names = (await run('podman', ['ps', '-a', '--format', '{{.Names}}'], { env: podmanEnv })).stdout
        .split('\n')
        .filter((n) => n.startsWith(`berth-${name}-`));
      if (names.length > 0) await run('podman', ['rm', '-f', ...names], { env: podmanEnv });
      await rm(root, { recursive: true, force: true });
    },
  };
  // Containers inherit CONTAINERS_CONF from the manager; berth's own podman calls need it too.
  process.env.CONTAINERS_CONF = env.CONTAINERS_CONF;
  return appliance;
}

export async function httpGet(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return { status: r.status, body: await r.text() };
    } catch (e) {
      last = e;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  throw new Error(`GET ${url}: ${(last as Error | undefined)?.message ?? 'timeout'}`);
}

export async function ensureTestImages(): Promise<void> {
  await run('bash', [join(repoRoot(), 'image-build', 'build-images.sh'), 'busybox']);
}

/** Runs units/berth.service (the supervisor as it runs in production) on the appliance's manager, with extra [Service] lines. */
export async function startSupervisorService(box: Appliance, serviceLines: string[] = []): Promise<void> {
  const root = repoRoot();
  const unitText = (await readFile(join(root, 'units', 'berth.service'), 'utf8'))
    .replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `)
    .replace('/usr/lib/berth/', `${root}/`)
    .replace('[Service]\n', `[Service]\n${serviceLines.map((l) => `${l}\n`).join('')}`);
  await writeFile(join(box.config.unitDir, 'berth.service'), unitText);
  await box.runtime.systemd.reload();
  const r = await box.runtime.systemd.start('berth.service');
  if (r !== 'done') throw new Error(`berth.service did not start: ${r}`);
}
