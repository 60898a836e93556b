// One reconcile pass: recipes → desired state; unit files, systemd and podman → current
// state; the planner's steps; the executors. Everything it talks to is passed in.
import { basename, extname, join } from 'node:path';
import { stat } from 'node:fs/promises';
import type { Config } from './config.js';
import { diskWaitNow } from './disks/waiting.js';
import { type ExecDeps, execute, type ExecEvent, type ExecResult } from './exec/executor.js';
import { lastFailuresPath, recordFailures } from './exec/last-failures.js';
import { withLock } from './exec/lock.js';
import { plan } from './plan/plan.js';
import type { Step } from './plan/steps.js';
import type { Podman } from './podman/podman.js';
import { loadRecipes, type RecipeSet } from './recipe/load.js';
import { checkContext, renderContext } from './context.js';
import { type CurrentState, startReadCurrent } from './state/current.js';
import { type DesiredApp, desiredApp } from './state/desired.js';
import { failureReason, outputSource } from './status/why.js';
import { readAppOutput } from './status/output.js';
import { displayLines } from './status/reason.js';
import type { ServiceManager } from './systemd/manager.js';

export interface Runtime {
  config: Config;
  systemd: ServiceManager;
  podman: Podman;
}

export interface Planned {
  recipes: RecipeSet;
  desired: DesiredApp[];
  current: CurrentState;
  protectedApps: Set<string>;
  steps: Step[];
}

export class RecipesDirError extends Error {}

export async function computePlan(rt: Runtime): Promise<Planned> {
  const { config } = rt;
  // A missing recipes dir must never read as "no apps": that would remove every app.
  const st = await stat(config.recipesDir).catch(() => undefined);
  if (!st?.isDirectory())
    throw new RecipesDirError(
      `the recipes directory ${config.recipesDir} does not exist; nothing was changed (create it, or pass --recipes DIR)`,
    );
  // podman's listing runs in its own process while this one parses the recipes.
  const finishCurrent = startReadCurrent({
    unitDir: config.unitDir,
    dataDir: config.dataDir,
    systemd: rt.systemd,
    podman: rt.podman,
  });
  const recipes = await loadRecipes([config.recipesDir], checkContext(config));
  const ctx = renderContext(config, recipes.apps);
  const desired = recipes.apps.map((a) => desiredApp(a, ctx));
  // An invalid recipe keeps its app's last good unit: protect it by declared name, or file name.
  const protectedApps = new Set(
    recipes.results.filter((r) => !r.app).map((r) => r.declaredName ?? basename(r.file, extname(r.file))),
  );
  const current = await finishCurrent(desired);
  return { recipes, desired, current, protectedApps, steps: plan({ desired, current, protectedApps }) };
}

export interface Applied extends Planned {
  result: ExecResult;
}

/** How long a pass waits for jobs on apps' units that it did not start itself. */
export const SETTLE_MS = 60_000;

/**
 * An apply that was killed leaves its start and restart jobs running in systemd; planning
 * meanwhile would see a unit "activating" with no container yet and call it done. So a pass
 * first waits (bounded) until no job on an app's unit is pending.
 */
export async function settleJobs(systemd: ServiceManager, ms = SETTLE_MS): Promise<void> {
  if (!systemd.pendingJobs) return;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const jobs = await systemd.pendingJobs().catch(() => []);
    if (!jobs.some((j) => /^berth-[a-z0-9-]+\.service$/.test(j.unit))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The lock every pass, update and removal holds while it changes apps. */
export const applyLockPath = (config: Config) => join(config.dataDir, '.apply.lock');

/** What the executors need, from the runtime. */
export function executorDeps(
  rt: Runtime,
  desired: readonly DesiredApp[],
  onEvent?: (e: ExecEvent) => void,
): ExecDeps {
  const src = outputSource(rt.config);
  const byName = new Map(desired.map((d) => [d.app.name, d]));
  return {
    systemd: rt.systemd,
    podman: rt.podman,
    unitDir: rt.config.unitDir,
    dataDir: rt.config.dataDir,
    hostname: rt.config.hostname,
    preloadDir: join(rt.config.dataDir, 'images'),
    desired: byName,
    // A start that failed because a data disk is not mounted (RequiresMountsFor=) says so first.
    explainFailure: async (app, st) => {
      const d = byName.get(app);
      const waiting = d && (await diskWaitNow(d.app, (u) => rt.systemd.state(u)));
      return waiting ?? failureReason(app, st, src);
    },
    lastOutput: async (app) => displayLines(await readAppOutput(app, src, 50)),
    ...(onEvent ? { onEvent } : {}),
  };
}

export async function apply(rt: Runtime, onEvent?: (e: ExecEvent) => void): Promise<Applied> {
  return withLock(applyLockPath(rt.config), async () => {
    await settleJobs(rt.systemd);
    const planned = await computePlan(rt);
    const result = await execute(planned.steps, executorDeps(rt, planned.desired, onEvent));
    await recordFailures(lastFailuresPath(rt.config), result).catch(() => undefined);
    return { ...planned, result };
  });
}
