// What `berth status` shows: per app, systemd's state, health, uptime, restarts, ports,
// the recipe's errors, and why it fails when it does, from the same sources the planner reads.
import { diskWaitNow } from './disks/waiting.js';
import type { Diagnostic } from './recipe/diagnostics.js';
import { containerName, unitName } from './render/paths.js';
import type { Runtime } from './runtime.js';
import { computePlan, type Planned } from './runtime.js';
import { lastFailuresPath, readFailures } from './exec/last-failures.js';
import { healthCheckOutput, isFailing } from './status/reason.js';
import { redactorFor } from './status/redact.js';
import { failureReason, outputSource } from './status/why.js';
import type { UnitState } from './systemd/manager.js';
import { readHistory, shortId } from './updates/record.js';

export interface AppStatus {
  app: string;
  unit: string;
  image?: string;
  file?: string;
  enabled: boolean;
  state: string;
  subState: string;
  health?: string;
  /** The last line of the last failed health check, while checks fail. */
  healthOutput?: string;
  uptimeSec?: number;
  restarts: number;
  ports: string[];
  network?: string;
  errors: Omit<Diagnostic, 'source'>[];
  /** A recipe change not applied yet. */
  pending: boolean;
  /** Services announced on the LAN (known when the supervisor answers). */
  advertised?: string[];
  /**
   * Why the app fails (or last failed, when systemd restarted it): its last error line, podman's
   * own error, or what systemd knows. Only for apps that are failing or were restarted.
   */
  lastError?: string;
  /** Why berth does not start the app now: a data disk it needs is not mounted. */
  waiting?: string;
  /** The last apply's failed step for this app, when its change did not go through. */
  applyError?: string;
  /** When the supervisor tries that change again by itself (ISO time; known when it answers). */
  nextRetry?: string;
  /** Why berth keeps the app stopped (its rollback could not restore the data), and what to do. */
  keptStopped?: string;
  /** Short ID of the image the app is pinned to (it runs that, whatever its tag names now). */
  imageId?: string;
  /** A newer image a check found ("update available"), as old → new short IDs. */
  updateAvailable?: string;
  /** The last update or rollback: result, and why when it did not go through. */
  lastUpdate?: { at: string; result: string; reason?: string };
}

/** An app restarted by systemd this long ago or less may be crash-looping: its reason is shown. */
const RECENT_RESTART_SEC = 120;

/** Failing, or restarted by systemd and not up for long: worth a reason. */
function troubled(st: UnitState, uptimeSec: number | undefined): boolean {
  if (isFailing(st)) return true;
  if (st.nRestarts === 0) return false;
  return st.activeState === 'activating' || (uptimeSec !== undefined && uptimeSec < RECENT_RESTART_SEC);
}

/** Every app's status; `planned` when the caller has just computed the plan (the status page). */
export async function appStatuses(rt: Runtime, now = Date.now(), planned?: Planned): Promise<AppStatus[]> {
  const p = planned ?? (await computePlan(rt));
  const src = outputSource(rt.config);
  const applyErrors = await readFailures(lastFailuresPath(rt.config));
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
    const rawHealth = healthCheckOutput(inspected?.State.Health);
    const uptimeSec =
      running && st.activeEnterUsec
        ? Math.max(0, Math.round(now / 1000 - st.activeEnterUsec / 1e6))
        : undefined;
    const rawError = st && troubled(st, uptimeSec) ? await failureReason(name, st, src) : undefined;
    const waiting = d && !running ? await diskWaitNow(d.app, (u) => rt.systemd.state(u)) : undefined;
    const last = readHistory(rt.config.dataDir, name).at(-1);
    const record = p.current.apps.get(name)?.record;
    const held = record?.transition?.held?.reason;
    // The app's own text is shown on the LAN: its env values, secrets and credentials masked.
    const hide =
      rawHealth || rawError || applyErrors[name] || last?.reason || held
        ? await redactorFor(d?.app, name, rt.config.dataDir, rt.config.hostname)
        : (t: string) => t;
    const healthOutput = rawHealth && hide(rawHealth);
    const lastError = rawError && hide(rawError);
    const available =
      record?.available && record.available.id !== record.current?.id
        ? `${shortId(record.current?.id ?? '')} → ${shortId(record.available.id)}`
        : undefined;
    out.push({
      app: name,
      unit: unitName(name),
      ...(d ? { image: d.app.image } : {}),
      ...((d?.app.file ?? bad?.file) ? { file: d?.app.file ?? bad?.file } : {}),
      enabled: d?.app.enabled ?? st?.unitFileState === 'enabled',
      state: st?.loadState === 'loaded' ? st.activeState : 'not-installed',
      subState: st?.subState ?? '',
      ...(health ? { health } : {}),
      ...(healthOutput ? { healthOutput } : {}),
      ...(uptimeSec !== undefined ? { uptimeSec } : {}),
      restarts: st?.nRestarts ?? 0,
      ports: d
        ? d.app.ports.map((x) => `${x.bind ? `${x.bind}:` : ''}${x.host}->${x.container}/${x.protocol}`)
        : [],
      ...(d ? { network: d.app.network } : {}),
      errors: (bad?.diagnostics ?? []).map(({ source: _s, ...x }) => x),
      pending: pendingApps.has(name),
      ...(lastError ? { lastError } : {}),
      ...(waiting ? { waiting } : {}),
      ...(applyErrors[name] ? { applyError: hide(applyErrors[name]) } : {}),
      ...(held ? { keptStopped: hide(held) } : {}),
      ...(record?.current ? { imageId: shortId(record.current.id) } : {}),
      ...(available ? { updateAvailable: available } : {}),
      ...(last
        ? {
            lastUpdate: {
              at: last.at,
              result: last.result,
              ...(last.reason ? { reason: hide(last.reason) } : {}),
            },
          }
        : {}),
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
