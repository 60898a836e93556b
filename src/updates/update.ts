// `berth update`: for each app, one at a time and dependencies first, get the candidate
// (no downtime while it downloads), compare it with the pinned image, and when it is new:
// snapshot, switch, gate, and keep it or roll back. Each app's update is a plan of steps
// run by the executor; a rollback is planned from the record the failed update left.
import { execute, type ExecEvent } from '../exec/executor.js';
import type { FreeBytes } from '../exec/space.js';
import { withLock } from '../exec/lock.js';
import { dependencyDepth } from '../plan/plan.js';
import { applyLockPath, computePlan, executorDeps, type Runtime, settleJobs } from '../runtime.js';
import { unitName } from '../render/paths.js';
import type { DesiredApp } from '../state/desired.js';
import { resolveCandidate } from './candidate.js';
import { runUpdateStep } from './execute.js';
import { compare, planHeldRollback, planManualRollback, planRollback, planUpdate } from './plan.js';
import { type ImageRecord, type Pin, readRecord, shortId, updateRecord } from './record.js';
import { listSnapshots, requireSnapshotSpace } from './snapshot.js';

export type AppUpdateStatus =
  'up-to-date' | 'available' | 'updated' | 'rolled-back' | 'failed' | 'skipped' | 'error';

export interface AppUpdate {
  app: string;
  status: AppUpdateStatus;
  from?: Pin;
  to?: Pin;
  reason?: string;
  /** The candidate failed its gate before (automatic updates skip it). */
  rejectedBefore?: boolean;
  /** An available candidate not found before: told once, not at every check. */
  fresh?: boolean;
}

export interface UpdateOptions {
  /** Apps to update; all when empty. */
  apps: readonly string[];
  /** Only report; change nothing. */
  check: boolean;
  /** Run by berth's timer: skip candidates that failed before, and apps whose policy is not auto. */
  automatic?: boolean;
  onEvent?: (e: ExecEvent) => void;
  onProgress?: (app: string, line: string) => void;
  now?: () => Date;
  /** Free space, replaceable to inject a full disk. */
  free?: FreeBytes;
}

export class UnknownAppError extends Error {}

/** Desired apps in dependency order (an app after those it depends on), then by name. */
function inOrder(desired: readonly DesiredApp[]): DesiredApp[] {
  const depth = dependencyDepth(desired);
  return [...desired].sort(
    (a, b) =>
      (depth.get(a.app.name) ?? 0) - (depth.get(b.app.name) ?? 0) || a.app.name.localeCompare(b.app.name),
  );
}

async function rollBack(rt: Runtime, d: DesiredApp, reason: string, opts: UpdateOptions): Promise<AppUpdate> {
  const app = d.app.name;
  const record = readRecord(rt.config.dataDir, app);
  const t = record.transition;
  const steps = planRollback(d, record, reason, true);
  const r = await execute(steps, executorDeps(rt, [d], opts.onEvent));
  const base = { app, ...(t ? { from: t.to, to: t.from } : {}) };
  if (r.failed.length === 0) return { ...base, status: 'rolled-back', reason };
  const held = readRecord(rt.config.dataDir, app).transition?.held;
  if (held) return { ...base, status: 'failed', reason: `${reason}; ${held.reason}` };
  // The rollback failed too: record it and end the transition, so no pass loops on it; the
  // app is left on the old image, as systemd keeps it.
  const why = `${reason}; the rollback failed too: ${r.failed[0]!.error}`;
  if (t) await endFailed(rt, app, t.to, t.from, why, t.kind === 'update' ? t.to.id : undefined);
  return { ...base, status: 'failed', reason: why };
}

/** Ends a transition that could not be finished: history says failed, and no pass retries it. */
async function endFailed(
  rt: Runtime,
  app: string,
  from: Pin,
  to: Pin,
  reason: string,
  reject?: string,
): Promise<void> {
  await runUpdateStep(
    {
      kind: 'end-update',
      app,
      entry: {
        from: { ref: from.ref, id: from.id },
        to: { ref: to.ref, id: to.id },
        result: 'failed',
        reason,
      },
      ...(reject ? { reject } : {}),
    },
    { systemd: rt.systemd, podman: rt.podman, dataDir: rt.config.dataDir },
  );
}

async function updateOne(rt: Runtime, d: DesiredApp, opts: UpdateOptions): Promise<AppUpdate> {
  const app = d.app.name;
  const now = opts.now ?? (() => new Date());
  const record = readRecord(rt.config.dataDir, app);
  if (!record.current)
    return {
      app,
      status: 'error',
      reason: `${app} has not been started by berth yet; run 'berth apply' first`,
    };
  if (record.transition?.held) return { app, status: 'error', reason: record.transition.held.reason };
  if (opts.automatic && d.app.update.policy === 'manual')
    return { app, status: 'skipped', reason: 'policy: manual' };
  let candidate: Pin;
  try {
    candidate = await resolveCandidate(d.app, rt.podman, (l) => opts.onProgress?.(app, l), now);
  } catch (err) {
    return { app, status: 'error', reason: (err as Error).message };
  }
  const cmp = compare(record, candidate);
  if (cmp.kind === 'up-to-date') {
    if (record.available) await updateRecord(rt.config.dataDir, app, ({ available: _a, ...r }) => r);
    return { app, status: 'up-to-date', from: cmp.current };
  }
  const found = { app, from: record.current, to: candidate, rejectedBefore: cmp.rejectedBefore };
  if (opts.check || (opts.automatic && d.app.update.policy === 'notify')) {
    const fresh = record.available?.id !== candidate.id;
    await updateRecord(rt.config.dataDir, app, (r) => ({ ...r, available: candidate }));
    return { ...found, status: 'available', ...(fresh ? { fresh } : {}) };
  }
  if (opts.automatic && cmp.rejectedBefore)
    return { ...found, status: 'skipped', reason: 'this candidate failed its gate before' };
  // A snapshot that cannot fit refuses the update before the app is stopped.
  if (d.snapshotPaths.length > 0) {
    try {
      await requireSnapshotSpace(rt.config.dataDir, app, d.snapshotPaths, opts.free);
    } catch (err) {
      return { ...found, status: 'error', reason: (err as Error).message };
    }
  }
  const steps = planUpdate(d, record, candidate, now().toISOString());
  const r = await execute(steps, executorDeps(rt, [d], opts.onEvent));
  if (r.failed.length === 0) {
    await updateRecord(rt.config.dataDir, app, ({ available: _a, ...x }) => x);
    return { ...found, status: 'updated' };
  }
  const failure = r.failed[0]!;
  // Failed before anything changed (the record of the update could not be written).
  if (!readRecord(rt.config.dataDir, app).transition)
    return { ...found, status: 'error', reason: failure.error };
  const reason =
    failure.step.kind === 'gate' ? failure.error : `${failure.step.kind} failed: ${failure.error}`;
  return { ...(await rollBack(rt, d, reason, opts)), rejectedBefore: cmp.rejectedBefore };
}

/** Runs updates under the apply lock (never beside a pass); returns one result per app. */
export async function runUpdates(rt: Runtime, opts: UpdateOptions): Promise<AppUpdate[]> {
  return withLock(applyLockPath(rt.config), async () => {
    await settleJobs(rt.systemd);
    const planned = await computePlan(rt);
    const known = new Map(planned.desired.map((d) => [d.app.name, d]));
    for (const a of opts.apps)
      if (!known.has(a))
        throw new UnknownAppError(`no app named '${a}' with a valid recipe: 'berth status' lists the apps`);
    const chosen = inOrder(planned.desired).filter(
      (d) => opts.apps.length === 0 || opts.apps.includes(d.app.name),
    );
    const out: AppUpdate[] = [];
    for (const d of chosen) out.push(await updateOne(rt, d, opts));
    return out;
  });
}

/** `berth rollback APP [--data]`: back to the previous image (and the data snapshot taken before the switch). */
export async function runRollback(
  rt: Runtime,
  app: string,
  withData: boolean,
  opts: Pick<UpdateOptions, 'onEvent' | 'now'> = {},
): Promise<AppUpdate> {
  return withLock(applyLockPath(rt.config), async () => {
    await settleJobs(rt.systemd);
    const planned = await computePlan(rt);
    const d = planned.desired.find((x) => x.app.name === app);
    if (!d)
      throw new UnknownAppError(`no app named '${app}' with a valid recipe: 'berth status' lists the apps`);
    const record = readRecord(rt.config.dataDir, app);
    if (record.transition?.held) return finishHeld(rt, d, record, withData, opts);
    if (!record.current || !record.previous)
      return { app, status: 'error', reason: `${app} has no previous image to go back to` };
    let snapshot: string | undefined;
    if (withData) {
      const short = shortId(record.previous.id);
      snapshot = (await listSnapshots(rt.config.dataDir, app)).filter((s) => s.image === short).at(-1)?.path;
      if (!snapshot)
        return {
          app,
          status: 'error',
          reason: `no data snapshot of ${app} was taken on its previous image (${short})`,
        };
    }
    const now = (opts.now ?? (() => new Date()))().toISOString();
    const steps = planManualRollback(d, record, snapshot, now);
    const r = await execute(steps, executorDeps(rt, [d], opts.onEvent));
    const base = { app, from: record.current, to: record.previous };
    if (r.failed.length === 0) return { ...base, status: 'rolled-back', reason: 'berth rollback' };
    const why = await rollbackFailed(rt, app, record.current, record.previous, r.failed[0]!.error);
    return { ...base, status: 'failed', reason: why };
  });
}

/** `berth rollback` on an app kept stopped after a failed restore: the rollback again (with or without the data). */
async function finishHeld(
  rt: Runtime,
  d: DesiredApp,
  record: ImageRecord,
  withData: boolean,
  opts: Pick<UpdateOptions, 'onEvent'>,
): Promise<AppUpdate> {
  const app = d.app.name;
  const t = record.transition!;
  const steps = planHeldRollback(d, record, withData);
  const r = await execute(steps, executorDeps(rt, [d], opts.onEvent));
  const base = { app, from: t.from, to: t.to };
  if (r.failed.length === 0) {
    // Enabled again as the hold disabled it; the reload makes systemd report the unit file's state anew.
    if (d.app.enabled) await rt.systemd.enable([unitName(app)]);
    await rt.systemd.reload();
    return { ...base, status: 'rolled-back', reason: 'berth rollback' };
  }
  return {
    ...base,
    status: 'failed',
    reason: await rollbackFailed(rt, app, t.from, t.to, r.failed[0]!.error),
  };
}

/**
 * Why a `berth rollback` failed. A failed restore held it (the app stays stopped, the record
 * says why); anything else ends it as failed, so no pass loops on it.
 */
async function rollbackFailed(rt: Runtime, app: string, from: Pin, to: Pin, error: string): Promise<string> {
  const held = readRecord(rt.config.dataDir, app).transition?.held;
  if (held) return held.reason;
  const why = `berth rollback failed: ${error}`;
  await endFailed(rt, app, from, to, why);
  return why;
}
