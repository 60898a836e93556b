// Recipe → Quadlet files (.container, and .network/.volume beside it) for hosts that would
// rather let podman's own generator run their containers. A table like the podman flags'
// one: each recipe key gives Quadlet keys, or PodmanArgs= where Quadlet has none. The data
// stays where berth keeps it: berth's volumes become .volume files that bind those dirs.
import type { App } from '../recipe/app.js';
import { expandTemplate } from '../recipe/template.js';
import { systemdEscape } from '../render/escape.js';
import {
  appDisks,
  appPaths,
  containerName,
  diskMountPoint,
  diskMountUnit,
  DOCKER_SOCKET_INSIDE,
  networkName,
  PODMAN_SOCKET,
  unitName,
} from '../render/paths.js';
import { healthShell } from '../render/podman-args.js';

export interface QuadletFile {
  name: string;
  text: string;
}

export interface QuadletContext {
  dataDir: string;
  hostname: string;
}

type Line = [key: string, value: string];
type QuadletRule = { key: string; lines: (app: App, ctx: QuadletContext) => Line[] };

const goDuration = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
/** A whole value that Quadlet splits into words (Exec=, PodmanArgs=, Environment=). */
function words(...ws: string[]): string {
  // Quadlet's splitter stops at an empty quoted word: the rest of the line would be lost.
  if (ws.includes(''))
    throw new QuadletError(
      'an empty argument cannot be written in a Quadlet file (Quadlet drops it and every argument after it)',
    );
  return ws.map((w) => systemdEscape(w, 'exec')).join(' ');
}
/**
 * A value Quadlet takes as it is: only specifiers need escaping. Quadlet, unlike systemd,
 * reads a line ending in a backslash as continued even with a space after it: such a value
 * cannot be written (free text loses its final backslashes instead).
 */
function raw(v: string): string {
  if (v.endsWith('\\'))
    throw new QuadletError(`${JSON.stringify(v)} ends in a backslash, which a Quadlet file cannot hold`);
  // Quadlet copies these into ExecStart= as they are, where systemd expands $NAME.
  return systemdEscape(v, 'text').replaceAll('$', '$$$$');
}
/** Free text that stays in [Unit] (Description=): no $ expansion there. */
const text = (v: string) => systemdEscape(v.replace(/[\\\s]+$/, ''), 'text');

export class QuadletError extends Error {}
const volumeUnit = (app: string, vol: string) => `${app}-${vol}.volume`;
const networkUnit = (net: string) => `${net}.network`;

export const QUADLET_TABLE: readonly QuadletRule[] = [
  { key: 'image', lines: (a) => [['Image', raw(a.image)]] },
  {
    key: 'name',
    lines: (a) => [
      ['ContainerName', containerName(a.name)],
      ['Label', `berth.app=${a.name}`],
    ],
  },
  {
    key: 'network',
    lines: (a) =>
      a.network === 'bridge' && a.networks.length > 0
        ? [
            ...a.networks.map((n): Line => ['Network', networkUnit(n)]),
            ['PodmanArgs', words(`--network-alias=${a.name}`)],
          ]
        : [['Network', a.network]],
  },
  {
    key: 'ports',
    lines: (a) =>
      a.ports.map((p): Line => {
        const bind = p.bind ? `${p.bind.includes(':') ? `[${p.bind}]` : p.bind}:` : '';
        return ['PublishPort', `${bind}${p.host}:${p.container}/${p.protocol}`];
      }),
  },
  {
    key: 'volumes',
    lines: (a) =>
      a.volumes.map((v): Line => [
        'Volume',
        raw(`${v.host ?? volumeUnit(a.name, v.name)}:${v.target}${v.readonly ? ':ro' : ''}`),
      ]),
  },
  {
    key: 'files',
    lines: (a, ctx) =>
      a.files.map((f): Line => [
        'Volume',
        raw(`${appPaths(ctx.dataDir, a.name).configDir}/${f.name}:${f.target}:ro`),
      ]),
  },
  {
    key: 'env',
    lines: (a, ctx) =>
      a.env
        .filter((e) => !e.secret)
        .map((e): Line => [
          'Environment',
          words(`${e.name}=${expandTemplate(e.value, { hostname: ctx.hostname, app: a.name })}`),
        ]),
  },
  {
    key: 'env (secrets)',
    lines: (a, ctx) =>
      a.env.some((e) => e.secret)
        ? [['EnvironmentFile', raw(appPaths(ctx.dataDir, a.name).secretEnvFile)]]
        : [],
  },
  // Quadlet's leading '-' makes a device optional, as berth's does.
  {
    key: 'devices',
    lines: (a) => a.devices.map((d): Line => ['AddDevice', raw(`${d.optional ? '-' : ''}${d.path}`)]),
  },
  { key: 'capabilities', lines: (a) => a.capabilities.map((c): Line => ['AddCapability', c]) },
  { key: 'privileged', lines: (a) => (a.privileged ? [['PodmanArgs', '--privileged']] : []) },
  {
    key: 'host_paths',
    lines: (a) =>
      a.hostPaths.map((h): Line => ['Volume', raw(`${h.path}:${h.target}${h.readonly ? ':ro' : ''}`)]),
  },
  {
    key: 'security_opt',
    lines: (a) => a.securityOpt.map((o): Line => ['PodmanArgs', words(`--security-opt=${o}`)]),
  },
  {
    key: 'podman_socket',
    lines: (a) => (a.podmanSocket ? [['Volume', raw(`${PODMAN_SOCKET}:${DOCKER_SOCKET_INSIDE}`)]] : []),
  },
  // Keys Quadlet gained only in later podman versions go in PodmanArgs= as berth's own flags.
  {
    key: 'shm_size',
    lines: (a) => (a.shmBytes !== undefined ? [['PodmanArgs', `--shm-size=${a.shmBytes}`]] : []),
  },
  { key: 'read_only', lines: (a) => (a.readOnly ? [['PodmanArgs', '--read-only']] : []) },
  { key: 'tmpfs', lines: (a) => a.tmpfs.map((p): Line => ['PodmanArgs', words(`--tmpfs=${p}`)]) },
  {
    key: 'sysctls',
    lines: (a) => a.sysctls.map(([k, v]): Line => ['PodmanArgs', words(`--sysctl=${k}=${v}`)]),
  },
  {
    key: 'ulimits',
    lines: (a) => a.ulimits.map(([k, v]): Line => ['PodmanArgs', `--ulimit=${k}=${v.soft}:${v.hard}`]),
  },
  {
    key: 'extra_hosts',
    lines: (a) => a.extraHosts.map(([h, ip]): Line => ['PodmanArgs', words(`--add-host=${h}:${ip}`)]),
  },
  { key: 'labels', lines: (a) => a.labels.map(([k, v]): Line => ['PodmanArgs', words(`--label=${k}=${v}`)]) },
  {
    key: 'network_aliases',
    lines: (a) =>
      a.network === 'bridge' && a.networks.length > 0
        ? a.networkAliases.map((n): Line => ['PodmanArgs', `--network-alias=${n}`])
        : [],
  },
  {
    key: 'resources.memory',
    lines: (a) => (a.memoryBytes !== undefined ? [['PodmanArgs', `--memory=${a.memoryBytes}`]] : []),
  },
  {
    key: 'resources.cpu_weight',
    lines: (a) =>
      a.cpuWeight !== undefined
        ? [['PodmanArgs', `--cpu-shares=${Math.max(2, Math.round((a.cpuWeight * 1024) / 100))}`]]
        : [],
  },
  { key: 'user', lines: (a) => (a.user ? [['PodmanArgs', words(`--user=${a.user}`)]] : []) },
  { key: 'workdir', lines: (a) => (a.workdir ? [['PodmanArgs', words(`--workdir=${a.workdir}`)]] : []) },
  { key: 'init', lines: (a) => (a.init ? [['RunInit', 'true']] : []) },
  { key: 'stop_timeout', lines: (a) => [['PodmanArgs', `--stop-timeout=${a.stopTimeoutSec}`]] },
  {
    key: 'stop_signal',
    lines: (a) => (a.stopSignal ? [['PodmanArgs', `--stop-signal=${a.stopSignal}`]] : []),
  },
  { key: 'dns', lines: (a) => a.dns.map((ip): Line => ['PodmanArgs', `--dns=${ip}`]) },
  {
    // On a Quadlet host podman's own timers run the checks (berth runs its own timer instead).
    key: 'health',
    lines: (a) => {
      const h = a.health;
      if (!h) return [];
      return [
        ['HealthCmd', raw(healthShell(h.cmd))],
        ['HealthInterval', goDuration(h.intervalMs)],
        ['HealthTimeout', goDuration(h.timeoutMs)],
        ['HealthRetries', String(h.retries)],
        ['HealthStartPeriod', goDuration(h.startPeriodMs)],
        ['HealthOnFailure', h.onFailure === 'restart' ? 'kill' : 'none'],
      ];
    },
  },
  {
    key: 'entrypoint',
    lines: (a) =>
      a.entrypoint ? [['PodmanArgs', words(`--entrypoint=${JSON.stringify(a.entrypoint)}`)]] : [],
  },
  { key: 'command', lines: (a) => (a.command?.length ? [['Exec', words(...a.command)]] : []) },
];

const section = (name: string, lines: readonly Line[] | readonly string[]) =>
  [`[${name}]`, ...lines.map((l) => (typeof l === 'string' ? l : `${l[0]}=${l[1]}`))].join('\n');

/** The app's .container file and the .volume and .network files it uses. */
export function renderQuadlet(app: App, ctx: QuadletContext): QuadletFile[] {
  const head = (what: string) =>
    `# ${what}: exported by berth from ${app.file.replace(/[\r\n]/g, '')} for podman's Quadlet.\n`;
  const container = [
    head(`${unitName(app.name).replace('.service', '.container')}`) +
      "# The image is the recipe's (berth itself runs the version it pinned); volumes bind\n" +
      `# berth's data dirs under ${ctx.dataDir}, so the data is the same.`,
    section('Unit', [
      `Description=${text(`${app.name}${app.description ? `: ${app.description}` : ''}`)}`,
      // Quadlet orders after a dependency's start; berth waited for its health check too.
      ...app.dependsOn.flatMap((d) => [
        ...(d.condition === 'healthy'
          ? [`# depends_on ${d.app}: healthy: here only started (no health wait)`]
          : []),
        `Requires=${unitName(d.app)}`,
        `After=${unitName(d.app)}`,
      ]),
      ...(app.podmanSocket ? ['Requires=podman.socket', 'After=podman.socket'] : []),
      ...[...app.requiresMounts, ...appDisks(app.volumes).map(diskMountPoint)].map(
        (p) => `RequiresMountsFor=${systemdEscape(p, 'path')}`,
      ),
    ]),
    '',
    section(
      'Container',
      QUADLET_TABLE.flatMap((r) => r.lines(app, ctx)),
    ),
    '',
    section('Service', [
      `Restart=${app.restart}`,
      `TimeoutStopSec=${app.stopTimeoutSec + 30}`,
      'TimeoutStartSec=900',
    ]),
    '',
    ...(app.enabled
      ? [
          section('Install', [
            'WantedBy=multi-user.target default.target',
            // A data disk plugged in again mounts, and its mount starts the app.
            ...appDisks(app.volumes).map((l) => `WantedBy=${diskMountUnit(l)}`),
          ]),
          '',
        ]
      : []),
  ].join('\n');
  const files: QuadletFile[] = [
    { name: unitName(app.name).replace('.service', '.container'), text: container },
  ];
  for (const v of app.volumes.filter((x) => !x.host))
    files.push({
      name: volumeUnit(app.name, v.name),
      text: `${head(volumeUnit(app.name, v.name))}${section('Volume', [
        ['VolumeName', `berth-${app.name}-${v.name}`],
        ['Device', raw(appPaths(ctx.dataDir, app.name).volume(v.name))],
        ['Type', 'none'],
        ['Options', 'bind'],
      ])}\n`,
    });
  if (app.network === 'bridge')
    for (const n of app.networks)
      files.push({
        name: networkUnit(n),
        text: `${head(networkUnit(n))}${section('Network', [['NetworkName', networkName(n)]])}\n`,
      });
  return files;
}
