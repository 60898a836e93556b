// App → systemd unit text. Shaped after what podman's Quadlet generates for a container:
// Type=notify with conmon's readiness, the container removed on stop, KillMode=mixed.
// Pure: the same app and context always give the same bytes.
import { createHash } from 'node:crypto';
import { type App, fileMode } from '../recipe/app.js';
import { execLine, systemdEscape } from './escape.js';
import { renderHealthUnits, type UnitFile } from './health-units.js';
import { appDisks, appPaths, containerName, diskMountUnit, healthUnitNames, unitName } from './paths.js';
import { podmanRunArgs, type RenderContext } from './podman-args.js';

export type { RenderContext } from './podman-args.js';

/** Marks a unit file as berth's own; berth never touches a unit without it. */
export const OWNER_MARK = 'X-Berth-Managed=yes';
export const HASH_KEY = 'X-Berth-Hash';
const HASH_PLACEHOLDER = '@BERTH_HASH@';

/** Generous: the first start may pull a large image. */
export const START_TIMEOUT_SEC = 900;
export const RESTART_DELAY_SEC = 5;
/**
 * A broken app must not restart forever: after this many starts within the interval the unit
 * ends `failed`, and the supervisor retries it later with a growing delay (supervisor/failures.ts).
 * The keys work on every systemd berth meets (RestartSteps= needs systemd 254).
 */
export const START_LIMIT_BURST = 5;
export const START_LIMIT_INTERVAL_SEC = 600;

export interface RenderedUnit {
  name: string;
  text: string;
  /** Hash of everything that defines the running app (unit texts, files, secret env templates). */
  hash: string;
  /** Units written and removed with the app's own (its health check's timer and service). */
  companions: UnitFile[];
}

const section = (name: string, lines: (string | false | undefined)[]) =>
  [`[${name}]`, ...lines.filter((l): l is string => typeof l === 'string')].join('\n');

/** Paths that must be mounted before the app: its data, its host volumes, and requires_mounts. */
function mountPaths(app: App, ctx: RenderContext): string[] {
  const paths = [
    appPaths(ctx.dataDir, app.name).root,
    ...app.volumes.flatMap((v) => (v.host ? [v.host] : [])),
    ...app.requiresMounts,
  ];
  return [...new Set(paths)];
}

/** Podman 4.3 cannot wait for health (no --sdnotify=healthy), so a bounded poll does. */
function waitHealthyLine(ctx: RenderContext, dep: string): string {
  const script = `for i in $(seq 1 ${START_TIMEOUT_SEC}); do [ "$(${ctx.podman} inspect --format '{{.State.Health.Status}}' ${containerName(dep)} 2>/dev/null)" = healthy ] && exit 0; sleep 1; done; echo "${dep} did not become healthy" >&2; exit 1`;
  return `ExecStartPre=${execLine(['/bin/sh', '-c', script])}`;
}

/** Without journald, the unit's output (podman's own errors) is appended to a file berth reads. */
function outputLines(app: App, ctx: RenderContext): string[] {
  if (ctx.unitOutput !== 'file') return [];
  // The path is taken verbatim (no quotes, no unescaping): only `%` needs escaping, as in free text.
  return [
    `StandardOutput=append:${systemdEscape(appPaths(ctx.dataDir, app.name).unitLog, 'text')}`,
    'StandardError=inherit',
  ];
}

export function renderUnit(app: App, ctx: RenderContext): RenderedUnit {
  const deps = app.dependsOn.map((d) => unitName(d.app));
  const container = containerName(app.name);
  const stopArgs = [ctx.podman, 'rm', '--force', '--ignore', `--time=${app.stopTimeoutSec}`, container];
  const body = [
    `# ${unitName(app.name)}: written by berth from ${app.file.replace(/[\r\n]/g, '')}.`,
    '# berth owns this file and rewrites it on every apply: edit the recipe instead.',
    section('Unit', [
      `Description=${systemdEscape(`berth app ${app.name}${app.description ? `: ${app.description}` : ''}`, 'text')}`,
      'Wants=network-online.target',
      'After=network-online.target',
      // The health check's timer starts with the app and stops with it (PartOf= there).
      ...(app.health ? [`Wants=${healthUnitNames(app.name).timer}`] : []),
      ...deps.flatMap((u) => [`Requires=${u}`, `After=${u}`]),
      // podman's API socket is made by its socket unit, started for the app that is given it.
      ...(app.podmanSocket ? ['Requires=podman.socket', 'After=podman.socket'] : []),
      ...mountPaths(app, ctx).map((p) => `RequiresMountsFor=${systemdEscape(p, 'path')}`),
      `StartLimitIntervalSec=${START_LIMIT_INTERVAL_SEC}`,
      `StartLimitBurst=${START_LIMIT_BURST}`,
      OWNER_MARK,
      `X-Berth-App=${app.name}`,
      // What the pin tag the unit runs was pinned from (berth status shows the image ID).
      `X-Berth-Image=${systemdEscape(app.image, 'text')}`,
      `${HASH_KEY}=${HASH_PLACEHOLDER}`,
    ]),
    '',
    section('Service', [
      'Type=notify',
      'NotifyAccess=all',
      'Environment=PODMAN_SYSTEMD_UNIT=%n',
      `SyslogIdentifier=${container}`,
      ...outputLines(app, ctx),
      'KillMode=mixed',
      `TimeoutStartSec=${START_TIMEOUT_SEC}`,
      `TimeoutStopSec=${app.stopTimeoutSec + 30}`,
      `Restart=${app.restart}`,
      `RestartSec=${RESTART_DELAY_SEC}`,
      // conmon exits 143 when the container ends on SIGTERM: a normal stop, not a failure.
      'SuccessExitStatus=143',
      ...app.dependsOn.filter((d) => d.condition === 'healthy').map((d) => waitHealthyLine(ctx, d.app)),
      `ExecStart=${execLine([ctx.podman, ...podmanRunArgs(app, ctx, HASH_PLACEHOLDER)])}`,
      `ExecStop=${execLine(stopArgs)}`,
      `ExecStopPost=${execLine(stopArgs, '-')}`,
    ]),
    '',
    section('Install', [
      `WantedBy=${ctx.mode === 'system' ? 'multi-user.target' : 'default.target'}`,
      // A data disk plugged in (again) mounts, and its mount starts the apps that wait for it.
      ...appDisks(app.volumes).map((l) => `WantedBy=${diskMountUnit(l)}`),
    ]),
    '',
  ].join('\n');

  const companions = renderHealthUnits(app, ctx, [OWNER_MARK, `X-Berth-App=${app.name}`]);
  const h = createHash('sha256').update(body);
  for (const c of companions) h.update(`\0unit\0${c.name}\0${c.text}`);
  // The mode written (fileMode): a file that holds a secret is rewritten when that rule changes.
  for (const f of app.files) h.update(`\0file\0${f.name}\0${fileMode(f)}\0${f.template}`);
  for (const e of app.env.filter((x) => x.secret))
    h.update(`\0secret-env\0${e.name}\0${JSON.stringify(e.value)}`);
  const hash = h.digest('hex').slice(0, 16);
  return { name: unitName(app.name), text: body.replaceAll(HASH_PLACEHOLDER, hash), hash, companions };
}

/** The hash a unit file on disk was written with, if it is berth's. */
export function unitHash(text: string): string | undefined {
  if (!text.includes(OWNER_MARK)) return undefined;
  return new RegExp(`^${HASH_KEY}=([0-9a-f]+)$`, 'm').exec(text)?.[1];
}

export function isBerthUnit(text: string): boolean {
  return text.split('\n').includes(OWNER_MARK);
}
