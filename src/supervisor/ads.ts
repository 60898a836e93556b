// Advertising while apps run: what each app announces follows its unit state (from
// systemd's PropertiesChanged) and its health (podman's health_status events, from health.ts).
import type { Logger } from 'pino';
import { adsFor, type AppRunState, deviceInfoAd } from '../advertise/policy.js';
import type { Advertiser } from '../advertise/types.js';
import type { App } from '../recipe/app.js';
import { containerName, unitName } from '../render/paths.js';
import type { Runtime } from '../runtime.js';

export interface AppAds {
  /** The apps of the last pass: announce what each should, withdraw what is gone. */
  sync(desired: readonly App[]): Promise<void>;
  /** An app's health changed (podman's health_status event, followed by health.ts). */
  healthChanged(app: string): void;
  /** An app's unit became active or stopped being active. */
  activeChanged(app: string, active: boolean): void;
  /** What an app announces on the LAN now, as status and the page show it. */
  advertisedBy(app: string): string[];
  /** The status page, announced so phones and laptops find it as "berth on <host>". */
  announcePage(port: number): Promise<void>;
  close(): Promise<void>;
}

export function followAds(rt: Runtime, log: Logger, advertiser: Advertiser | undefined): AppAds {
  const apps = new Map<string, App>();
  const runState = new Map<string, AppRunState>();

  const refresh = async (name: string) => {
    if (!advertiser) return;
    const app = apps.get(name);
    const st = runState.get(name) ?? { active: false };
    if (app?.health && st.active) {
      const health = (await rt.podman.inspect(containerName(name)).catch(() => undefined))?.State.Health
        ?.Status;
      st.health = health ?? 'starting';
    }
    const ads = app ? adsFor(app, st, rt.config.hostname) : [];
    await advertiser
      .set(name, ads)
      .catch((err: Error) => log.error({ app: name, error: err.message }, 'advertising failed'));
  };

  return {
    async sync(desired) {
      if (!advertiser) return;
      const names = new Set(desired.map((a) => a.name));
      for (const old of [...apps.keys()]) {
        if (names.has(old)) continue;
        apps.delete(old);
        runState.delete(old);
        await refresh(old);
      }
      for (const a of desired) apps.set(a.name, a);
      await Promise.all(
        desired.map(async (a) => {
          const s = await rt.systemd.state(unitName(a.name)).catch(() => undefined);
          runState.set(a.name, { active: s?.activeState === 'active' });
          await refresh(a.name);
        }),
      );
      const anyAds = desired.some((a) => a.advertise.length > 0);
      await advertiser.set('_host', anyAds ? [deviceInfoAd(rt.config.hostname)] : []).catch(() => {});
    },
    healthChanged(app) {
      if (apps.get(app)?.advertise.length) void refresh(app);
    },
    activeChanged(app, active) {
      if (runState.get(app)?.active === active) return;
      runState.set(app, { active });
      void refresh(app);
    },
    advertisedBy: (app) =>
      (advertiser?.published() ?? [])
        .filter((p) => p.app === app)
        .map((p) => `${p.announcedAs} (${p.type} ${p.port})`),
    async announcePage(port) {
      await advertiser
        ?.set('_web', [
          { name: `berth on ${rt.config.hostname}`, type: '_http._tcp', port, txt: { path: '/' } },
        ])
        .catch(() => undefined);
    },
    async close() {
      await advertiser?.close();
    },
  };
}
