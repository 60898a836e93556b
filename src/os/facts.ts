// Reading the facts `berth os status` works from: this root's os-release, the kernel images
// on the ESP, the root slots in the partition table, and the reasons the health gate left.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BootEntry, parseEntry, parseSlots, type Slot } from './entries.js';
import type { OsFacts } from './status.js';
import { readOsRelease } from './version.js';
import type { RunResult } from './execute.js';

export interface FactSources {
  release: string;
  espDir: string;
  stateDir: string;
  run: (argv: string[]) => Promise<RunResult>;
  disk: () => Promise<string>;
}

export async function readEntries(espDir: string): Promise<BootEntry[]> {
  const names = await readdir(join(espDir, 'EFI', 'Linux')).catch(() => [] as string[]);
  return names.map(parseEntry).filter((e): e is BootEntry => e !== undefined);
}

/** The reasons the health gate wrote, by version (the first line of each file). */
async function readFailures(stateDir: string): Promise<Record<string, string>> {
  const failures: Record<string, string> = {};
  const dir = join(stateDir, 'failed');
  for (const v of await readdir(dir).catch(() => [] as string[]))
    failures[v] = (await readFile(join(dir, v), 'utf8').catch(() => '')).trim().split('\n')[0] ?? '';
  return failures;
}

/** The disk holding the running root: the parent of the partition mounted at /. */
export async function rootDisk(run: FactSources['run']): Promise<string> {
  const src = (await run(['findmnt', '--noheadings', '--output=SOURCE', '/'])).stdout.trim();
  const parent = (await run(['lsblk', '--noheadings', '--nodeps', '--output=PKNAME', src])).stdout.trim();
  if (!parent) throw new Error(`cannot tell which disk holds / (${src || 'no source'})`);
  return `/dev/${parent}`;
}

export async function readOsFacts(s: FactSources): Promise<OsFacts> {
  const rel = await readOsRelease(s.release);
  if (!rel.imageVersion)
    throw new Error(
      `${s.release} has no IMAGE_VERSION: this is not a berth appliance image (berth os works there)`,
    );
  let slots: Slot[] | undefined;
  try {
    const r = await s.run(['sfdisk', '--json', await s.disk()]);
    if (r.code === 0) slots = parseSlots(r.stdout);
  } catch {
    slots = undefined; // status still says what the ESP says
  }
  return {
    version: rel.imageVersion,
    entries: await readEntries(s.espDir),
    ...(slots ? { slots } : {}),
    failures: await readFailures(s.stateDir),
  };
}

/** What `berth status` needs, without the partition table: os-release, the ESP, the gate's reasons. */
export async function readOsFactsQuick(s: Omit<FactSources, 'run' | 'disk'>): Promise<OsFacts | undefined> {
  const rel = await readOsRelease(s.release).catch(() => undefined);
  if (!rel?.imageVersion || rel.imageId !== 'berth') return undefined;
  return {
    version: rel.imageVersion,
    entries: await readEntries(s.espDir),
    failures: await readFailures(s.stateDir),
  };
}
