// The planner: desired state + current state → steps. Pure: no I/O, no clock, so it is
// tested with tables of "given this, expect these steps".
import { buildRef, containerName, networkName, pinRef, unitName } from '../render/paths.js';
import type { CurrentApp, CurrentState } from '../state/current.js';
import type { DesiredApp } from '../state/desired.js';
import { planHold, planRollback } from '../updates/plan.js';
import { PHASE, type Step } from './steps.js';

export interface PlanInput {
  desired: readonly DesiredApp[];
  current: CurrentState;
  /** Apps whose recipe exists but is invalid: their last good unit is left exactly as it is. */
  protectedApps: ReadonlySet<string>;
}

const RUNNING = new Set(['active', 'activating', 'reloading', 'deactivating']);
const isRunning = (c: CurrentApp | undefined) => c !== undefined && RUNNING.has(c.activeState);

function planApp(d: DesiredApp, c: CurrentApp | undefined, current: CurrentState): Step[] {
  const app = d.app.name;
  const unit = unitName(app);
  const steps: Step[] = [];
  const fileChanged = c?.unitHash !== d.unit.hash;
  if (fileChanged) steps.push({ kind: 'write-unit', app, unit, hash: d.unit.hash });
  for (const x of c?.containers ?? [])
    if (x.name !== containerName(app))
      steps.push({ kind: 'remove-container', app, container: x.name, reason: 'not the app container' });

  // A rollback whose data restore failed keeps the app stopped until a person acts.
  if (c?.record.transition?.held)
    return [...steps, ...planHold(d, isRunning(c), c.unitFileState === 'enabled')];
  // An update that berth did not finish (it was killed) is rolled back before anything else.
  if (c?.record.transition)
    return [...steps, ...planRollback(d, c.record, 'the update was interrupted', false)];

  if (!d.app.enabled) {
    if (isRunning(c)) steps.push({ kind: 'stop', app, unit, reason: 'enabled: false' });
    if (c?.unitFileState === 'enabled') steps.push({ kind: 'disable', app, unit });
    return steps;
  }
  const missingDirs = d.dirs.filter((x) => c === undefined || c.missingDirs.includes(x.path));
  if (missingDirs.length > 0) steps.push({ kind: 'make-dirs', app, dirs: missingDirs });
  const missingSecrets = c === undefined ? d.secrets : d.secrets.filter((n) => c.missingSecrets.includes(n));
  if (missingSecrets.length > 0) steps.push({ kind: 'make-secrets', app, names: missingSecrets });
  const hasFiles = d.app.files.length > 0 || d.app.env.some((e) => e.secret);
  if (hasFiles && (fileChanged || c === undefined || c.missingFiles || missingSecrets.length > 0))
    steps.push({ kind: 'write-files', app });
  const pinned = planPin(d, c, current, steps);
  for (const n of d.app.networks)
    if (!current.networks.has(networkName(n)))
      steps.push({ kind: 'ensure-network', app, network: networkName(n) });
  if (c?.unitFileState !== 'enabled') steps.push({ kind: 'enable', app, unit });
  // Requires= would start an app kept stopped (planHold) along with its dependent: neither starts.
  if (d.app.dependsOn.some((x) => current.apps.get(x.app)?.record.transition?.held)) return steps;

  const running = c?.containers.find((x) => x.name === containerName(app));
  const stale = running !== undefined && running.state === 'running' && running.hash !== d.unit.hash;
  const otherImage =
    running !== undefined &&
    running.state === 'running' &&
    running.imageId !== '' &&
    running.imageId !== pinned;
  if (isRunning(c) && (fileChanged || stale))
    steps.push({ kind: 'restart', app, unit, reason: 'recipe changed' });
  else if (isRunning(c) && otherImage) steps.push({ kind: 'restart', app, unit, reason: 'image changed' });
  else if (!isRunning(c)) steps.push({ kind: 'start', app, unit });
  return steps;
}

/**
 * The app's unit runs its pin tag. A first start, or a recipe that names another image,
 * pins the recipe's image (getting it first when missing); a pin tag that does not match
 * berth's record (someone moved or removed it) is put back. Returns the ID the app should
 * run, when known at planning time.
 */
function planPin(
  d: DesiredApp,
  c: CurrentApp | undefined,
  current: CurrentState,
  steps: Step[],
): string | undefined {
  const app = d.app.name;
  const rec = c?.record;
  const tagged = current.images.get(pinRef(current.dataDir, app));
  // A pinned image that is gone from the store (the app was removed, or someone deleted it) is pinned afresh.
  const inStore = (id: string) => tagged === id || [...current.images.values()].includes(id);
  if (rec?.current && rec.current.ref === d.app.image && inStore(rec.current.id)) {
    const prev = rec.previous && inStore(rec.previous.id) ? rec.previous : undefined;
    const prevOk = !prev || current.images.get(pinRef(current.dataDir, app, 'previous')) === prev.id;
    if (tagged !== rec.current.id || !prevOk)
      steps.push({
        kind: 'pin-image',
        app,
        ref: rec.current.ref,
        id: rec.current.id,
        ...(prev ? { previous: prev } : {}),
        reason: 'the pin tag was moved',
      });
    return rec.current.id;
  }
  const id = current.images.get(d.app.image);
  if (id === undefined)
    steps.push({
      kind: 'ensure-image',
      app,
      image: d.app.image,
      ...(d.app.build ? { build: d.app.build } : {}),
    });
  const previous = rec?.current && rec.current.id !== id ? rec.current : rec?.previous;
  steps.push({
    kind: 'pin-image',
    app,
    ref: d.app.image,
    ...(id ? { id } : {}),
    ...(previous ? { previous } : {}),
    reason: rec?.current ? 'the recipe names another image' : 'first pin',
  });
  return id;
}

/**
 * The image names an app that goes away leaves: its pin tags, and the registry references it
 * was pinned from (or built as) when no other app uses them. Other localhost/ images are a
 * person's own builds or the image's preloaded archive: berth leaves those names alone.
 */
export function releasableNames(
  c: CurrentApp,
  others: readonly CurrentApp[],
  desired: readonly DesiredApp[],
  dataDir: string,
): string[] {
  const used = new Set([
    ...desired.map((d) => d.app.image),
    ...others.flatMap((o) => [o.record.current?.ref, o.record.previous?.ref]),
  ]);
  const refs = [c.record.current?.ref, c.record.previous?.ref].filter(
    (r): r is string =>
      r !== undefined && (!r.startsWith('localhost/') || r === buildRef(dataDir, c.name)) && !used.has(r),
  );
  return [...new Set([pinRef(dataDir, c.name), pinRef(dataDir, c.name, 'previous'), ...refs])];
}

/** Steps that take an app away: unit stopped, disabled and deleted, containers removed, images released. Data stays. */
export function planRemoval(c: CurrentApp, releasable: readonly string[] = []): Step[] {
  const app = c.name;
  const unit = unitName(app);
  const steps: Step[] = [];
  if (c.unitHash !== undefined) {
    if (isRunning(c)) steps.push({ kind: 'stop', app, unit, reason: 'recipe removed' });
    if (c.unitFileState === 'enabled') steps.push({ kind: 'disable', app, unit });
    steps.push({ kind: 'delete-unit', app, unit });
  }
  for (const x of c.containers)
    steps.push({ kind: 'remove-container', app, container: x.name, reason: 'recipe removed' });
  if (c.record.current && releasable.length > 0)
    steps.push({ kind: 'release-images', app, names: [...releasable] });
  return steps;
}

export function plan({ desired, current, protectedApps }: PlanInput): Step[] {
  const wanted = new Map(desired.map((d) => [d.app.name, d]));
  const steps: Step[] = [];
  for (const d of desired) steps.push(...planApp(d, current.apps.get(d.app.name), current));
  const all = [...current.apps.values()];
  for (const c of all)
    if (!wanted.has(c.name) && !protectedApps.has(c.name))
      steps.push(
        ...planRemoval(
          c,
          releasableNames(
            c,
            all.filter((o) => o !== c),
            desired,
            current.dataDir,
          ),
        ),
      );

  // Two apps may share a network: create it once.
  const seenNet = new Set<string>();
  const deduped = steps.filter(
    (s) => s.kind !== 'ensure-network' || (!seenNet.has(s.network) && seenNet.add(s.network)),
  );
  const unitsChanged = deduped.some(
    (s) => s.kind === 'write-unit' || s.kind === 'delete-unit' || s.kind === 'enable',
  );
  const staleLoaded = desired.some((d) => current.apps.get(d.app.name)?.needDaemonReload);
  if (unitsChanged || staleLoaded) deduped.push({ kind: 'daemon-reload' });

  // Stable order: by phase, then start/restart in dependency order, then by app name.
  const depth = dependencyDepth(desired);
  const key = (s: Step) => ('app' in s ? s.app : '');
  return deduped.sort(
    (a, b) =>
      PHASE[a.kind] - PHASE[b.kind] ||
      (depth.get(key(a)) ?? 0) - (depth.get(key(b)) ?? 0) ||
      key(a).localeCompare(key(b)),
  );
}

/** 0 for apps without dependencies, 1 + the deepest dependency otherwise (recipes are acyclic). */
export function dependencyDepth(desired: readonly DesiredApp[]): Map<string, number> {
  const deps = new Map(desired.map((d) => [d.app.name, d.app.dependsOn.map((x) => x.app)]));
  const memo = new Map<string, number>();
  const depthOf = (n: string, seen: Set<string>): number => {
    if (memo.has(n)) return memo.get(n)!;
    if (seen.has(n)) return 0;
    seen.add(n);
    const v = Math.max(-1, ...(deps.get(n) ?? []).map((x) => depthOf(x, seen))) + 1;
    memo.set(n, v);
    return v;
  };
  for (const n of deps.keys()) depthOf(n, new Set());
  return memo;
}
