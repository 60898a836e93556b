// The supervisor's SMART check (src/disks/watch.ts), wired to what it has: the apps of the
// last pass (enabled ones only: a disk that holds no running app's data is never asked),
// its events, its log.
import type { Logger } from 'pino';
import { berthPlaces } from '../disks/places.js';
import { type SmartWatch, type SmartWatchDeps, watchSmart } from '../disks/watch.js';
import { spawnRunner } from '../process/run.js';
import type { App } from '../recipe/app.js';
import type { Runtime } from '../runtime.js';
import type { SupervisorEvents } from './events.js';

export type SmartWatchOptions = Partial<Pick<SmartWatchDeps, 'facts' | 'intervalMs' | 'every'>>;

export function smartWatch(
  rt: Runtime,
  log: Logger,
  events: Pick<SupervisorEvents, 'emit'>,
  apps: () => readonly App[],
  options: SmartWatchOptions = {},
): SmartWatch {
  return watchSmart({
    facts: { runner: spawnRunner },
    ...options,
    places: () =>
      berthPlaces(
        rt.config.dataDir,
        apps().filter((a) => a.enabled),
      ),
    emit: (kind, subject, detail) => events.emit(kind, subject, detail),
    onError: (err) => log.warn({ error: err.message }, 'SMART check failed'),
  });
}
