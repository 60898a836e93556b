// Current state: berth's unit files, systemd's view of them, labelled containers, and
// what exists on disk. Read once per pass; the planner compares it with the desired state.
// Small local files are read synchronously: a hundred apps' unit files and data paths take a
// few milliseconds that way, against a hundred thread-pool round trips (tens of ms while
// podman keeps the CPU busy) with fs/promises.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerInfo, Podman } from '../podman/podman.js';
import { appOfUnit, appPaths, networkName, unitName } from '../render/paths.js';
import { unitHash } from '../render/unit.js';
import type { ServiceManager, UnitSummary } from '../systemd/manager.js';
import { type ImageRecord, readRecord } from '../updates/record.js';
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
  /** berth's record of the app's pinned image (and an update under way). */
  record: ImageRecord;
}

export interface CurrentState {
  /** The data dir this berth keeps; berth's names in podman's shared store derive from it (pinRef). */
  dataDir: string;
  apps: Map<string, CurrentApp>;
  /** Image ID by every name and digest reference in podman's store (pin tags included). */
  images: Map<string, string>;
  networks: Set<string>;
}

export interface ReadDeps {
  unitDir: string;
  dataDir: string;
  systemd: ServiceManager;
  podman: Podman;
}

/** berth's unit files in the unit dir, by app name (files without berth's mark are never read as ours). */
export async function berthUnits(unitDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let names: string[] = [];
  try {
    names = readdirSync(unitDir);
  } catch {
    return out;
  }
  for (const n of names) {
    const app = appOfUnit(n);
    if (!app) continue;
    let text = '';
    try {
      text = readFileSync(join(unitDir, n), 'utf8');
    } catch {
      // Gone since the listing: not ours any more.
    }
    const hash = unitHash(text);
    if (hash) out.set(app, hash);
  }
  return out;
}

/**
 * Starts reading the current state that does not depend on the recipes (containers, unit
 * files, systemd's view of them), so that a caller can load the recipes meanwhile; the
 * function it returns finishes the read for the desired apps. podman's listing is most of
 * a pass's time, and it runs in podman's own process.
 */
export function startReadCurrent(deps: ReadDeps): (desired: readonly DesiredApp[]) => Promise<CurrentState> {
  const containersP = deps.podman.listAppContainers();
  const unitsP = berthUnits(deps.unitDir);
  const statesP = unitsP.then((units) => unitStates(deps.systemd, [...units.keys()]));
  // Not awaited until the recipes are read: a failure must not count as unhandled meanwhile.
  for (const p of [containersP, statesP]) p.catch(() => {});
  return async (desired) => {
    // Networks are read only when an app joins one: only those are planned.
    const enabled = desired.filter((d) => d.app.enabled);
    const networksP = enabled.some((d) => d.app.networks.length > 0)
      ? deps.podman.listNetworks()
      : Promise.resolve([]);
    // One listing answers for every app's image and pin tags, where a check per ref would
    // start a podman process for each.
    const imagesP =
      enabled.length > 0 ? deps.podman.imageNames() : Promise.resolve(new Map<string, string>());
    const disk = new Map(desired.map((d) => [d.app.name, onDisk(d, deps.dataDir)]));
    const [units, states, containers, networks, images] = await Promise.all([
      unitsP,
      statesP,
      containersP,
      networksP,
      imagesP,
    ]);
    const names = new Set([...units.keys(), ...disk.keys(), ...containers.map((c) => c.app)]);
    const apps = new Map<string, CurrentApp>();
    for (const name of names) {
      const s = states.get(name);
      const hash = units.get(name);
      apps.set(name, {
        name,
        ...(hash ? { unitHash: hash } : {}),
        activeState: s?.activeState ?? 'inactive',
        unitFileState: s?.unitFileState ?? '',
        needDaemonReload: s?.needDaemonReload ?? false,
        containers: containers.filter((c) => c.app === name),
        missingDirs: [],
        missingSecrets: [],
        missingFiles: false,
        record: readRecord(deps.dataDir, name),
        ...disk.get(name),
      });
    }
    return {
      dataDir: deps.dataDir,
      apps,
      images: await withPinnedIds(images, apps, deps.podman),
      networks: new Set(networks.filter((n) => n.startsWith(networkName('')))),
    };
  };
}

/**
 * A pinned image that lost every name (someone untagged it) is still the app's image: its
 * ID is added as a name of itself, so the planner puts the pin tag back instead of pinning
 * whatever the recipe's tag names now. Asked only for such images (rare).
 */
async function withPinnedIds(
  images: Map<string, string>,
  apps: Map<string, CurrentApp>,
  podman: Podman,
): Promise<Map<string, string>> {
  const known = new Set(images.values());
  const ids = [...apps.values()].flatMap((a) => [a.record.current?.id, a.record.previous?.id]);
  const unnamed = [...new Set(ids)].filter((id): id is string => !!id && !known.has(id));
  const found = await Promise.all(unnamed.map(async (id) => ((await podman.imageExists(id)) ? id : '')));
  for (const id of found) if (id) images.set(id, id);
  return images;
}

/** systemd's view of the apps that have a unit file, by app name; a unit it cannot read is left out. */
async function unitStates(
  systemd: ServiceManager,
  apps: readonly string[],
): Promise<Map<string, UnitSummary>> {
  const units = apps.map(unitName);
  const oneByOne = async () =>
    new Map(
      (await Promise.all(units.map((u) => systemd.state(u).catch(() => undefined)))).flatMap((s) =>
        s ? [[s.name, s] as const] : [],
      ),
    );
  const byUnit: Map<string, UnitSummary> = systemd.summaries
    ? await systemd.summaries(units).catch(oneByOne)
    : await oneByOne();
  const out = new Map<string, UnitSummary>();
  for (const app of apps) {
    const s = byUnit.get(unitName(app));
    if (s) out.set(app, s);
  }
  return out;
}

/** What of a desired app's directories, secrets and config files is missing on disk. */
function onDisk(
  d: DesiredApp,
  dataDir: string,
): Pick<CurrentApp, 'missingDirs' | 'missingSecrets' | 'missingFiles'> {
  const paths = appPaths(dataDir, d.app.name);
  return {
    missingDirs: d.dirs.filter((x) => !existsSync(x.path)).map((x) => x.path),
    missingSecrets: d.secrets.filter((n) => !existsSync(join(paths.secretsDir, n))),
    missingFiles: d.app.files.some((f) => !existsSync(join(paths.configDir, f.name))),
  };
}
