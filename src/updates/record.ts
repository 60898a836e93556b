// What berth records about an app's image, in <app>/.berth/: the pinned image (which the
// unit runs by its berth-owned tag), the one before it, an update under way, rejected
// candidates, and the history of updates. The file is the truth; the tags follow it.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWrite, privateDir } from '../exec/files.js';
import { appPaths } from '../render/paths.js';

export interface Pin {
  /** The reference it came from (a registry or localhost ref, or `build:<app>` for a build). */
  ref: string;
  /** podman's full image ID. */
  id: string;
  /** ISO time the pin was set. */
  at: string;
}

/** An update or rollback that began and has not ended; found by the next pass, it is rolled back. */
export interface Transition {
  kind: 'update' | 'rollback';
  from: Pin;
  to: Pin;
  startedAt: string;
  /** The data snapshot taken before the switch, once it is complete. */
  snapshot?: string;
  /** Why a rollback runs (the failed gate, or an interrupted update). */
  reason?: string;
  /** What `:previous` named before the update, restored by a rollback. */
  priorPrevious?: Pin;
  /**
   * Set when the rollback's data restore failed: the data found before is back in place, and
   * the app is kept stopped (its unit disabled) until `berth rollback` finishes the rollback.
   */
  held?: { reason: string; at: string };
}

export interface ImageRecord {
  current?: Pin;
  previous?: Pin;
  transition?: Transition;
  /** Candidate IDs that failed their gate: automatic updates skip them until a newer one appears. */
  rejected: string[];
  /** The newest candidate a check found that is not pinned yet (status shows "update available"). */
  available?: Pin;
}

export type UpdateResult = 'updated' | 'rolled-back' | 'failed' | 'pinned';

export interface HistoryEntry {
  at: string;
  app: string;
  from?: { ref: string; id: string };
  to: { ref: string; id: string };
  result: UpdateResult;
  reason?: string;
  snapshot?: string;
  /** The failed version's last output lines, kept beside the history. */
  log?: string;
}

const recordPath = (dataDir: string, app: string) => join(appPaths(dataDir, app).stateDir, 'image.json');
export const historyPath = (dataDir: string, app: string) =>
  join(appPaths(dataDir, app).stateDir, 'history.jsonl');

/** Read synchronously: a pass reads every app's record, and each is a few hundred bytes. */
export function readRecord(dataDir: string, app: string): ImageRecord {
  try {
    const r = JSON.parse(readFileSync(recordPath(dataDir, app), 'utf8')) as Partial<ImageRecord>;
    return {
      ...(r.current ? { current: r.current } : {}),
      ...(r.previous ? { previous: r.previous } : {}),
      ...(r.transition ? { transition: r.transition } : {}),
      rejected: r.rejected ?? [],
      ...(r.available ? { available: r.available } : {}),
    };
  } catch {
    return { rejected: [] };
  }
}

export async function writeRecord(dataDir: string, app: string, r: ImageRecord): Promise<void> {
  await privateDir(appPaths(dataDir, app).stateDir);
  await atomicWrite(recordPath(dataDir, app), `${JSON.stringify(r, null, 2)}\n`, 0o644);
}

/** Reads, changes and writes the record whole. */
export async function updateRecord(
  dataDir: string,
  app: string,
  change: (r: ImageRecord) => ImageRecord,
): Promise<ImageRecord> {
  const next = change(readRecord(dataDir, app));
  await writeRecord(dataDir, app, next);
  return next;
}

export async function appendHistory(dataDir: string, e: HistoryEntry): Promise<void> {
  // The history and the failed versions' output kept beside it may quote secrets.
  await privateDir(appPaths(dataDir, e.app).stateDir);
  // One short line per append: O_APPEND writes of a line are whole.
  appendFileSync(historyPath(dataDir, e.app), `${JSON.stringify(e)}\n`, { mode: 0o600 });
}

export function readHistory(dataDir: string, app: string): HistoryEntry[] {
  let text = '';
  try {
    text = readFileSync(historyPath(dataDir, app), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as HistoryEntry];
      } catch {
        return [];
      }
    });
}

export const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
