// Current state: berth's unit files, systemd's view of them, labelled containers, and
// what exists on disk. Read once per pass; the planner compares it with the desired state.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerInfo, Podman } from '../podman/podman.js';
import { appPaths, networkName } from '../render/paths.js';
import { unitHash } from '../render/unit.js';
import type { ServiceManager } from '../systemd/manager.js';
import type { DesiredApp } from './desired.js';

export interface CurrentApp {
  name: string;
  /** The hash in berth's unit file on disk; undefined when there is none. */
  unitHash?: string;
  activeState: string;
  unitFileState: string;
  needDaemonReload: boolean;
  containers: ContainerInfo[];
  missingDirs: string[];
  missingSecrets: string[];
  missingFiles: boolean;
}

export interface CurrentState {
  apps: Map<string, CurrentApp>;
  images: Set<string>;
  networks: Set<string>;
}

export interface ReadDeps {
  unitDir: string;
  dataDir: string;
  systemd: ServiceManager;
  podman: Podman;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** berth's unit files in the unit dir, by app name (files without berth's mark are never read as ours). */
export async function berthUnits(unitDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let names: string[] = [];
  try {
    names = await readdir(unitDir);
  } catch {
    return out;
  }
  await Promise.all(
    names
      .filter((n) => /^berth-[a-z0-9-]+\.service$/.test(n))
      .map(async (n) => {
        const text = await readFile(join(unitDir, n), 'utf8').catch(() => '');
        const hash = unitHash(text);
        if (hash) out.set(n.slice('berth-'.length, -'.service'.length), hash);
      }),
  );
  return out;
}

export async function readCurrent(desired: readonly DesiredApp[], deps: ReadDeps): Promise<CurrentState> {
  const [units, containers, networks] = await Promise.all([
    berthUnits(deps.unitDir),
    deps.podman.listAppContainers(),
    deps.podman.listNetworks(),
  ]);
  const names = new Set([
    ...units.keys(),
    ...desired.map((d) => d.app.name),
    ...containers.map((c) => c.app),
  ]);
  const byName = new Map(desired.map((d) => [d.app.name, d]));
  const images = new Set<string>();
  await Promise.all(
    [...new Set(desired.filter((d) => d.app.enabled).map((d) => d.app.image))].map(async (ref) => {
      if (await deps.podman.imageExists(ref)) images.add(ref);
    }),
  );
  const apps = new Map<string, CurrentApp>();
  await Promise.all(
    [...names].map(async (name) => {
      const d = byName.get(name);
      const unit = `berth-${name}.service`;
      const s = units.has(name) ? await deps.systemd.state(unit).catch(() => undefined) : undefined;
      const paths = appPaths(deps.dataDir, name);
      const missingDirs = d
        ? (await Promise.all(d.dirs.map(async (x) => ((await exists(x.path)) ? '' : x.path)))).filter(Boolean)
        : [];
      const missingSecrets = d
        ? (
            await Promise.all(
              d.secrets.map(async (n) => ((await exists(join(paths.secretsDir, n))) ? '' : n)),
            )
          ).filter(Boolean)
        : [];
      const fileChecks = d
        ? await Promise.all(d.app.files.map((f) => exists(join(paths.configDir, f.name))))
        : [];
      const hash = units.get(name);
      apps.set(name, {
        name,
        ...(hash ? { unitHash: hash } : {}),
        activeState: s?.activeState ?? 'inactive',
        unitFileState: s?.unitFileState ?? '',
        needDaemonReload: s?.needDaemonReload ?? false,
        containers: containers.filter((c) => c.app === name),
        missingDirs,
        missingSecrets,
        missingFiles: fileChecks.includes(false),
      });
    }),
  );
  return { apps, images, networks: new Set(networks.filter((n) => n.startsWith(networkName('')))) };
}
