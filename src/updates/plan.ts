// Updates and rollbacks as plain steps, planned purely from the app, its image record and
// the candidate: the executor carries them out like any other plan.
import type { Step } from '../plan/steps.js';
import type { App } from '../recipe/app.js';
import { unitName } from '../render/paths.js';
import type { DesiredApp } from '../state/desired.js';
import type { ImageRecord, Pin, Transition } from './record.js';

/** How long the gate waits for a health check to pass: its own settings, capped by `update.gate`. */
export function healthWindowMs(app: App): number {
  const h = app.health;
  if (!h) return 0;
  return Math.min(app.update.gateMs, h.startPeriodMs + (h.retries + 1) * h.intervalMs + h.timeoutMs);
}

function gateStep(app: App): Step {
  return {
    kind: 'gate',
    app: app.name,
    unit: unitName(app.name),
    windowMs: healthWindowMs(app),
    stableForMs: app.update.stableForMs,
    health: app.health !== undefined,
  };
}

export type UpdateCheck =
  | { kind: 'up-to-date'; current: Pin }
  | { kind: 'available'; current?: Pin; candidate: Pin; rejectedBefore: boolean };

export function compare(record: ImageRecord, candidate: Pin): UpdateCheck {
  if (record.current?.id === candidate.id) return { kind: 'up-to-date', current: record.current };
  return {
    kind: 'available',
    ...(record.current ? { current: record.current } : {}),
    candidate,
    rejectedBefore: record.rejected.includes(candidate.id),
  };
}

/** One switch from transition.from to transition.to, as every update and rollback makes it. */
interface Switch {
  transition: Transition;
  /** A snapshot to take before the switch, or one to restore. */
  data?: { take: Extract<Step, { kind: 'snapshot' }> } | { restore: string };
  /** What `:previous` names afterwards. */
  previous?: Pin;
  gate: boolean;
  result: 'updated' | 'rolled-back';
  reason?: string;
  /** A candidate to remember as failed. */
  reject?: string;
}

function switchSteps(d: DesiredApp, sw: Switch): Step[] {
  const { app } = d;
  const name = app.name;
  const unit = unitName(name);
  const { from, to } = sw.transition;
  const why = sw.result === 'updated' ? 'update' : 'rollback';
  const steps: Step[] = [{ kind: 'begin-update', app: name, transition: sw.transition }];
  // A rollback stops the app whatever its recipe says: the failed version may still run.
  if (app.enabled || why === 'rollback') steps.push({ kind: 'stop', app: name, unit, reason: why });
  if (sw.data && 'take' in sw.data) steps.push(sw.data.take);
  if (sw.data && 'restore' in sw.data)
    steps.push({ kind: 'restore-snapshot', app: name, snapshot: sw.data.restore });
  steps.push({
    kind: 'pin-image',
    app: name,
    ref: to.ref,
    id: to.id,
    ...(sw.previous ? { previous: sw.previous } : {}),
    reason: why,
  });
  if (app.enabled) steps.push({ kind: 'start', app: name, unit }, ...(sw.gate ? [gateStep(app)] : []));
  steps.push({
    kind: 'end-update',
    app: name,
    entry: {
      from: { ref: from.ref, id: from.id },
      to: { ref: to.ref, id: to.id },
      result: sw.result,
      ...(sw.reason ? { reason: sw.reason } : {}),
      ...(sw.data && 'restore' in sw.data ? { snapshot: sw.data.restore } : {}),
    },
    ...(sw.reject ? { reject: sw.reject } : {}),
  });
  return steps;
}

/** An update: stop, snapshot, switch, start, gate, record. Nothing when already on the candidate. */
export function planUpdate(d: DesiredApp, record: ImageRecord, candidate: Pin, now: string): Step[] {
  const from = record.current;
  if (!from || from.id === candidate.id) return [];
  const transition: Transition = {
    kind: 'update',
    from,
    to: candidate,
    startedAt: now,
    ...(record.previous ? { priorPrevious: record.previous } : {}),
  };
  const take = {
    kind: 'snapshot' as const,
    app: d.app.name,
    paths: d.snapshotPaths,
    image: from.id,
    keep: d.app.update.keep,
  };
  return switchSteps(d, {
    transition,
    ...(d.snapshotPaths.length > 0 ? { data: { take } } : {}),
    previous: from,
    gate: true,
    result: 'updated',
  });
}

/**
 * Back from an update that failed or was interrupted: stop, move the new version's data
 * aside and restore the snapshot, re-pin the image it replaced, start. The gate runs when
 * asked (berth update waits; a pass that finds an interrupted update only restarts).
 */
export function planRollback(
  d: DesiredApp,
  record: ImageRecord,
  reason: string,
  gate: boolean,
  restore = true,
): Step[] {
  const t = record.transition;
  if (!t) return [];
  // An interrupted rollback is finished the same way: the good image is `to` there.
  const good = t.kind === 'update' ? t.from : t.to;
  const bad = t.kind === 'update' ? t.to : t.from;
  const transition: Transition = {
    kind: 'rollback',
    from: bad,
    to: good,
    startedAt: t.startedAt,
    reason,
    ...(t.snapshot ? { snapshot: t.snapshot } : {}),
    ...(t.priorPrevious ? { priorPrevious: t.priorPrevious } : {}),
  };
  return switchSteps(d, {
    transition,
    ...(t.snapshot && restore ? { data: { restore: t.snapshot } } : {}),
    ...(t.priorPrevious ? { previous: t.priorPrevious } : {}),
    gate,
    result: 'rolled-back',
    reason,
    ...(t.kind === 'update' ? { reject: bad.id } : {}),
  });
}

/** `berth rollback`: back to the previous image, and with data to the snapshot taken before the switch. */
export function planManualRollback(
  d: DesiredApp,
  record: ImageRecord,
  snapshot: string | undefined,
  now: string,
): Step[] {
  const { current, previous } = record;
  if (!current || !previous) return [];
  const reason = snapshot ? 'berth rollback --data' : 'berth rollback';
  return switchSteps(d, {
    transition: {
      kind: 'rollback',
      from: current,
      to: previous,
      startedAt: now,
      reason,
      ...(snapshot ? { snapshot } : {}),
      priorPrevious: current,
    },
    ...(snapshot ? { data: { restore: snapshot } } : {}),
    previous: current,
    gate: true,
    result: 'rolled-back',
    reason,
  });
}

/**
 * An app whose rollback could not restore its data (the transition is held): only kept
 * stopped and disabled, so neither a pass nor a boot starts it on the rejected image or on
 * data that is not its own; `berth rollback` finishes the rollback (planHeldRollback).
 */
export function planHold(d: DesiredApp, running: boolean, enabled: boolean): Step[] {
  const name = d.app.name;
  const unit = unitName(name);
  return [
    ...(running
      ? [{ kind: 'stop' as const, app: name, unit, reason: 'kept stopped: its data restore failed' }]
      : []),
    ...(enabled ? [{ kind: 'disable' as const, app: name, unit }] : []),
  ];
}

/**
 * `berth rollback` on a held app: the held rollback again, with the data restore (--data) or
 * without it (the good image on the data as it is now, which is the data found before).
 */
export function planHeldRollback(d: DesiredApp, record: ImageRecord, withData: boolean): Step[] {
  const t = record.transition;
  if (!t?.held) return [];
  const { held: _h, ...rest } = t;
  const reason = withData ? 'berth rollback --data' : 'berth rollback (the data kept as it was)';
  return planRollback(d, { ...record, transition: { ...rest, reason } }, reason, true, withData);
}
