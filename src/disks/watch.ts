// The supervisor's SMART check: every 30 minutes, SMART of the disks that hold berth's data
// dir or an enabled app's data, read with `-n standby` (a sleeping disk is not woken, and a
// disk that holds none of it is not asked at all, so idle disks can sleep). It tells when a
// disk turns bad or good again, and keeps the last readings for /metrics.
import type { EventKind } from '../events/types.js';
import { type DiskFactsDeps, listDisks, readSmart } from './facts.js';
import type { BlockDevice } from './lsblk.js';
import type { SmartHealth, SmartReading } from './smart.js';
import { type SmartMemory, smartEvents } from './smart-events.js';
import { type BerthPlace, placesByDisk } from './places.js';

export const SMART_INTERVAL_MS = 30 * 60_000;

/** What the last check learnt of a disk that holds berth's data. */
export interface WatchedDisk {
  /** The kernel's name: sda. */
  disk: string;
  path: string;
  model?: string;
  /** The last health it answered with (a sleeping disk keeps the one from before). */
  health: SmartHealth;
  /** Only from a disk that answered this time. */
  temperatureC?: number;
  /** Known for a disk that answered or said it sleeps. */
  asleep?: boolean;
  /** Its mount points that hold berth's data dir or an app's data. */
  mounts: string[];
}

export interface SmartWatchDeps {
  facts: DiskFactsDeps;
  /** berth's data dir and the enabled apps' volumes, as the last pass left them. */
  places: () => readonly BerthPlace[];
  emit: (kind: EventKind, subject: string, detail?: string) => Promise<unknown> | void;
  onError?: (err: Error) => void;
  intervalMs?: number;
  /** Runs fn every ms until the returned function is called (an unref'd setInterval). */
  every?: (fn: () => void, ms: number) => () => void;
}

export interface SmartWatch {
  /** Reads now (unless a check is under way) and tells what changed. */
  check(): Promise<void>;
  disks(): readonly WatchedDisk[];
  /** Checks now and every interval; returns the stop. */
  start(): () => void;
}

const unrefEvery = (fn: () => void, ms: number) => {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
};

/** What a reading says of a disk: a sleeping one keeps the health it had, and has no temperature. */
function watched(
  d: BlockDevice,
  reading: SmartReading,
  before: SmartHealth | undefined,
  places: readonly { mount: string }[],
): WatchedDisk {
  const answered = reading.health === 'ok' || reading.health === 'failing';
  return {
    disk: d.name,
    path: d.path,
    ...(d.model ? { model: d.model } : {}),
    health: reading.health === 'asleep' ? (before ?? 'unknown') : reading.health,
    ...(answered && reading.temperatureC !== undefined ? { temperatureC: reading.temperatureC } : {}),
    ...(answered || reading.health === 'asleep' ? { asleep: reading.health === 'asleep' } : {}),
    mounts: [...new Set(places.map((p) => p.mount))],
  };
}

export function watchSmart(deps: SmartWatchDeps): SmartWatch {
  let memory: SmartMemory = new Set();
  let last: WatchedDisk[] = [];
  let running: Promise<void> | undefined;

  const read = async () => {
    const disks = await listDisks(deps.facts);
    const by = placesByDisk(deps.places(), disks);
    const next: WatchedDisk[] = [];
    const seen = [];
    for (const d of disks.filter((x) => by.has(x.name))) {
      const reading = await readSmart(deps.facts, d);
      next.push(watched(d, reading, last.find((w) => w.disk === d.name)?.health, by.get(d.name)!));
      seen.push({ subject: d.path, ...(d.model ? { model: d.model } : {}), reading });
    }
    last = next;
    const { told, memory: m } = smartEvents(memory, seen);
    memory = m;
    for (const t of told) await deps.emit(t.kind, t.subject, t.detail);
  };

  const check = () =>
    (running ??= read()
      .catch((err: Error) => deps.onError?.(err))
      .finally(() => (running = undefined)));

  return {
    check,
    disks: () => last,
    start() {
      void check();
      return (deps.every ?? unrefEvery)(() => void check(), deps.intervalMs ?? SMART_INTERVAL_MS);
    },
  };
}
