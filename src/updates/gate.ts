// The health gate after a switch: the unit is active, healthy when the app has a check
// (within the window its settings give), and neither restarts nor changes container for
// stable_for. Watched by polling systemd and podman: both answer in milliseconds.
import type { Podman } from '../podman/podman.js';
import { containerName } from '../render/paths.js';
import type { ServiceManager } from '../systemd/manager.js';

export interface GateSpec {
  app: string;
  unit: string;
  windowMs: number;
  stableForMs: number;
  health: boolean;
}

export interface GateDeps {
  systemd: ServiceManager;
  podman: Podman;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class GateFailed extends Error {}

const secs = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** Resolves when the app passed; throws GateFailed saying why when it did not. */
export async function runGate(g: GateSpec, deps: GateDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const poll = deps.pollMs ?? 250;
  const t0 = now();
  const first = await deps.systemd.state(g.unit);
  const restarts = first.nRestarts;
  let container: string | undefined;
  let healthyAt = g.health ? undefined : t0;
  // A failing check seen before the container went away: podman kills an unhealthy app
  // (on_failure: restart), so the check is the reason even when the kill is seen first.
  let failingCheck: string | undefined;
  const because = () =>
    failingCheck !== undefined ? `; its health check failed${failingCheck ? `: ${failingCheck}` : ''}` : '';
  for (;;) {
    const st = await deps.systemd.state(g.unit);
    if (st.nRestarts > restarts)
      throw new GateFailed(
        `it restarted ${secs(now() - t0)} after the switch (exit status ${st.execMainStatus})${because()}`,
      );
    if (st.activeState !== 'active')
      throw new GateFailed(
        `its unit is ${st.activeState} (${st.subState}${st.execMainStatus ? `, exit status ${st.execMainStatus}` : ''}) ${secs(now() - t0)} after the switch${because()}`,
      );
    const c = await deps.podman.inspect(containerName(g.app));
    if (!c?.State.Running)
      throw new GateFailed(`its container is not running ${secs(now() - t0)} after the switch${because()}`);
    if (container !== undefined && c.Id !== container)
      throw new GateFailed(`its container was replaced ${secs(now() - t0)} after the switch${because()}`);
    container = c.Id;
    if (healthyAt === undefined) {
      const h = c.State.Health;
      if ((h?.FailingStreak ?? 0) > 0) failingCheck = h?.Log?.at(-1)?.Output?.trim().split('\n').at(-1) ?? '';
      if (h?.Status === 'healthy') healthyAt = now();
      else if (h?.Status === 'unhealthy') {
        const last = h.Log?.at(-1)?.Output?.trim().split('\n').at(-1) ?? '';
        throw new GateFailed(`its health check failed${last ? `: ${last}` : ''}`);
      } else if (now() - t0 > g.windowMs)
        throw new GateFailed(
          `it was not healthy within ${secs(g.windowMs)} (health: ${h?.Status ?? 'none'})`,
        );
    }
    if (healthyAt !== undefined && now() - t0 >= g.stableForMs) return;
    await sleep(poll);
  }
}
