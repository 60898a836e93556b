// Following the apps' units: systemd's PropertiesChanged for each app of the last pass
// (no polling) feeds the failure tracker (logged once with why, retried with a growing
// delay once systemd gives up), the advertising and the status page.
import type { Logger } from 'pino';
import type { App } from '../recipe/app.js';
import { appOfUnit, unitName } from '../render/paths.js';
import type { Runtime } from '../runtime.js';
import { boundAppLogs } from '../status/output.js';
import { gaveUp } from '../status/reason.js';
import { failureReason, outputSource } from '../status/why.js';
import type { UnitState } from '../systemd/manager.js';
import { type FailureOptions, trackFailures } from './failures.js';

export interface UnitFollowerDeps {
  rt: Runtime;
  log: Logger;
  /** Every state change of a followed app's unit. */
  onState(app: string, st: UnitState): void;
  /** False once the supervisor stops: no retries behind its back. */
  running(): boolean;
  /** An app started failing (with why) or recovered: once each. */
  onFailureChange?(app: string, change: 'failing' | 'recovered', reason?: string): void;
  failureOptions?: Partial<FailureOptions>;
}

export interface UnitFollower {
  /** Follows exactly the units of these apps (the last pass's desired apps). */
  follow(apps: readonly App[]): Promise<void>;
  /** The units followed now. */
  units(): string[];
  close(): void;
}

export function followUnits(deps: UnitFollowerDeps): UnitFollower {
  const { rt, log, onState, running, failureOptions } = deps;
  const followed = new Map<string, () => void>();
  const known = new Map<string, App>();
  const output = outputSource(rt.config);
  const failures = trackFailures({
    log,
    reasonOf: (app, st) => failureReason(app, st, output),
    mayRetry: (app) => running() && known.get(app)?.enabled === true && known.get(app)?.restart !== 'no',
    retry: async (app) => {
      const u = unitName(app);
      if (!gaveUp(await rt.systemd.state(u))) return;
      if (output.target === 'file') await boundAppLogs(app, rt.config.dataDir);
      log.debug({ app }, 'starting the app again');
      await rt.systemd.resetFailed(u);
      await rt.systemd.start(u);
    },
    onChange: (app, change, reason) => deps.onFailureChange?.(app, change, reason),
    ...(failureOptions ? { options: failureOptions } : {}),
  });

  const startFollowing = async (app: string) => {
    const u = unitName(app);
    const off = await rt.systemd
      .follow(u, (s) => {
        onState(app, s);
        failures.observe(app, s);
      })
      .catch(() => undefined);
    if (!off) return;
    followed.set(u, off);
    // An app already failing when berth starts (or when its recipe appears) counts too.
    const now = await rt.systemd.state(u).catch(() => undefined);
    if (now) failures.observe(app, now);
  };

  return {
    async follow(apps) {
      known.clear();
      for (const a of apps) known.set(a.name, a);
      const units = new Set(apps.map((a) => unitName(a.name)));
      for (const [u, off] of followed) {
        if (units.has(u)) continue;
        off();
        followed.delete(u);
        failures.forget(appOfUnit(u) ?? u);
      }
      for (const a of apps) if (!followed.has(unitName(a.name))) await startFollowing(a.name);
    },
    units: () => [...followed.keys()],
    close() {
      for (const off of followed.values()) off();
      followed.clear();
      failures.close();
    },
  };
}
