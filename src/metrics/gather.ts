// The facts /metrics shows, read cheaply at each scrape: the states of all apps' units in one
// D-Bus call, each unit's restarts and accounting as a few small property reads kept for a
// few seconds, podman's health only when a check ran since it was last read (systemd says
// so: the check is a unit of its own), the last update from history files read again only
// when they change, statfs of the data dir, and what the supervisor counts itself.
// Scrapes that come while one is gathered share it.
import { stat, statfs } from 'node:fs/promises';
import type { Podman } from '../podman/podman.js';
import type { App } from '../recipe/app.js';
import { containerName, healthUnitNames, unitName } from '../render/paths.js';
import type { ActiveState, ServiceManager, UnitFigures } from '../systemd/manager.js';
import { historyPath, readHistory } from '../updates/record.js';
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

export interface GatherOptions {
  /** How long a unit's restarts and accounting (and whether its check ran) are reused. */
  ttlMs?: number;
  /** A health status is read again after this long even when no check seems to have run. */
  healthMaxAgeMs?: number;
  now?: () => number;
}

/** What is read of an app's unit at most once per ttl. */
interface UnitReads {
  figures?: UnitFigures;
  /** Which run of the health check the app's podman health status follows; undefined: unknown. */
  healthKey?: string;
}

interface Kept<T> {
  at: number;
  value: T;
}

async function readStates(systemd: ServiceManager, units: string[]): Promise<Map<string, ActiveState>> {
  if (systemd.activeStates) return systemd.activeStates(units).catch(() => new Map<string, ActiveState>());
  const states = await Promise.all(units.map((u) => systemd.state(u).catch(() => undefined)));
  return new Map(states.flatMap((s, i) => (s ? [[units[i]!, s] as const] : [])));
}

async function readFigures(systemd: ServiceManager, unit: string): Promise<UnitFigures | undefined> {
  if (systemd.figures) return systemd.figures(unit).catch(() => undefined);
  const [st, acc] = await Promise.all([
    systemd.state(unit).catch(() => undefined),
    systemd.accounting?.(unit).catch(() => undefined),
  ]);
  return st && { ...acc, nRestarts: st.nRestarts, activeEnterUsec: st.activeEnterUsec };
}

async function readUnit(systemd: ServiceManager, app: App): Promise<UnitReads> {
  const [figures, run] = await Promise.all([
    readFigures(systemd, unitName(app.name)),
    app.health && systemd.invocation
      ? systemd.invocation(healthUnitNames(app.name).service).catch(() => undefined)
      : undefined,
  ]);
  return {
    ...(figures ? { figures } : {}),
    ...(run !== undefined && figures ? { healthKey: `${run}:${figures.activeEnterUsec}` } : {}),
  };
}

/** The time of an app's last update or rollback (s), from its history file read again only when it changed. */
function lastUpdates(dataDir: string) {
  const kept = new Map<string, { stamp: string; seconds?: number }>();
  return async (app: string): Promise<number | undefined> => {
    const st = await stat(historyPath(dataDir, app)).catch(() => undefined);
    const stamp = st ? `${st.mtimeMs}:${st.size}` : '';
    const had = kept.get(app);
    if (had?.stamp === stamp) return had.seconds;
    const last = st ? readHistory(dataDir, app).at(-1) : undefined;
    const seconds = last ? Math.floor(Date.parse(last.at) / 1000) : undefined;
    kept.set(app, { stamp, ...(seconds !== undefined ? { seconds } : {}) });
    return seconds;
  };
}

function forgetOthers<T>(m: Map<string, T>, keep: ReadonlySet<string>): void {
  for (const k of m.keys()) if (!keep.has(k)) m.delete(k);
}

/**
 * A scrape's gatherer: the function it returns reads the facts, reusing what it read before
 * as described above; calls made while one is under way get its result.
 */
export function metricsGatherer(src: MetricsSources, opts: GatherOptions = {}): () => Promise<MetricsFacts> {
  const { ttlMs = 5000, healthMaxAgeMs = 60_000, now = Date.now } = opts;
  const units = new Map<string, Kept<Promise<UnitReads>>>();
  const health = new Map<string, Kept<{ key?: string; status?: string }>>();
  const lastUpdate = lastUpdates(src.dataDir);
  let inflight: Promise<MetricsFacts> | undefined;

  const unitReads = (app: App): Promise<UnitReads> => {
    const had = units.get(app.name);
    if (had && now() - had.at < ttlMs) return had.value;
    const value = readUnit(src.systemd, app);
    units.set(app.name, { at: now(), value });
    return value;
  };

  /** podman's health status, read again only when a check ran since (or it is old, or unknown). */
  const healthOf = async (app: App, key: string | undefined): Promise<string | undefined> => {
    const had = health.get(app.name);
    const fresh = had && (key !== undefined && had.value.key === key ? healthMaxAgeMs : ttlMs);
    if (had && fresh && now() - had.at < fresh) return had.value.status;
    const status = (await src.podman.inspect(containerName(app.name)).catch(() => undefined))?.State.Health
      ?.Status;
    health.set(app.name, { at: now(), value: { ...(key ? { key } : {}), ...(status ? { status } : {}) } });
    return status;
  };

  const appFacts = async (app: App, st: ActiveState | undefined): Promise<AppFacts> => {
    const [reads, lastUpdateSeconds] = await Promise.all([unitReads(app), lastUpdate(app.name)]);
    const up = st?.activeState === 'active';
    const status = app.health && up ? await healthOf(app, reads.healthKey) : undefined;
    const f = reads.figures;
    return {
      app: app.name,
      state: st?.activeState ?? 'unknown',
      up,
      ...(app.health ? { healthy: status === 'healthy' } : {}),
      restarts: f?.nRestarts ?? 0,
      ...(f?.memory !== undefined ? { memoryBytes: f.memory } : {}),
      ...(f?.cpuNsec !== undefined ? { cpuSeconds: f.cpuNsec / 1e9 } : {}),
      ...(lastUpdateSeconds !== undefined ? { lastUpdateSeconds } : {}),
    };
  };

  const gather = async (): Promise<MetricsFacts> => {
    const apps = src.apps();
    const names = new Set(apps.map((a) => a.name));
    forgetOthers(units, names);
    forgetOthers(health, names);
    const [states, fs] = await Promise.all([
      readStates(
        src.systemd,
        apps.map((a) => unitName(a.name)),
      ),
      statfs(src.dataDir).catch(() => undefined),
    ]);
    return {
      apps: await Promise.all(apps.map((a) => appFacts(a, states.get(unitName(a.name))))),
      disks: fs
        ? [{ path: src.dataDir, freeBytes: fs.bavail * fs.bsize, sizeBytes: fs.blocks * fs.bsize }]
        : [],
      passes: src.passes(),
      channels: src.channels(),
      invalidRecipes: src.invalidRecipes(),
    };
  };

  return () => {
    inflight ??= gather().finally(() => (inflight = undefined));
    return inflight;
  };
}

/** The facts once, nothing kept. */
export function gatherMetrics(src: MetricsSources): Promise<MetricsFacts> {
  return metricsGatherer(src, { ttlMs: 0, healthMaxAgeMs: 0 })();
}
