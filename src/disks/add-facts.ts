// What planAdd needs to know of the machine, read: lsblk's tree, /srv's entries, berth's disk units.
import { readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runner } from '../process/run.js';
import { DISKS_ROOT } from '../render/paths.js';
import type { AddFacts } from './add.js';
import {
  chainTo,
  lsblkArgv,
  parseLsblk,
  parseWipefs,
  type Signature,
  wipefsProbeArgv,
  withChildren,
} from './lsblk.js';
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

/** What wipefs finds on each of the devices (a device it cannot read counts as holding something). */
async function probe(run: Runner, paths: readonly string[]): Promise<Map<string, Signature[]>> {
  const out = new Map<string, Signature[]>();
  for (const p of paths) {
    const r = await run(wipefsProbeArgv(p), { timeoutMs: 30_000 });
    if (r.code !== 0)
      throw new DiskFactsError(`wipefs could not read ${p} (exit status ${r.code}): ${r.stderr.trim()}`);
    out.set(p, parseWipefs(r.stdout));
  }
  return out;
}

export async function readAddFacts(device: string, deps: FactDeps): Promise<AddFacts> {
  const r = await deps.run(lsblkArgv(), { timeoutMs: 30_000 });
  if (r.code !== 0) throw new DiskFactsError(`lsblk failed (exit status ${r.code}): ${r.stderr.trim()}`);
  // Every device, not only whole disks: a loop device or a partition may be named.
  const devices = parseLsblk(r.stdout, true);
  const path = await realpath(device).catch(() => device);
  const target = chainTo(devices, path).at(-1);
  return {
    devices,
    device: path,
    srvInUse: await inUse(deps.srvDir ?? DISKS_ROOT),
    berthDisks: new Set((await berthDiskUnits(deps.unitDir)).values()),
    signatures: await probe(deps.run, target ? withChildren(target).map((x) => x.path) : []),
  };
}
