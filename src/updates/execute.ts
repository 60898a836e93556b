// The executor of the image and update steps: pins (record first, then the tags), the
// record of an update under way, snapshots, the gate, and the history.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Step } from '../plan/steps.js';
import type { Podman } from '../podman/podman.js';
import { appPaths, pinRef } from '../render/paths.js';
import { ImageNames } from '../exec/names.js';
import type { FreeBytes } from '../exec/space.js';
import type { ServiceManager } from '../systemd/manager.js';
import { runGate } from './gate.js';
import { appendHistory, type Pin, shortId, updateRecord } from './record.js';
import { pruneSnapshots, restoreSnapshot, takeSnapshot } from './snapshot.js';

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

type UpdateStep = Extract<
  Step,
  { kind: 'pin-image' | 'begin-update' | 'snapshot' | 'restore-snapshot' | 'gate' | 'end-update' }
>;

export const isUpdateStep = (s: Step): s is UpdateStep =>
  ['pin-image', 'begin-update', 'snapshot', 'restore-snapshot', 'gate', 'end-update'].includes(s.kind);

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

export async function runUpdateStep(s: UpdateStep, deps: UpdateStepDeps): Promise<void> {
  switch (s.kind) {
    case 'pin-image':
      return pin(s, deps);
    case 'begin-update':
      await updateRecord(deps.dataDir, s.app, (r) => ({ ...r, transition: s.transition }));
      return;
    case 'snapshot': {
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
      return;
    }
    case 'restore-snapshot':
      await restoreSnapshot(deps.dataDir, s.app, s.snapshot, s.paths);
      return;
    case 'gate':
      try {
        await runGate(s, {
          systemd: deps.systemd,
          podman: deps.podman,
          ...(deps.gatePollMs ? { pollMs: deps.gatePollMs } : {}),
        });
      } catch (err) {
        // The failed version's last lines, kept for `berth history` (as the unit's own are rotated away).
        const lines = (await deps.lastOutput?.(s.app).catch(() => [])) ?? [];
        const rec = await updateRecord(deps.dataDir, s.app, (r) => r);
        const id = rec.transition?.to.id ?? rec.current?.id ?? 'unknown';
        await writeFile(
          join(appPaths(deps.dataDir, s.app).stateDir, `failed-${shortId(id)}.log`),
          `${lines.join('\n')}\n`,
        ).catch(() => undefined);
        throw err;
      }
      return;
    case 'end-update': {
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
      return;
    }
  }
}
