// Reading the facts `berth os status` works from: this root's os-release, the kernel images
// on the ESP, the root slots in the partition table, and the reasons the health gate left.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BootEntry, parseEntry, parseSlots, type Slot } from './entries.js';
import type { OsFacts } from './status.js';
import { readOsRelease } from './version.js';
import type { RunResult } from '../process/run.js';

export interface FactSources {
  release: string;
  espDir: string;
  stateDir: string;
  run: (argv: string[]) => Promise<RunResult>;
  disk: () => Promise<string>;
  /** The key updates are checked with: an image without one takes only unsigned updates. */
  pubring: string;
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

export class OsFactsError extends Error {}

/** This root's version, or why it is not a berth image. */
async function berthVersion(release: string): Promise<{ version: string } | { why: string }> {
  let rel;
  try {
    rel = await readOsRelease(release);
  } catch (err) {
    return { why: `cannot read ${release} (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
  if (rel.imageId !== 'berth' || !rel.imageVersion)
    return { why: `${release} has no IMAGE_ID=berth with an IMAGE_VERSION` };
  return { version: rel.imageVersion };
}

/** What `berth status` needs, without the partition table: os-release, the ESP, the gate's reasons. */
export async function readOsFactsQuick(
  s: Pick<FactSources, 'release' | 'espDir' | 'stateDir'>,
): Promise<OsFacts | undefined> {
  const v = await berthVersion(s.release);
  return 'why' in v ? undefined : quickFacts(v.version, s);
}

async function quickFacts(version: string, s: Pick<FactSources, 'espDir' | 'stateDir'>): Promise<OsFacts> {
  return { version, entries: await readEntries(s.espDir), failures: await readFailures(s.stateDir) };
}

/** The quick facts plus the root slots and whether updates are signed (`berth os`). */
export async function readOsFacts(s: FactSources): Promise<OsFacts> {
  const v = await berthVersion(s.release);
  if ('why' in v)
    throw new OsFactsError(`${v.why}: this is not a berth appliance image (berth os works there)`);
  const quick = await quickFacts(v.version, s);
  let slots: Slot[] | undefined;
  try {
    const r = await s.run(['sfdisk', '--json', await s.disk()]);
    if (r.code === 0) slots = parseSlots(r.stdout);
  } catch {
    slots = undefined; // status still says what the ESP says
  }
  return { ...quick, ...(slots ? { slots } : {}), signed: existsSync(s.pubring) };
}
