// Recipe → `podman run` arguments, as a table: one row per recipe key, each giving the
// flags it adds. Flags are always written `--flag=value`, so no value can ever be read as
// another option; the image and command come last, after which podman parses no options.
import type { App } from '../recipe/app.js';
import { expandTemplate } from '../recipe/template.js';
import {
  appPaths,
  containerName,
  DOCKER_SOCKET_INSIDE,
  networkName,
  PODMAN_SOCKET,
  pinRef,
} from './paths.js';

export interface RenderContext {
  /** Absolute path of the podman binary. */
  podman: string;
  dataDir: string;
  hostname: string;
  /** System manager (multi-user.target) or a user manager (default.target). */
  mode: 'system' | 'user';
  /** Devices present on the host, to resolve optional (`-/dev/…`) devices. */
  presentDevices: ReadonlySet<string>;
  /**
   * Where the app's output goes. 'journal' (the default; journald runs): the unit's output and,
   * with podman's journald log driver, the container's. 'file' (no journald, e.g. a user manager
   * in a private namespace): files in the app's `.log/` dir, so output outlives the container.
   */
  unitOutput?: 'journal' | 'file';
}

type FlagRule = { key: string; flags: (app: App, ctx: RenderContext) => string[] };

/**
 * A health check as podman runs it: always through the container's /bin/sh. podman's exec
 * form (["CMD", …]) is not reliable: 4.3 keeps the JSON as one word (every check fails) and
 * later versions split the words again on spaces; so a list is quoted word by word instead.
 */
export function healthShell(cmd: string | readonly string[]): string {
  if (typeof cmd === 'string') return cmd;
  return cmd
    .map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`))
    .join(' ');
}

const goDuration = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

export const PODMAN_FLAG_TABLE: readonly FlagRule[] = [
  {
    key: 'network',
    flags: (a) =>
      a.network === 'bridge' && a.networks.length > 0
        ? [...a.networks.map((n) => `--network=${networkName(n)}`), `--network-alias=${a.name}`]
        : [`--network=${a.network}`],
  },
  {
    key: 'ports',
    flags: (a) =>
      a.ports.map((p) => {
        const bind = p.bind ? `${p.bind.includes(':') ? `[${p.bind}]` : p.bind}:` : '';
        return `--publish=${bind}${p.host}:${p.container}/${p.protocol}`;
      }),
  },
  {
    key: 'volumes',
    flags: (a, ctx) =>
      a.volumes.map(
        (v) =>
          `--volume=${v.host ?? appPaths(ctx.dataDir, a.name).volume(v.name)}:${v.target}${v.readonly ? ':ro' : ''}`,
      ),
  },
  {
    key: 'files',
    flags: (a, ctx) =>
      a.files.map((f) => `--volume=${appPaths(ctx.dataDir, a.name).configDir}/${f.name}:${f.target}:ro`),
  },
  {
    key: 'env',
    flags: (a, ctx) =>
      a.env
        .filter((e) => !e.secret)
        .map((e) => `--env=${e.name}=${expandTemplate(e.value, { hostname: ctx.hostname, app: a.name })}`),
  },
  {
    key: 'env (secrets)',
    flags: (a, ctx) =>
      a.env.some((e) => e.secret) ? [`--env-file=${appPaths(ctx.dataDir, a.name).secretEnvFile}`] : [],
  },
  {
    key: 'devices',
    flags: (a, ctx) =>
      a.devices.filter((d) => !d.optional || ctx.presentDevices.has(d.path)).map((d) => `--device=${d.path}`),
  },
  { key: 'capabilities', flags: (a) => a.capabilities.map((c) => `--cap-add=${c}`) },
  { key: 'privileged', flags: (a) => (a.privileged ? ['--privileged'] : []) },
  {
    key: 'host_paths',
    flags: (a) => a.hostPaths.map((h) => `--volume=${h.path}:${h.target}${h.readonly ? ':ro' : ''}`),
  },
  { key: 'security_opt', flags: (a) => a.securityOpt.map((o) => `--security-opt=${o}`) },
  {
    key: 'podman_socket',
    flags: (a) => (a.podmanSocket ? [`--volume=${PODMAN_SOCKET}:${DOCKER_SOCKET_INSIDE}`] : []),
  },
  { key: 'shm_size', flags: (a) => (a.shmBytes !== undefined ? [`--shm-size=${a.shmBytes}`] : []) },
  { key: 'read_only', flags: (a) => (a.readOnly ? ['--read-only'] : []) },
  { key: 'tmpfs', flags: (a) => a.tmpfs.map((p) => `--tmpfs=${p}`) },
  { key: 'sysctls', flags: (a) => a.sysctls.map(([k, v]) => `--sysctl=${k}=${v}`) },
  { key: 'ulimits', flags: (a) => a.ulimits.map(([k, v]) => `--ulimit=${k}=${v.soft}:${v.hard}`) },
  { key: 'extra_hosts', flags: (a) => a.extraHosts.map(([h, ip]) => `--add-host=${h}:${ip}`) },
  { key: 'labels', flags: (a) => a.labels.map(([k, v]) => `--label=${k}=${v}`) },
  {
    key: 'network_aliases',
    flags: (a) =>
      a.network === 'bridge' && a.networks.length > 0
        ? a.networkAliases.map((n) => `--network-alias=${n}`)
        : [],
  },
  {
    key: 'resources.memory',
    flags: (a) => (a.memoryBytes !== undefined ? [`--memory=${a.memoryBytes}`] : []),
  },
  // cgroup v2 cpu.weight w corresponds to v1 shares w*1024/100, which podman converts back.
  {
    key: 'resources.cpu_weight',
    flags: (a) =>
      a.cpuWeight !== undefined
        ? [`--cpu-shares=${Math.max(2, Math.round((a.cpuWeight * 1024) / 100))}`]
        : [],
  },
  { key: 'user', flags: (a) => (a.user ? [`--user=${a.user}`] : []) },
  { key: 'workdir', flags: (a) => (a.workdir ? [`--workdir=${a.workdir}`] : []) },
  { key: 'init', flags: (a) => (a.init ? ['--init'] : []) },
  { key: 'stop_timeout', flags: (a) => [`--stop-timeout=${a.stopTimeoutSec}`] },
  { key: 'stop_signal', flags: (a) => (a.stopSignal ? [`--stop-signal=${a.stopSignal}`] : []) },
  { key: 'dns', flags: (a) => a.dns.map((ip) => `--dns=${ip}`) },
  {
    key: 'health',
    flags: (a) => {
      const h = a.health;
      if (!h) return [];
      const cmd = JSON.stringify(['CMD-SHELL', healthShell(h.cmd)]);
      return [
        `--health-cmd=${cmd}`,
        // berth's own timer runs the checks (health-units.ts): podman makes no timers of its
        // own, which need the system manager (podman 4.3 fails without one, 4.4+ skips checks).
        '--health-interval=disable',
        `--health-timeout=${goDuration(h.timeoutMs)}`,
        `--health-retries=${h.retries}`,
        `--health-start-period=${goDuration(h.startPeriodMs)}`,
        `--health-on-failure=${h.onFailure === 'restart' ? 'kill' : 'none'}`,
      ];
    },
  },
  { key: 'entrypoint', flags: (a) => (a.entrypoint ? [`--entrypoint=${JSON.stringify(a.entrypoint)}`] : []) },
];

/** podman's own log file is removed with the container (--rm); this one stays, for `berth logs` and status. */
export const CONTAINER_LOG_MAX = '4mb';

function logFlags(app: App, ctx: RenderContext): string[] {
  if (ctx.unitOutput !== 'file') return [];
  return [
    '--log-driver=k8s-file',
    `--log-opt=path=${appPaths(ctx.dataDir, app.name).containerLog}`,
    `--log-opt=max-size=${CONTAINER_LOG_MAX}`,
  ];
}

/** The full `podman run` argv for an app (without the program itself). */
export function podmanRunArgs(app: App, ctx: RenderContext, hash: string): string[] {
  return [
    'run',
    `--name=${containerName(app.name)}`,
    '--replace',
    '--rm',
    '--detach',
    '--sdnotify=conmon',
    `--label=berth.app=${app.name}`,
    `--label=berth.hash=${hash}`,
    ...logFlags(app, ctx),
    ...PODMAN_FLAG_TABLE.flatMap((rule) => rule.flags(app, ctx)),
    // The image berth pinned (src/updates/record.ts), never whatever the recipe's tag names now.
    '--pull=never',
    pinRef(ctx.dataDir, app.name),
    ...(app.command ?? []),
  ];
}
