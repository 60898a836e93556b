// The executor's handlers: one per step kind, for one pass; the compiler checks that none
// is missing (an unknown kind is never counted as done: see runStep).
import type { Step } from '../plan/steps.js';
import { appPaths, instanceOf } from '../render/paths.js';
import { runUpdateStep } from '../updates/execute.js';
import { pruneSnapshots } from '../updates/snapshot.js';
import type { ExecDeps, PassMemo } from './deps.js';
import { makeDirs, makeSecrets, writeAppFiles } from './files.js';
import { ensureImage, releaseImages } from './images.js';
import { deleteAppUnits, writeAppUnits } from './units.js';

export class StepError extends Error {}

export type Handlers = {
  [K in Step['kind']]: (s: Extract<Step, { kind: K }>) => Promise<void>;
};

/** One handler per step kind, for one pass. */
export function stepHandlers(deps: ExecDeps, memo: PassMemo): Handlers {
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
export async function runStep(s: Step, handlers: Handlers): Promise<void> {
  const h = (handlers as Partial<Record<string, (s: Step) => Promise<void>>>)[s.kind];
  if (!h) throw new StepError(`no handler for the step kind '${s.kind}'`);
  await h(s);
}
