// The normalized app: what a valid recipe means, with every default filled in and every
// string form parsed. Everything after validation (render, plan, executors) reads this.
import { dirname, resolve } from 'node:path';
import { buildRef, diskVolumeDir } from '../render/paths.js';
import { portsOf } from './check.js';
import type { Recipe } from './schema.js';
import { parseTemplate, type TemplatePart } from './template.js';
import { durationMs, durationSeconds, type PortMapping, sizeBytes } from './values.js';

export interface Volume {
  name: string;
  target: string;
  readonly: boolean;
  owner?: { uid: number; gid?: number };
  /** A host directory under an allowed root; undefined means the app's data dir. */
  host?: string;
  /** The data disk (its label) the volume lives on; host is then its directory there. */
  disk?: string;
}

export interface AppFile {
  name: string;
  target: string;
  content: TemplatePart[];
  /** The content as written in the recipe, before substitution (for the recipe hash). */
  template: string;
  mode: number;
}

/** A file whose content substitutes a secret value. */
export const holdsSecret = (f: Pick<AppFile, 'content'>) => f.content.some((p) => p.kind === 'secret');

/** The mode a file is written with: one that holds a secret is its owner's only (the recipe's mode less group and others). */
export const fileMode = (f: Pick<AppFile, 'content' | 'mode'>) => (holdsSecret(f) ? f.mode & 0o700 : f.mode);

export interface EnvVar {
  name: string;
  value: TemplatePart[];
  /** Values with ${secret:…} never reach the unit; berth writes them to a 0600 env file. */
  secret: boolean;
}

export interface Health {
  cmd: string | string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
  /** restart: podman kills an unhealthy container and the unit's Restart= brings it back. */
  onFailure: 'restart' | 'none';
}

export interface Dependency {
  app: string;
  condition: 'started' | 'healthy';
}

export interface Advertisement {
  type: string;
  port: number;
  protocol: 'tcp' | 'udp';
  name?: TemplatePart[];
  txt: Record<string, string>;
}

export interface UpdatePolicy {
  policy: 'manual' | 'notify' | 'auto';
  gateMs: number;
  stableForMs: number;
  keep: number;
  snapshot: boolean | 'all';
}

/** A Containerfile build, with absolute paths. */
export interface BuildSpec {
  context: string;
  file?: string;
  args: Record<string, string>;
  target?: string;
}

export interface App {
  name: string;
  file: string;
  description?: string;
  enabled: boolean;
  image: string;
  /** Present for a build: app; image is then buildRef(dataDir, name). */
  build?: BuildSpec;
  command?: string[];
  entrypoint?: string[];
  user?: string;
  workdir?: string;
  stopTimeoutSec: number;
  stopSignal?: string;
  dns: string[];
  init: boolean;
  network: 'host' | 'bridge' | 'none';
  ports: PortMapping[];
  networks: string[];
  volumes: Volume[];
  files: AppFile[];
  env: EnvVar[];
  devices: { path: string; optional: boolean }[];
  capabilities: string[];
  privileged: boolean;
  /** The host's own paths bound in (host_paths:). */
  hostPaths: { path: string; target: string; readonly: boolean }[];
  securityOpt: string[];
  /** podman's API socket at /var/run/docker.sock. */
  podmanSocket: boolean;
  shmBytes?: number;
  readOnly: boolean;
  tmpfs: string[];
  sysctls: [string, string][];
  ulimits: [string, { soft: number; hard: number }][];
  extraHosts: [string, string][];
  labels: [string, string][];
  networkAliases: string[];
  memoryBytes?: number;
  cpuWeight?: number;
  restart: 'always' | 'on-failure' | 'no';
  health?: Health;
  update: UpdatePolicy;
  dependsOn: Dependency[];
  requiresMounts: string[];
  advertise: Advertisement[];
}

const template = (s: string): TemplatePart[] => {
  const t = parseTemplate(s);
  if (!Array.isArray(t)) throw new Error(`unchecked template: ${s}`);
  return t;
};

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function owner(text: string | undefined): Volume['owner'] {
  if (!text) return undefined;
  const [uid, gid] = text.split(':');
  return { uid: Number(uid), ...(gid !== undefined ? { gid: Number(gid) } : {}) };
}

function buildSpec(b: NonNullable<Recipe['build']>, file: string): BuildSpec {
  const spec = typeof b === 'string' ? { context: b } : b;
  const context = resolve(dirname(resolve(file)), spec.context);
  return {
    context,
    ...(spec.file !== undefined ? { file: resolve(context, spec.file) } : {}),
    args: Object.fromEntries(Object.entries(spec.args ?? {}).map(([k, v]) => [k, String(v)])),
    ...(spec.target !== undefined ? { target: spec.target } : {}),
  };
}

/** Builds the App from a recipe that passed the schema and checkRecipe. */
export function toApp(r: Recipe, file: string, dataDir: string): App {
  return {
    name: r.name,
    file,
    ...(r.description !== undefined ? { description: r.description } : {}),
    enabled: r.enabled,
    image: r.image ?? buildRef(dataDir, r.name),
    ...(r.build !== undefined ? { build: buildSpec(r.build, file) } : {}),
    ...(r.command ? { command: r.command } : {}),
    ...(r.entrypoint ? { entrypoint: r.entrypoint } : {}),
    ...(r.user ? { user: r.user } : {}),
    ...(r.workdir ? { workdir: r.workdir } : {}),
    stopTimeoutSec: durationSeconds(r.stop_timeout),
    ...(r.stop_signal ? { stopSignal: r.stop_signal } : {}),
    dns: r.dns ?? [],
    init: r.init,
    network: r.network,
    ports: portsOf(r),
    networks: [...new Set(r.networks ?? [])],
    volumes: Object.entries(r.volumes ?? {})
      .map(([name, v]) => {
        const own = owner(v.owner);
        return {
          name,
          target: v.target,
          readonly: v.readonly,
          ...(own ? { owner: own } : {}),
          ...(v.host ? { host: v.host.length > 1 ? v.host.replace(/\/+$/, '') : v.host } : {}),
          ...(v.disk ? { disk: v.disk, host: diskVolumeDir(v.disk, r.name, name) } : {}),
        };
      })
      .sort(byName),
    files: Object.entries(r.files ?? {})
      .map(([name, f]) => ({
        name,
        target: f.target,
        content: template(f.content),
        template: f.content,
        mode: Number.parseInt(f.mode, 8),
      }))
      .sort(byName),
    env: Object.entries(r.env ?? {})
      .map(([name, v]) => {
        const value = template(String(v));
        return { name, value, secret: value.some((p) => p.kind === 'secret') };
      })
      .sort(byName),
    devices: (r.devices ?? []).map((d) => ({ path: d.replace(/^-/, ''), optional: d.startsWith('-') })),
    capabilities: [...new Set((r.capabilities ?? []).map((c) => c.replace(/^CAP_/, '')))],
    privileged: r.privileged,
    hostPaths: (r.host_paths ?? []).map((h) => ({
      path: h.path,
      target: h.target ?? h.path,
      readonly: h.readonly,
    })),
    securityOpt: [...new Set(r.security_opt ?? [])],
    podmanSocket: r.podman_socket,
    ...(r.shm_size ? { shmBytes: sizeBytes(r.shm_size) } : {}),
    readOnly: r.read_only,
    tmpfs: [...new Set(r.tmpfs ?? [])],
    sysctls: Object.entries(r.sysctls ?? {})
      .map(([k, v]): [string, string] => [k, String(v)])
      .sort(),
    ulimits: Object.entries(r.ulimits ?? {})
      .map(([k, v]): [string, { soft: number; hard: number }] => [
        k,
        typeof v === 'number' ? { soft: v, hard: v } : v!,
      ])
      .sort(([a], [b]) => a.localeCompare(b)),
    extraHosts: Object.entries(r.extra_hosts ?? {}).sort(),
    labels: Object.entries(r.labels ?? {})
      .map(([k, v]): [string, string] => [k, String(v)])
      .sort(),
    networkAliases: [...new Set(r.network_aliases ?? [])],
    ...(r.resources?.memory ? { memoryBytes: sizeBytes(r.resources.memory) } : {}),
    ...(r.resources?.cpu_weight ? { cpuWeight: r.resources.cpu_weight } : {}),
    restart: r.restart,
    ...(r.health
      ? {
          health: {
            cmd: r.health.cmd,
            intervalMs: durationMs(r.health.interval),
            timeoutMs: durationMs(r.health.timeout),
            retries: r.health.retries,
            startPeriodMs: durationMs(r.health.start_period),
            onFailure: r.health.on_failure,
          },
        }
      : {}),
    update: {
      policy: r.update?.policy ?? 'manual',
      gateMs: durationMs(r.update?.gate ?? '5m'),
      stableForMs: durationMs(r.update?.stable_for ?? '30s'),
      keep: r.update?.keep ?? 3,
      snapshot: r.update?.snapshot ?? true,
    },
    dependsOn: (r.depends_on ?? []).map((d) =>
      typeof d === 'string'
        ? { app: d, condition: 'started' as const }
        : { app: Object.keys(d)[0]!, condition: Object.values(d)[0]! },
    ),
    requiresMounts: r.requires_mounts ?? [],
    advertise: (r.advertise ?? []).map((a) => ({
      type: a.type,
      port: a.port,
      protocol: a.type.endsWith('._udp') ? ('udp' as const) : ('tcp' as const),
      ...(a.name !== undefined ? { name: template(a.name) } : {}),
      txt: Object.fromEntries(Object.entries(a.txt ?? {}).map(([k, v]) => [k, String(v)])),
    })),
  };
}
