// The supervisor: applies at start, tells systemd it is ready, then re-applies whenever
// the recipes dir changes (debounced), serves the control socket, pings the watchdog,
// and logs app failures as systemd reports them (no polling): once per failure, with why.
// Each of those is a part of its own (passes, follow, ads, page, control); this wires them.
import type { Logger } from 'pino';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Advertiser } from '../advertise/types.js';
import { applyReport } from '../exec/report.js';
import { describeStep, type Step } from '../plan/steps.js';
import { unitName } from '../render/paths.js';
import { type Applied, apply, type Runtime } from '../runtime.js';
import { appStatuses } from '../status.js';
import { boundAppLogs } from '../status/output.js';
import { outputSource } from '../status/why.js';
import { diskMetricFacts } from '../metrics/disks.js';
import { metricsGatherer, type MetricsSources } from '../metrics/gather.js';
import { renderMetrics } from '../metrics/render.js';
import type { Notifications } from '../notify/notifier.js';
import type { App } from '../recipe/app.js';
import { type AppAds, followAds } from './ads.js';
import { smartWatch, type SmartWatchOptions } from './smart.js';
import { spindownKeeper } from './spindown.js';
import { followHealth } from './health.js';
import { spawnRunner } from '../process/run.js';
import { supervisorEvents } from './events.js';
import { type ControlRequest, serveControl } from './control.js';
import type { FailureOptions } from './failures.js';
import { followUnits } from './follow.js';
import { type Notifier, startWatchdog } from './notify.js';
import { startStatusPage, type StatusPage } from './page.js';
import { type PassQueue, passQueue, type PassRetryOptions, type RetryState } from './passes.js';
import { watchRecipes } from './watch.js';

export interface SuperviseDeps {
  rt: Runtime;
  log: Logger;
  notify: Notifier;
  debounceMs?: number;
  /** Announces the apps' services on the LAN while they run; none in tests that do not need it. */
  advertiser?: Advertiser;
  /** Retry and recovery timing for failing apps (tests shorten it). */
  failureOptions?: Partial<FailureOptions>;
  /** Retry timing for passes that did not go through (tests shorten it). */
  passRetry?: Partial<PassRetryOptions>;
  /** The status page: where it listens (BERTH_WEB); none when off. */
  web?: { host?: string; port: number };
  /** Events and notifications; none in tests that do not need them. */
  notifier?: Notifications;
  /** The SMART check of the disks that hold berth's data (tests shorten or fake it). */
  smart?: SmartWatchOptions;
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
  /** The retry of a failed pass, while one is scheduled. */
  nextRetry(): RetryState | undefined;
  stop(): Promise<void>;
}

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

/**
 * Steps whose failure a later pass may put right (an image not there yet, a disk that was
 * full). A start that failed is the app's own: systemd restarts it, and the failure tracker
 * retries once systemd gives up. A gate's verdict is an update's decision, not a fault.
 */
const RETRIED_ELSEWHERE = new Set<Step['kind']>(['start', 'restart', 'gate']);
const appsToRetry = (r: Applied) => [
  ...new Set(
    r.result.failed.flatMap(({ step }) =>
      !RETRIED_ELSEWHERE.has(step.kind) && 'app' in step ? [step.app] : [],
    ),
  ),
];

/** The supervisor's log lines for each step of a pass. */
function logSteps(log: Logger): Parameters<typeof apply>[1] {
  return (e) => {
    const app = 'step' in e && 'app' in e.step ? e.step.app : undefined;
    if (e.type === 'step-done') log.info({ app, ms: Math.round(e.ms) }, describeStep(e.step));
    if (e.type === 'step-failed') log.error({ app, error: e.error }, `failed: ${describeStep(e.step)}`);
    if (e.type === 'progress') log.info({ app: e.app }, e.line);
  };
}

async function readySummary(rt: Runtime, first: Applied | undefined): Promise<ReadySummary> {
  const enabled = first?.desired.filter((d) => d.app.enabled) ?? [];
  const states = await Promise.all(
    enabled.map((d) => rt.systemd.state(unitName(d.app.name)).catch(() => undefined)),
  );
  const running = states.filter((s) => s?.activeState === 'active').length;
  const invalid = first?.recipes.results.filter((r) => !r.app).length ?? 0;
  return { running, failed: enabled.length - running + invalid };
}

/** What the control socket answers: status (with what is announced and the next retry), the retry, a pass. */
function controlAnswers(rt: Runtime, passes: PassQueue<Applied>, ads: AppAds) {
  return async (req: ControlRequest): Promise<unknown> => {
    if (req.cmd === 'ping') return 'pong';
    if (req.cmd === 'status') {
      const retry = passes.retry();
      return (await appStatuses(rt)).map((s) => ({
        ...s,
        advertised: ads.advertisedBy(s.app),
        ...(retry?.apps.includes(s.app) ? { nextRetry: new Date(retry.at).toISOString() } : {}),
      }));
    }
    if (req.cmd === 'retry') return passes.retry() ?? null;
    // Only an explicit request runs a pass: an unknown one (a newer CLI) is an error, not an apply.
    if (req.cmd !== 'apply') throw new Error(`unknown request '${String((req as { cmd: unknown }).cmd)}'`);
    const r = await passes.applyNow('control socket');
    return r ? applyReport(r.result, r.recipes.diagnostics) : undefined;
  };
}

/** /metrics: read at each scrape from systemd, podman and what the supervisor counts (see metricsGatherer; SMART: its last check). */
function metricsText(
  rt: Runtime,
  {
    smart,
    ...own
  }: Pick<MetricsSources, 'apps' | 'passes' | 'channels' | 'invalidRecipes'> & {
    smart(): Parameters<typeof diskMetricFacts>[0];
  },
): () => Promise<string> {
  const gather = metricsGatherer({
    dataDir: rt.config.dataDir,
    systemd: rt.systemd,
    podman: rt.podman,
    ...own,
  });
  return async () => {
    const [facts, disks] = await Promise.all([gather(), diskMetricFacts(smart())]);
    return renderMetrics({ ...facts, smart: disks });
  };
}

export function startSupervisor(deps: SuperviseDeps): Supervisor {
  const { rt, log, notify, debounceMs = 300 } = deps;
  let stopped = false;
  let page: StatusPage | undefined;
  const ads = followAds(rt, log, deps.advertiser);
  // What the last pass left, for /metrics and for masking an app's text in events.
  const last = { apps: [] as App[], invalidRecipes: 0 };
  const events = supervisorEvents(rt, log, deps.notifier, (name) => last.apps.find((a) => a.name === name));
  const units = followUnits({
    rt,
    log,
    running: () => !stopped,
    onFailureChange: (app, change, reason) => events.appChanged(app, change, reason),
    onState: (app, st) => {
      page?.changed();
      ads.activeChanged(app, st.activeState === 'active');
    },
    ...(deps.failureOptions ? { failureOptions: deps.failureOptions } : {}),
  });
  const smart = smartWatch(rt, log, events, () => last.apps, deps.smart);
  const health = followHealth(
    rt,
    (kind, app) => void events.emit(kind, app),
    (app) => ads.healthChanged(app),
  );
  const spindown = spindownKeeper(rt.config.disksFile, spawnRunner, log);
  const output = outputSource(rt.config);
  const gc = collector();
  let gcTimer: NodeJS.Timeout | undefined;

  const metrics = metricsText(rt, {
    apps: () => last.apps,
    passes: () => passes.stats(),
    channels: () => deps.notifier?.health() ?? [],
    invalidRecipes: () => last.invalidRecipes,
    smart: () => smart.disks(),
  });

  const pass = async (reason: string): Promise<Applied> => {
    const t0 = performance.now();
    const r = await apply(rt, logSteps(log));
    for (const d of r.recipes.diagnostics)
      log.error({ file: d.file, line: d.line, field: d.field }, `invalid recipe: ${d.message}`);
    const ms = Math.round(performance.now() - t0);
    log.info({ reason, steps: r.steps.length, failed: r.result.failed.length, ms }, 'pass done');
    const apps = r.desired.map((d) => d.app);
    last.apps = apps;
    last.invalidRecipes = r.recipes.results.filter((x) => !x.app).length;
    await units.follow(apps);
    page?.changed();
    await ads.sync(apps);
    health.sync(apps);
    await events.afterPass(r);
    await spindown().catch((err: Error) => log.warn({ error: err.message }, 'spin-down not set'));
    if (output.target === 'file')
      await Promise.all(apps.map((a) => boundAppLogs(a.name, rt.config.dataDir).catch(() => {})));
    clearTimeout(gcTimer);
    gcTimer = setTimeout(gc, 2000).unref();
    return r;
  };
  const passes = passQueue({
    pass,
    trouble: appsToRetry,
    log,
    ...(deps.passRetry ? { options: deps.passRetry } : {}),
  });

  const cleanups: (() => void)[] = [];
  /** After the first pass: the watchers, the socket and the page. */
  const serve = async () => {
    cleanups.push(
      watchRecipes(rt.config.recipesDir, debounceMs, () => void passes.applyNow('recipes changed')),
    );
    cleanups.push(startWatchdog(notify));
    cleanups.push(smart.start());
    const server = await serveControl(rt.config.socketPath, controlAnswers(rt, passes, ads)).catch(
      (err: Error) => {
        log.error({ error: err.message }, `cannot serve the control socket ${rt.config.socketPath}`);
        return undefined;
      },
    );
    if (server) cleanups.push(() => server.close());
    if (deps.web) {
      page = await startStatusPage({ rt, log, ads, units: () => units.units(), listen: deps.web, metrics });
      cleanups.push(() => page?.close());
    }
  };

  const ready = (async () => {
    await events.atStart();
    const summary = await readySummary(rt, await passes.applyNow('start'));
    await notify('READY=1', `STATUS=${summary.running} apps running, ${summary.failed} failed`);
    if (!stopped) await serve();
    return summary;
  })();

  return {
    ready,
    applyNow: () => passes.applyNow('requested'),
    nextRetry: () => passes.retry(),
    async stop() {
      stopped = true;
      passes.close();
      await ready.catch(() => undefined);
      for (const c of cleanups) c();
      units.close();
      health.close();
      deps.notifier?.close();
      await ads.close();
      await passes.idle();
    },
  };
}
