// Carries out a plan: phase by phase; within a phase, apps in parallel up to a bound,
// each app's steps in order; starts in dependency order. A failing app stops only its
// own remaining steps (and those of apps that depend on it).
import { PHASE, type Step } from '../plan/steps.js';
import type { DesiredApp } from '../state/desired.js';
import type { ExecDeps, ExecResult, PassMemo } from './deps.js';
import { faultPoint } from './faults.js';
import { runStep, stepHandlers } from './handlers.js';
import { ImageNames } from './names.js';

export type { ExecDeps, ExecEvent, ExecResult } from './deps.js';

export { StepError } from './handlers.js';

const appOf = (s: Step) => ('app' in s ? s.app : '');

async function bounded<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function execute(steps: readonly Step[], deps: ExecDeps): Promise<ExecResult> {
  const result: ExecResult = { done: [], failed: [], skipped: [] };
  const failedApps = new Set<string>();
  const memo: PassMemo = { loads: new Map(), names: new ImageNames(deps.podman) };
  const handlers = stepHandlers(deps, memo);
  const limit = deps.concurrency ?? 12;
  const dependsOnFailed = (app: string) =>
    deps.desired.get(app)?.app.dependsOn.some((x) => failedApps.has(x.app)) ?? false;

  const one = async (s: Step) => {
    const app = appOf(s);
    if ((app && failedApps.has(app)) || (s.kind === 'start' && dependsOnFailed(app))) {
      result.skipped.push(s);
      if (app) failedApps.add(app);
      return;
    }
    const t0 = performance.now();
    faultPoint(`step:${s.kind}`);
    deps.onEvent?.({ type: 'step-start', step: s });
    try {
      await runStep(s, handlers);
      result.done.push(s);
      deps.onEvent?.({ type: 'step-done', step: s, ms: performance.now() - t0 });
    } catch (err) {
      const error = (err as Error).message;
      if (app) failedApps.add(app);
      result.failed.push({ step: s, error });
      deps.onEvent?.({ type: 'step-failed', step: s, ms: performance.now() - t0, error });
    }
  };

  const phases = [...new Set(steps.map((s) => PHASE[s.kind]))].sort((a, b) => a - b);
  for (const phase of phases) {
    let inPhase = steps.filter((s) => PHASE[s.kind] === phase);
    if (phase === PHASE.enable) inPhase = await enableAtOnce(inPhase, deps, result, failedApps);
    // Group by app (steps of one app run in order); start waves follow dependency depth.
    const waves = phase === PHASE.start ? startWaves(inPhase, deps.desired) : [inPhase];
    for (const wave of waves) {
      const byApp = new Map<string, Step[]>();
      for (const s of wave) byApp.set(appOf(s), [...(byApp.get(appOf(s)) ?? []), s]);
      await bounded([...byApp.values()], limit, async (list) => {
        for (const s of list) await one(s);
      });
    }
  }
  return result;
}

/**
 * Enables every unit in one call (each call makes systemd re-read unit file state); if
 * that fails, returns the steps to be run one by one so the failing app is found.
 */
async function enableAtOnce(
  steps: Step[],
  deps: ExecDeps,
  result: ExecResult,
  failedApps: Set<string>,
): Promise<Step[]> {
  const todo = steps.filter((s) => s.kind === 'enable' && !failedApps.has(s.app));
  if (todo.length < 2) return steps;
  const t0 = performance.now();
  try {
    await deps.systemd.enable(todo.map((s) => (s.kind === 'enable' ? s.unit : '')));
  } catch {
    return steps;
  }
  for (const s of todo) {
    result.done.push(s);
    deps.onEvent?.({ type: 'step-done', step: s, ms: performance.now() - t0 });
  }
  return steps.filter((s) => !todo.includes(s));
}

/** Splits start/restart steps so an app starts only after the apps it depends on. */
function startWaves(steps: readonly Step[], desired: ReadonlyMap<string, DesiredApp>): Step[][] {
  const pending = new Map(steps.map((s) => [appOf(s), s]));
  const waves: Step[][] = [];
  while (pending.size > 0) {
    const ready = [...pending.values()].filter(
      (s) => !(desired.get(appOf(s))?.app.dependsOn ?? []).some((x) => pending.has(x.app)),
    );
    const wave = ready.length > 0 ? ready : [...pending.values()];
    for (const s of wave) pending.delete(appOf(s));
    waves.push(wave);
  }
  return waves;
}
