// Carries out a plan: phase by phase; within a phase, apps in parallel up to a bound,
// each app's steps in order; starts in dependency order. A failing app stops only its
// own remaining steps (and those of apps that depend on it).
import type { Podman } from '../podman/podman.js';
import { appPaths, instanceOf } from '../render/paths.js';
import type { DesiredApp } from '../state/desired.js';
import type { ServiceManager, UnitState } from '../systemd/manager.js';
import { PHASE, type Step } from '../plan/steps.js';
import { faultPoint } from './faults.js';
import { ImageNames } from './names.js';
import { makeDirs, makeSecrets, writeAppFiles } from './files.js';
import { ensureImage, releaseImages } from './images.js';
import type { FreeBytes } from './space.js';
import { deleteAppUnits, writeAppUnits } from './units.js';
import { runUpdateStep } from '../updates/execute.js';
import { pruneSnapshots } from '../updates/snapshot.js';

export interface ExecDeps {
  systemd: ServiceManager;
  podman: Podman;
  unitDir: string;
  dataDir: string;
  hostname: string;
  preloadDir: string;
  desired: ReadonlyMap<string, DesiredApp>;
  /** How many apps are worked on at once (podman runs are mostly waiting, so more than the cores). */
  concurrency?: number;
  onEvent?: (e: ExecEvent) => void;
  /** One line of why an app's unit failed (its last error line), for the step's error. */
  explainFailure?: (app: string, st: UnitState) => Promise<string>;
  /** Free space, replaceable to inject a full disk. */
  free?: FreeBytes;
  /** An app's last output lines (kept when an update's gate fails). */
  lastOutput?: (app: string) => Promise<string[]>;
}

export type ExecEvent =
  | { type: 'step-start'; step: Step }
  | { type: 'step-done'; step: Step; ms: number }
  | { type: 'step-failed'; step: Step; ms: number; error: string }
  | { type: 'progress'; app: string; line: string };

export interface ExecResult {
  done: Step[];
  failed: { step: Step; error: string }[];
  skipped: Step[];
}

export class StepError extends Error {}

const appOf = (s: Step) => ('app' in s ? s.app : '');

interface PassMemo {
  loads: Map<string, Promise<void>>;
  storePath?: Promise<string>;
  /** Image names are changed one at a time, and batched (see names.ts). */
  names: ImageNames;
}

type Handlers = {
  [K in Step['kind']]: (s: Extract<Step, { kind: K }>) => Promise<void>;
};

/** One handler per step kind, for one pass: the compiler checks that none is missing. */
function stepHandlers(deps: ExecDeps, memo: PassMemo): Handlers {
  const desired = (app: string) => {
    const x = deps.desired.get(app);
    if (!x) throw new StepError(`no desired state for ${app}`);
    return x;
  };
  const job = async (what: string, app: string, p: Promise<string>, unit: string) => {
    const r = await p;
    if (r !== 'done') {
      const st = await deps.systemd.state(unit).catch(() => undefined);
      const exit = st && st.execMainStatus ? `, exit status ${st.execMainStatus}` : '';
      const why = st && deps.explainFailure ? await deps.explainFailure(app, st).catch(() => '') : '';
      throw new StepError(
        `${what} ${unit}: ${r}${exit}${why ? `: ${why}` : ''}; 'berth status ${app}' shows its last output`,
      );
    }
  };
  const update = (s: Parameters<typeof runUpdateStep>[0]) =>
    runUpdateStep(s, {
      systemd: deps.systemd,
      podman: deps.podman,
      dataDir: deps.dataDir,
      ...(deps.free ? { free: deps.free } : {}),
      ...(deps.lastOutput ? { lastOutput: deps.lastOutput } : {}),
      names: memo.names,
    });
  return {
    stop: (s) => job('stop', s.app, deps.systemd.stop(s.unit), s.unit),
    disable: (s) => deps.systemd.disable([s.unit]),
    'delete-unit': (s) => deleteAppUnits(deps.unitDir, s.app, s.unit),
    'remove-container': (s) => deps.podman.removeContainer(s.container),
    'make-dirs': (s) => makeDirs(s.dirs),
    'make-secrets': (s) => makeSecrets(appPaths(deps.dataDir, s.app).secretsDir, s.names),
    'write-files': (s) => writeAppFiles(desired(s.app), deps.dataDir, deps.hostname),
    'ensure-image': (s) =>
      ensureImage(
        s.image,
        {
          podman: deps.podman,
          preloadDir: deps.preloadDir,
          onProgress: (line) => deps.onEvent?.({ type: 'progress', app: s.app, line }),
          loadOnce: (archive, load) => {
            let p = memo.loads.get(archive);
            if (!p) memo.loads.set(archive, (p = load()));
            return p;
          },
          storePath: () => (memo.storePath ??= deps.podman.storePath()),
          ...(deps.free ? { free: deps.free } : {}),
        },
        s.build,
      ),
    'release-images': (s) => memo.names.serial(() => releaseImages(deps.podman, s.names)),
    'remove-image': async (s) => {
      if (await deps.podman.imageExists(s.id)) await deps.podman.removeImage(s.id);
    },
    'remove-network': async (s) => {
      await deps.podman.removeNetwork(s.network);
    },
    'prune-snapshots': async (s) => {
      await pruneSnapshots(deps.dataDir, s.app, s.keep);
    },
    'ensure-network': async (s) => {
      if (!(await deps.podman.networkExists(s.network)))
        await deps.podman.createNetwork(s.network, instanceOf(deps.dataDir));
    },
    'write-unit': (s) => writeAppUnits(deps.unitDir, s.app, desired(s.app).unit),
    'daemon-reload': () => deps.systemd.reload(),
    enable: (s) => deps.systemd.enable([s.unit]),
    start: async (s) => {
      await deps.systemd.resetFailed(s.unit);
      return job('start', s.app, deps.systemd.start(s.unit), s.unit);
    },
    restart: async (s) => {
      await deps.systemd.resetFailed(s.unit);
      return job('restart', s.app, deps.systemd.restart(s.unit), s.unit);
    },
    'pin-image': update,
    'begin-update': update,
    snapshot: update,
    'restore-snapshot': update,
    gate: update,
    'end-update': update,
  };
}

/** Runs one step by its kind's handler; a kind with none fails (it is never counted as done). */
async function runStep(s: Step, handlers: Handlers): Promise<void> {
  const h = (handlers as Partial<Record<string, (s: Step) => Promise<void>>>)[s.kind];
  if (!h) throw new StepError(`no handler for the step kind '${s.kind}'`);
  await h(s);
}

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
