// What earlier imports took, and what the last one did, in the data dir (root-only, no secrets).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from '../exec/files.js';
import type { FolderProblem } from './folder.js';
import { EMPTY_RECORD, type ImportRecord } from './plan.js';

/** What one import did, kept for REPORT.txt, `berth settings` and `berth status`. */
export interface ImportOutcome {
  at: string;
  folder: string;
  done: string[];
  failed: { what: string; error: string }[];
  problems: FolderProblem[];
  unchanged: string[];
  notes: string[];
  ignored: string[];
  /** Keys that may log in as root, from the partition. */
  keys: number;
  sshPasswordLogin: boolean;
  oneTimePassword: boolean;
}

const dir = (dataDir: string) => join(dataDir, 'settings');

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function readImportRecord(dataDir: string): Promise<ImportRecord> {
  const r = await readJson<ImportRecord>(join(dir(dataDir), 'imported.json'));
  return r && typeof r.files === 'object' && typeof r.recipes === 'object'
    ? r
    : structuredClone(EMPTY_RECORD);
}

export const saveImportRecord = (dataDir: string, r: ImportRecord) =>
  atomicWrite(join(dir(dataDir), 'imported.json'), `${JSON.stringify(r, null, 2)}\n`, 0o600);

export const readOutcome = (dataDir: string) =>
  readJson<ImportOutcome>(join(dir(dataDir), 'last-import.json'));

export const saveOutcome = (dataDir: string, o: ImportOutcome) =>
  atomicWrite(join(dir(dataDir), 'last-import.json'), `${JSON.stringify(o, null, 2)}\n`, 0o600);

/** Where the appliance mounts the BERTH partition: a machine without it has nothing to import. */
export const PARTITION_MOUNT = '/boot/berth';

/**
 * One line for `berth status` when the last import left something out, or when an appliance
 * (it has the BERTH mount point) did not import at this boot (a partition that failed to
 * mount); undefined when all is well. bootedAt: when this boot began (ms).
 */
export async function settingsStatusLine(
  dataDir: string,
  opts: { mountPoint?: string; bootedAt?: number } = {},
): Promise<string | undefined> {
  const o = await readOutcome(dataDir);
  const mountPoint = opts.mountPoint ?? PARTITION_MOUNT;
  if (opts.bootedAt !== undefined && existsSync(mountPoint) && (!o || Date.parse(o.at) < opts.bootedAt))
    return `BERTH partition: not read at this boot (is it mounted at ${mountPoint}?); 'systemctl status berth-settings' says why`;
  if (!o) return undefined;
  const issues = [
    ...o.problems.map((p) => `${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`),
    ...o.failed.map((f) => `${f.what}: ${f.error}`),
  ];
  if (issues.length === 0) return undefined;
  const more = issues.length > 1 ? ` and ${issues.length - 1} more` : '';
  return `BERTH partition: not all taken at ${o.at.slice(0, 16).replace('T', ' ')} UTC: ${issues[0]}${more}; 'berth settings' or berth/REPORT.txt there says all`;
}
