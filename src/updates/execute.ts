// The executor of the image and update steps: pins (record first, then the tags), the
// record of an update under way, snapshots, the gate, and the history.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Step } from '../plan/steps.js';
import type { Podman } from '../podman/podman.js';
import { appPaths, pinRef, unitName } from '../render/paths.js';
import { atomicWrite, privateDir } from '../exec/files.js';
import { ImageNames } from '../exec/names.js';
import type { FreeBytes } from '../exec/space.js';
import type { ServiceManager } from '../systemd/manager.js';
import { runGate } from './gate.js';
import { appendHistory, type Pin, readRecord, shortId, updateRecord } from './record.js';
import { restoreSnapshot } from './restore.js';
import { pruneSnapshots, takeSnapshot } from './snapshot.js';

export interface UpdateStepDeps {
  systemd: ServiceManager;
  podman: Podman;
  dataDir: string;
  free?: FreeBytes;
  /** The failed version's last output, kept beside the history when its gate fails. */
  lastOutput?: (app: string) => Promise<string[]>;
  gatePollMs?: number;
  /** The pass's image-name changes (one at a time, batched). */
  names?: ImageNames;
}

type UpdateKind = 'pin-image' | 'begin-update' | 'snapshot' | 'restore-snapshot' | 'gate' | 'end-update';
type UpdateStep = Extract<Step, { kind: UpdateKind }>;

const iso = () => new Date().toISOString();

async function pin(s: Extract<Step, { kind: 'pin-image' }>, deps: UpdateStepDeps): Promise<void> {
  const id = s.id ?? (await deps.podman.imageId(s.ref));
  if (!id) throw new Error(`image ${s.ref} is not in podman's store`);
  let previous: Pin | undefined = s.previous;
  if (previous && !(await deps.podman.imageExists(previous.id))) previous = undefined;
  let hadPrevious = false;
  await updateRecord(deps.dataDir, s.app, (r) => {
    hadPrevious = r.previous !== undefined;
    const same = r.current?.id === id && r.current.ref === s.ref;
    const { previous: _old, ...rest } = r;
    return {
      ...rest,
      current: same && r.current ? r.current : { ref: s.ref, id, at: iso() },
      ...(previous ? { previous } : {}),
    };
  });
  const names = deps.names ?? new ImageNames(deps.podman);
  await names.tag(id, pinRef(deps.dataDir, s.app));
  if (previous) await names.tag(previous.id, pinRef(deps.dataDir, s.app, 'previous'));
  else if (hadPrevious) await names.serial(() => deps.podman.untag(pinRef(deps.dataDir, s.app, 'previous')));
}

/** What `berth status`, the page and `berth history` say about an app kept stopped after a failed restore. */
export const heldReason = (app: string, restoreError: string, good?: Pin) =>
  `the rollback could not restore the data: ${restoreError}; ${app} is kept stopped (its unit disabled). ` +
  `Free what the error names and run 'berth rollback ${app} --data' to restore the snapshot again, ` +
  `or 'berth rollback ${app}' to start ${good ? shortId(good.id) : 'the previous image'} on the data as it is now`;

/**
 * A restore that did not go through: the data found before is back in place (restore.ts),
 * so the app must not start on the rejected image nor on partial data. The transition stays,
 * marked held: the planner then only keeps the app stopped and disabled.
 */
async function hold(s: Extract<Step, { kind: 'restore-snapshot' }>, err: Error, deps: UpdateStepDeps) {
  const t = readRecord(deps.dataDir, s.app).transition;
  const reason = heldReason(s.app, err.message, t?.to);
  const at = iso();
  await updateRecord(deps.dataDir, s.app, (r) =>
    r.transition ? { ...r, transition: { ...r.transition, held: { reason, at } } } : r,
  );
  if (t)
    await appendHistory(deps.dataDir, {
      at,
      app: s.app,
      from: { ref: t.from.ref, id: t.from.id },
      to: { ref: t.to.ref, id: t.to.id },
      result: 'failed',
      reason,
      snapshot: s.snapshot,
    });
  // Not started at the next boot either (systemd would start an enabled unit before any pass);
  // the reload makes systemd report the unit file's state anew.
  await deps.systemd
    .disable([unitName(s.app)])
    .then(() => deps.systemd.reload())
    .catch(() => undefined);
  return new Error(reason);
}

/** The failed version's last lines, kept for `berth history` (as the unit's own are rotated away); its owner's only. */
async function keepFailedOutput(app: string, deps: UpdateStepDeps): Promise<void> {
  const lines = (await deps.lastOutput?.(app).catch(() => [])) ?? [];
  const rec = readRecord(deps.dataDir, app);
  const id = rec.transition?.to.id ?? rec.current?.id ?? 'unknown';
  const stateDir = appPaths(deps.dataDir, app).stateDir;
  await privateDir(stateDir)
    .then(() => atomicWrite(join(stateDir, `failed-${shortId(id)}.log`), `${lines.join('\n')}\n`, 0o600))
    .catch(() => undefined);
}

async function endUpdate(s: Extract<Step, { kind: 'end-update' }>, deps: UpdateStepDeps): Promise<void> {
  const at = iso();
  // The failed version's output, when its gate kept it (an interrupted update has none).
  const failedLog = join(
    appPaths(deps.dataDir, s.app).stateDir,
    `failed-${shortId(s.entry.from?.id ?? '')}.log`,
  );
  const log = s.entry.result === 'rolled-back' && existsSync(failedLog) ? failedLog : undefined;
  await appendHistory(deps.dataDir, { at, app: s.app, ...s.entry, ...(log ? { log } : {}) });
  await updateRecord(deps.dataDir, s.app, (r) => {
    const { transition: _t, ...rest } = r;
    const rejected = s.reject
      ? [...r.rejected.filter((x) => x !== s.reject), s.reject].slice(-20)
      : r.rejected;
    return { ...rest, rejected };
  });
}

type Handlers = { [K in UpdateKind]: (s: Extract<Step, { kind: K }>, deps: UpdateStepDeps) => Promise<void> };

/** One handler per update step kind: the compiler checks that none is missing. */
const handlers: Handlers = {
  'pin-image': pin,
  'begin-update': async (s, deps) => {
    await updateRecord(deps.dataDir, s.app, (r) => ({ ...r, transition: s.transition }));
  },
  snapshot: async (s, deps) => {
    const path = await takeSnapshot(
      deps.dataDir,
      s.app,
      s.paths,
      s.image,
      deps.free ? { free: deps.free } : {},
    );
    await updateRecord(deps.dataDir, s.app, (r) =>
      r.transition ? { ...r, transition: { ...r.transition, snapshot: path } } : r,
    );
    await pruneSnapshots(deps.dataDir, s.app, s.keep);
  },
  'restore-snapshot': async (s, deps) => {
    try {
      await restoreSnapshot(deps.dataDir, s.app, s.snapshot, deps.free ? { free: deps.free } : {});
    } catch (err) {
      throw await hold(s, err as Error, deps);
    }
  },
  gate: async (s, deps) => {
    try {
      await runGate(s, {
        systemd: deps.systemd,
        podman: deps.podman,
        ...(deps.gatePollMs ? { pollMs: deps.gatePollMs } : {}),
      });
    } catch (err) {
      await keepFailedOutput(s.app, deps);
      throw err;
    }
  },
  'end-update': endUpdate,
};

export async function runUpdateStep(s: UpdateStep, deps: UpdateStepDeps): Promise<void> {
  const h = handlers[s.kind] as ((s: UpdateStep, deps: UpdateStepDeps) => Promise<void>) | undefined;
  if (!h) throw new Error(`no handler for the step kind '${s.kind}'`);
  await h(s, deps);
}
