// Where berth keeps an app's things on the host. One place, so render, plan and executors agree.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { pathUnitName } from './escape.js';

export const unitName = (app: string) => `berth-${app}.service`;
export const containerName = (app: string) => `berth-${app}`;
/** The app whose unit this is; undefined for any other unit (berth's own, a health check's). */
export function appOfUnit(unit: string): string | undefined {
  const m = /^berth-([a-z0-9][a-z0-9-]*)\.service$/.exec(unit);
  return m?.[1];
}
/** The health check's timer and service. A dot, which app names never have, keeps them apart from apps' units. */
export const healthUnitNames = (app: string) => ({
  timer: `berth-${app}.health.timer`,
  service: `berth-${app}.health.service`,
});
export const networkName = (net: string) => `berth-${net}`;
/**
 * podman's image store is shared by every berth on the machine (the appliance's, a
 * sandbox's, the tests'), so berth's own image names carry its instance: a hash of its
 * data dir. One berth never moves or removes another's.
 */
export const instanceOf = (dataDir: string) => createHash('sha256').update(dataDir).digest('hex').slice(0, 8);

/**
 * The names that pin an app's image: the unit runs `:current`; `:previous` keeps the image
 * an update replaced, for a rollback. Both live in berth's own namespace, so no pull or
 * retag by anyone else moves them, and podman cannot remove an image they name.
 */
export const pinRef = (dataDir: string, app: string, which: 'current' | 'previous' = 'current') =>
  `${pinPrefix(dataDir)}${app}:${which}`;
export const pinPrefix = (dataDir: string) => `localhost/berth-pin/${instanceOf(dataDir)}/`;

/** The tag a build: app's image gets. */
export const buildRef = (dataDir: string, app: string) =>
  `localhost/berth-build/${instanceOf(dataDir)}/${app}:latest`;

export interface AppPaths {
  /** Everything berth keeps for the app; `remove --purge` deletes exactly this. */
  root: string;
  volume: (name: string) => string;
  /** Files from `files:`, mounted read-only. */
  configDir: string;
  /** Generated secrets, 0700 dir with 0600 files. */
  secretsDir: string;
  /** Environment variables that contain secrets, as a podman --env-file. */
  secretEnvFile: string;
  /** Where the app's output is kept when no journald runs (see RenderContext.unitOutput). */
  logDir: string;
  /** The unit's own output: podman's messages, including why a container could not start. */
  unitLog: string;
  /** The container's output (podman's k8s-file log driver), kept when the container is removed. */
  containerLog: string;
  /** berth's records of the app: pinned images, an update under way, update history. */
  stateDir: string;
  /** Data snapshots taken before updates. */
  snapshotsDir: string;
  /** Data a failed version wrote, moved aside by a rollback (never deleted by berth). */
  asideDir: string;
}

export function appPaths(dataDir: string, app: string): AppPaths {
  const root = posix.join(dataDir, 'apps', app);
  // Volume names are [a-z0-9-], so the dot-directories cannot collide with a volume.
  return {
    root,
    volume: (name) => posix.join(root, name),
    configDir: posix.join(root, '.config'),
    secretsDir: posix.join(root, '.secrets'),
    secretEnvFile: posix.join(root, '.secrets', 'env'),
    logDir: posix.join(root, '.log'),
    unitLog: posix.join(root, '.log', 'unit.log'),
    containerLog: posix.join(root, '.log', 'container.log'),
    stateDir: posix.join(root, '.berth'),
    snapshotsDir: posix.join(root, '.snapshots'),
    asideDir: posix.join(root, '.aside'),
  };
}

/** Where berth mounts a data disk, and the directories of an app's volumes on it. */
/** podman's API socket (root's podman.socket), and where Docker clients in a container look for one. */
export const PODMAN_SOCKET = '/run/podman/podman.sock';
export const DOCKER_SOCKET_INSIDE = '/var/run/docker.sock';

export const DISKS_ROOT = '/srv';
export const diskMountPoint = (label: string) => posix.join(DISKS_ROOT, label);
export const diskVolumeDir = (label: string, app: string, volume: string) =>
  posix.join(DISKS_ROOT, label, app, volume);
/** A data disk's label: what mkfs.ext4 -L takes (16 bytes), and a plain directory name. */
export const DISK_LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$/;
/** The mount unit of a data disk's mount point (srv-<label>.mount). */
export const diskMountUnit = (label: string) => pathUnitName(diskMountPoint(label), 'mount');
/** The data disks an app's volumes live on, by label, sorted. */
export const appDisks = (volumes: readonly { disk?: string }[]): string[] =>
  [...new Set(volumes.flatMap((v) => (v.disk ? [v.disk] : [])))].sort();
