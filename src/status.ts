// What `berth status` shows: per app, systemd's state, health, uptime, restarts, ports,
// and the recipe's errors, from the same sources the planner reads.
import type { Diagnostic } from './recipe/diagnostics.js';
import { containerName, unitName } from './render/paths.js';
import type { Runtime } from './runtime.js';
import { computePlan } from './runtime.js';

export interface AppStatus {
  app: string;
  file?: string;
  enabled: boolean;
  state: string;
  subState: string;
  health?: string;
  uptimeSec?: number;
  restarts: number;
  ports: string[];
  network?: string;
  errors: Omit<Diagnostic, 'source'>[];
  /** A recipe change not applied yet. */
  pending: boolean;
  /** Services announced on the LAN (known when the supervisor answers). */
  advertised?: string[];
}

export async function appStatuses(rt: Runtime, now = Date.now()): Promise<AppStatus[]> {
  const p = await computePlan(rt);
  const pendingApps = new Set(p.steps.flatMap((s) => ('app' in s ? [s.app] : [])));
  const names = new Set([...p.desired.map((d) => d.app.name), ...p.current.apps.keys(), ...p.protectedApps]);
  const out: AppStatus[] = [];
  for (const name of [...names].sort()) {
    const d = p.desired.find((x) => x.app.name === name);
    const bad = p.recipes.results.find((r) => !r.app && r.declaredName === name);
    const st = await rt.systemd.state(unitName(name)).catch(() => undefined);
    const running = st?.activeState === 'active';
    const inspected = running ? await rt.podman.inspect(containerName(name)) : undefined;
    const health = inspected?.State.Health?.Status;
    out.push({
      app: name,
      ...((d?.app.file ?? bad?.file) ? { file: d?.app.file ?? bad?.file } : {}),
      enabled: d?.app.enabled ?? st?.unitFileState === 'enabled',
      state: st?.loadState === 'loaded' ? st.activeState : 'not-installed',
      subState: st?.subState ?? '',
      ...(health ? { health } : {}),
      ...(running && st.activeEnterUsec
        ? { uptimeSec: Math.max(0, Math.round(now / 1000 - st.activeEnterUsec / 1e6)) }
        : {}),
      restarts: st?.nRestarts ?? 0,
      ports: d
        ? d.app.ports.map((x) => `${x.bind ? `${x.bind}:` : ''}${x.host}->${x.container}/${x.protocol}`)
        : [],
      ...(d ? { network: d.app.network } : {}),
      errors: (bad?.diagnostics ?? []).map(({ source: _s, ...x }) => x),
      pending: pendingApps.has(name),
    });
  }
  return out;
}

export function formatUptime(sec: number | undefined): string {
  if (sec === undefined) return '-';
  if (sec < 60) return `${sec}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m`;
  if (sec < 86400) return `${Math.floor(sec / 3600)}h${Math.floor((sec % 3600) / 60)}m`;
  return `${Math.floor(sec / 86400)}d${Math.floor((sec % 86400) / 3600)}h`;
}
