// What planAdd needs to know of the machine, read: lsblk's tree, /srv's entries, berth's disk units.
import { readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runner } from '../process/run.js';
import { DISKS_ROOT } from '../render/paths.js';
import type { AddFacts } from './add.js';
import { LSBLK_ARGV, parseLsblk } from './lsblk.js';
import { DISK_MARK } from './mount-unit.js';

export interface FactDeps {
  run: Runner;
  unitDir: string;
  /** /srv; a test gives its own. */
  srvDir?: string;
}

export class DiskFactsError extends Error {}

/** Names in dir that hold something: a file, or a dir that is not empty. */
async function inUse(dir: string): Promise<Set<string>> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const used = new Set<string>();
  for (const e of entries) {
    const empty = e.isDirectory() && (await readdir(join(dir, e.name)).catch(() => ['?'])).length === 0;
    if (!empty) used.add(e.name);
  }
  return used;
}

/** The data disks' mount units berth wrote in unitDir: unit name → label. */
export async function berthDiskUnits(unitDir: string): Promise<Map<string, string>> {
  const names = (await readdir(unitDir).catch(() => [] as string[])).filter((n) => n.endsWith('.mount'));
  const units = new Map<string, string>();
  for (const n of names) {
    const text = await readFile(join(unitDir, n), 'utf8').catch(() => '');
    const m = new RegExp(`^${DISK_MARK}=(.+)$`, 'm').exec(text);
    if (m) units.set(n, m[1]!);
  }
  return units;
}

export async function readAddFacts(device: string, deps: FactDeps): Promise<AddFacts> {
  const r = await deps.run(LSBLK_ARGV, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new DiskFactsError(`lsblk failed (exit status ${r.code}): ${r.stderr.trim()}`);
  return {
    devices: parseLsblk(r.stdout),
    device: await realpath(device).catch(() => device),
    srvInUse: await inUse(deps.srvDir ?? DISKS_ROOT),
    berthDisks: new Set((await berthDiskUnits(deps.unitDir)).values()),
  };
}
