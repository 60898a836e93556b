// Apps' health checks as podman reports them (health_status events): one watcher for the
// supervisor, started once an app has a health check. A check turning unhealthy is told as
// 'health-failing', healthy again as 'health-recovered' (one incident, however many checks
// fail in between); advertising hears every change too (an unhealthy app is withdrawn).
import type { EventKind } from '../events/types.js';
import type { App } from '../recipe/app.js';
import { containerName } from '../render/paths.js';
import type { Runtime } from '../runtime.js';

export type HealthStatus = 'healthy' | 'unhealthy' | 'starting';

/** What a change of an app's health tells, if anything (pure). */
export function healthEvent(before: HealthStatus | undefined, now: HealthStatus): EventKind | undefined {
  if (now === 'unhealthy' && before !== 'unhealthy') return 'health-failing';
  if (now === 'healthy' && before === 'unhealthy') return 'health-recovered';
  return undefined;
}

const asStatus = (v: unknown): HealthStatus | undefined =>
  v === 'healthy' || v === 'unhealthy' || v === 'starting' ? v : undefined;

export interface HealthFollower {
  /** The apps of the last pass: starts the watcher once one has a health check. */
  sync(apps: readonly App[]): void;
  close(): void;
}

export function followHealth(
  rt: Pick<Runtime, 'podman'>,
  tell: (kind: EventKind, app: string) => void,
  changed: (app: string) => void,
): HealthFollower {
  const last = new Map<string, HealthStatus>();
  let watched: Set<string> = new Set();
  let stop: (() => void) | undefined;
  const seen = async (app: string, reported: unknown) => {
    const now =
      asStatus(reported) ??
      asStatus((await rt.podman.inspect(containerName(app)).catch(() => undefined))?.State.Health?.Status);
    changed(app);
    if (!now || !watched.has(app)) return;
    const kind = healthEvent(last.get(app), now);
    last.set(app, now);
    if (kind) tell(kind, app);
  };
  return {
    sync(apps) {
      watched = new Set(apps.filter((a) => a.health).map((a) => a.name));
      for (const a of [...last.keys()]) if (!watched.has(a)) last.delete(a);
      if (stop || watched.size === 0) return;
      // Only the event is filtered: podman 4.3 matches nothing when a label filter is added.
      stop = rt.podman.watchEvents(['event=health_status'], (e) => {
        const app = (e.Attributes as Record<string, string> | undefined)?.['berth.app'];
        if (app) void seen(app, e.HealthStatus ?? e.health_status);
      });
    },
    close: () => stop?.(),
  };
}
