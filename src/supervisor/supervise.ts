// The supervisor: applies at start, tells systemd it is ready, then re-applies whenever
// the recipes dir changes (debounced), serves the control socket, pings the watchdog,
// and logs app failures as systemd reports them (no polling): once per failure, with why.
import type { Logger } from 'pino';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { adsFor, type AppRunState, deviceInfoAd } from '../advertise/policy.js';
import type { Advertiser } from '../advertise/types.js';
import { LockedError } from '../exec/lock.js';
import { applyReport } from '../exec/report.js';
import type { App } from '../recipe/app.js';
import { describeStep } from '../plan/steps.js';
import { containerName, unitName } from '../render/paths.js';
import { type Applied, apply, type Runtime } from '../runtime.js';
import { appStatuses } from '../status.js';
import { failureReason, outputSource } from '../status/why.js';
import { boundAppLogs } from '../status/output.js';
import { gaveUp } from '../status/reason.js';
import { type ControlRequest, serveControl } from './control.js';
import { type FailureOptions, trackFailures } from './failures.js';
import { type Notifier, watchdogIntervalMs } from './notify.js';
import { watchRecipes } from './watch.js';
import { readModel } from '../web/model.js';
import { Sampler } from '../web/samples.js';
import { startWebServer, type WebServer } from '../web/server.js';

export interface SuperviseDeps {
  rt: Runtime;
  log: Logger;
  notify: Notifier;
  debounceMs?: number;
  /** Announces the apps' services on the LAN while they run; none in tests that do not need it. */
  advertiser?: Advertiser;
  /** Retry and recovery timing for failing apps (tests shorten it). */
  failureOptions?: Partial<FailureOptions>;
  /** The status page: where it listens (BERTH_WEB); none when off. */
  web?: { host?: string; port: number };
}

export interface ReadySummary {
  /** Enabled apps whose unit is active after the first pass. */
  running: number;
  /** Enabled apps that are not, plus recipes that are invalid. */
  failed: number;
}

export interface Supervisor {
  /** Resolves after the first pass, once READY=1 was sent, with how it went. */
  ready: Promise<ReadySummary>;
  /** Runs a pass now (or right after the one under way) and resolves with its result. */
  applyNow(): Promise<Applied | undefined>;
  stop(): Promise<void>;
}

const appOfUnit = (unit: string) => unit.slice('berth-'.length, -'.service'.length);

/** A full garbage collection, if it can be had: run once after each pass, so an idle supervisor is small. */
function collector(): () => void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    return () => gc();
  } catch {
    return () => {};
  }
}

export function startSupervisor({
  rt,
  log,
  notify,
  debounceMs = 300,
  advertiser,
  failureOptions,
  web,
}: SuperviseDeps): Supervisor {
  let page: WebServer | undefined;
  const sampler = new Sampler(
    rt.systemd,
    () => [...followed.keys()],
    () => page?.changed(),
  );
  // Advertising: what each app should announce follows its unit state (from systemd's
  // PropertiesChanged) and its health (from podman's health_status events).
  const apps = new Map<string, App>();
  const runState = new Map<string, AppRunState>();
  let stopHealthEvents: (() => void) | undefined;
  const refreshAds = async (name: string) => {
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
  const syncAds = async (desired: readonly App[]) => {
    if (!advertiser) return;
    const names = new Set(desired.map((a) => a.name));
    for (const old of [...apps.keys()]) {
      if (names.has(old)) continue;
      apps.delete(old);
      runState.delete(old);
      await refreshAds(old);
    }
    for (const a of desired) apps.set(a.name, a);
    await Promise.all(
      desired.map(async (a) => {
        const s = await rt.systemd.state(unitName(a.name)).catch(() => undefined);
        runState.set(a.name, { active: s?.activeState === 'active' });
        await refreshAds(a.name);
      }),
    );
    const anyAds = desired.some((a) => a.advertise.length > 0);
    await advertiser.set('_host', anyAds ? [deviceInfoAd(rt.config.hostname)] : []).catch(() => {});
    if (!stopHealthEvents && desired.some((a) => a.health && a.advertise.length > 0)) {
      // Only the event is filtered: podman 4.3 matches nothing when a label filter is added.
      stopHealthEvents = rt.podman.watchEvents(['event=health_status'], (e) => {
        const app = (e.Attributes as Record<string, string> | undefined)?.['berth.app'];
        if (app) void refreshAds(app);
      });
    }
  };

  const followed = new Map<string, () => void>();
  // Passes run one after another. `chain` resolves to nothing, so no pass result (parsed
  // recipes, YAML trees) outlives its callers; `waiting` is the one pass queued behind it.
  let chain: Promise<unknown> = Promise.resolve();
  let waiting: Promise<Applied | undefined> | undefined;
  const gc = collector();
  let gcTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  // Failures: logged once with why, retried with a growing delay once systemd gives up.
  const known = new Map<string, App>();
  const output = outputSource(rt.config);
  const failures = trackFailures({
    log,
    reasonOf: (app, st) => failureReason(app, st, output),
    mayRetry: (app) => !stopped && known.get(app)?.enabled === true && known.get(app)?.restart !== 'no',
    retry: async (app) => {
      const u = unitName(app);
      if (!gaveUp(await rt.systemd.state(u))) return;
      if (output.target === 'file') await boundAppLogs(app, rt.config.dataDir);
      log.debug({ app }, 'starting the app again');
      await rt.systemd.resetFailed(u);
      await rt.systemd.start(u);
    },
    ...(failureOptions ? { options: failureOptions } : {}),
  });

  const follow = async (r: Applied) => {
    known.clear();
    for (const d of r.desired) known.set(d.app.name, d.app);
    const units = new Set(r.desired.map((d) => unitName(d.app.name)));
    for (const [u, off] of followed) {
      if (units.has(u)) continue;
      off();
      followed.delete(u);
      failures.forget(appOfUnit(u));
    }
    for (const u of units) {
      if (followed.has(u)) continue;
      const app = appOfUnit(u);
      const off = await rt.systemd
        .follow(u, (s) => {
          page?.changed();
          const active = s.activeState === 'active';
          if (runState.get(app)?.active !== active) {
            runState.set(app, { active });
            void refreshAds(app);
          }
          failures.observe(app, s);
        })
        .catch(() => undefined);
      if (!off) continue;
      followed.set(u, off);
      // An app already failing when berth starts (or when its recipe appears) counts too.
      const now = await rt.systemd.state(u).catch(() => undefined);
      if (now) failures.observe(app, now);
    }
  };

  const pass = async (reason: string): Promise<Applied | undefined> => {
    const t0 = performance.now();
    try {
      const r = await apply(rt, (e) => {
        if (e.type === 'step-done')
          log.info(
            { app: 'app' in e.step ? e.step.app : undefined, ms: Math.round(e.ms) },
            describeStep(e.step),
          );
        if (e.type === 'step-failed')
          log.error(
            { app: 'app' in e.step ? e.step.app : undefined, error: e.error },
            `failed: ${describeStep(e.step)}`,
          );
        if (e.type === 'progress') log.info({ app: e.app }, e.line);
      });
      for (const d of r.recipes.diagnostics)
        log.error({ file: d.file, line: d.line, field: d.field }, `invalid recipe: ${d.message}`);
      log.info(
        {
          reason,
          steps: r.steps.length,
          failed: r.result.failed.length,
          ms: Math.round(performance.now() - t0),
        },
        'pass done',
      );
      await follow(r);
      page?.changed();
      await syncAds(r.desired.map((d) => d.app));
      if (output.target === 'file')
        await Promise.all(r.desired.map((d) => boundAppLogs(d.app.name, rt.config.dataDir).catch(() => {})));
      clearTimeout(gcTimer);
      gcTimer = setTimeout(gc, 2000).unref();
      return r;
    } catch (err) {
      if (err instanceof LockedError) {
        log.warn(err.message);
        await new Promise((res) => setTimeout(res, 2000));
        return stopped ? undefined : pass(reason);
      }
      log.error({ reason, error: (err as Error).message }, 'pass failed');
      return undefined;
    }
  };

  /** One pass at a time; requests during a pass share the single pass queued after it. */
  const applyNow = (reason = 'requested'): Promise<Applied | undefined> => {
    if (waiting) return waiting;
    const p = chain.then(() => {
      waiting = undefined;
      return pass(reason);
    });
    waiting = p;
    chain = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  };

  /** What an app announces on the LAN now, as status and the page show it. */
  const advertisedBy = (app: string) =>
    (advertiser?.published() ?? [])
      .filter((p) => p.app === app)
      .map((p) => `${p.announcedAs} (${p.type} ${p.port})`);

  const cleanups: (() => void)[] = [];
  const ready = (async () => {
    const first = await applyNow('start');
    const enabled = first?.desired.filter((d) => d.app.enabled) ?? [];
    const states = await Promise.all(
      enabled.map((d) => rt.systemd.state(unitName(d.app.name)).catch(() => undefined)),
    );
    const running = states.filter((s) => s?.activeState === 'active').length;
    const summary: ReadySummary = {
      running,
      failed: enabled.length - running + (first?.recipes.results.filter((r) => !r.app).length ?? 0),
    };
    await notify('READY=1', `STATUS=${summary.running} apps running, ${summary.failed} failed`);
    if (stopped) return summary;
    cleanups.push(watchRecipes(rt.config.recipesDir, debounceMs, () => void applyNow('recipes changed')));
    const wd = watchdogIntervalMs();
    if (wd) {
      const t = setInterval(() => void notify('WATCHDOG=1'), wd);
      cleanups.push(() => clearInterval(t));
    }
    const server = await serveControl(rt.config.socketPath, async (req: ControlRequest) => {
      if (req.cmd === 'ping') return 'pong';
      if (req.cmd === 'status')
        return (await appStatuses(rt)).map((s) => ({ ...s, advertised: advertisedBy(s.app) }));
      const r = await applyNow('control socket');
      return r ? applyReport(r.result, r.recipes.diagnostics) : undefined;
    }).catch((err: Error) => {
      log.error({ error: err.message }, `cannot serve the control socket ${rt.config.socketPath}`);
      return undefined;
    });
    if (server) cleanups.push(() => server.close());
    if (web) {
      page = await startWebServer({
        ...web,
        hostname: rt.config.hostname,
        model: () => readModel(rt, advertisedBy, sampler.all()),
        onClients: (n) => sampler.setActive(n > 0),
      }).catch((err: Error) => {
        log.error({ error: err.message, port: web.port }, 'cannot serve the status page');
        return undefined;
      });
      if (page) {
        log.info({ port: page.port }, 'status page listening');
        // Announced so phones and laptops find it as "berth on <host>".
        await advertiser
          ?.set('_web', [
            {
              name: `berth on ${rt.config.hostname}`,
              type: '_http._tcp',
              port: page.port,
              txt: { path: '/' },
            },
          ])
          .catch(() => undefined);
        const p = page;
        cleanups.push(() => void p.close());
      }
    }
    return summary;
  })();

  return {
    ready,
    applyNow: () => applyNow(),
    async stop() {
      stopped = true;
      await ready.catch(() => undefined);
      for (const c of cleanups) c();
      sampler.stop();
      for (const off of followed.values()) off();
      failures.close();
      stopHealthEvents?.();
      await advertiser?.close();
      await chain;
    },
  };
}
