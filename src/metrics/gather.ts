// The facts /metrics shows, read cheaply at each scrape: systemd's state and accounting of
// each app's unit over D-Bus (no process started), podman's health only for apps that have
// a health check, statfs of the data dir, and what the supervisor counts itself.
import { statfs } from 'node:fs/promises';
import type { Podman } from '../podman/podman.js';
import type { App } from '../recipe/app.js';
import { containerName, unitName } from '../render/paths.js';
import type { ServiceManager } from '../systemd/manager.js';
import { readHistory } from '../updates/record.js';
import type { AppFacts, MetricsFacts } from './render.js';

export interface MetricsSources {
  dataDir: string;
  systemd: ServiceManager;
  podman: Pick<Podman, 'inspect'>;
  /** The apps of the supervisor's last pass. */
  apps(): readonly App[];
  passes(): MetricsFacts['passes'];
  channels(): MetricsFacts['channels'];
  invalidRecipes(): number;
}

async function appFacts(src: MetricsSources, app: App): Promise<AppFacts> {
  const unit = unitName(app.name);
  const [st, acc] = await Promise.all([
    src.systemd.state(unit).catch(() => undefined),
    src.systemd.accounting?.(unit).catch(() => undefined),
  ]);
  const up = st?.activeState === 'active';
  const health =
    app.health && up
      ? (await src.podman.inspect(containerName(app.name)).catch(() => undefined))?.State.Health?.Status
      : undefined;
  const last = readHistory(src.dataDir, app.name).at(-1);
  return {
    app: app.name,
    state: st?.activeState ?? 'unknown',
    up,
    ...(app.health ? { healthy: health === 'healthy' } : {}),
    restarts: st?.nRestarts ?? 0,
    ...(acc?.memory !== undefined ? { memoryBytes: acc.memory } : {}),
    ...(acc?.cpuNsec !== undefined ? { cpuSeconds: acc.cpuNsec / 1e9 } : {}),
    ...(last ? { lastUpdateSeconds: Math.floor(Date.parse(last.at) / 1000) } : {}),
  };
}

export async function gatherMetrics(src: MetricsSources): Promise<MetricsFacts> {
  const apps = await Promise.all(src.apps().map((a) => appFacts(src, a)));
  const fs = await statfs(src.dataDir).catch(() => undefined);
  return {
    apps,
    disks: fs
      ? [{ path: src.dataDir, freeBytes: fs.bavail * fs.bsize, sizeBytes: fs.blocks * fs.bsize }]
      : [],
    passes: src.passes(),
    channels: src.channels(),
    invalidRecipes: src.invalidRecipes(),
  };
}
