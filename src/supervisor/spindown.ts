// disks.yaml's spin-down, applied by the supervisor after a pass when the file changed since
// it was last applied (so at start, and after an edit once `berth apply` or a recipe change
// runs a pass). Setting a drive's timer wakes it, so it is never re-applied unchanged.
import { createHash } from 'node:crypto';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { applySpindown } from '../disks/apply-spindown.js';
import { lsblkArgv, parseLsblk } from '../disks/lsblk.js';
import { readDisksSettings, spindownWanted } from '../disks/settings.js';
import { planSpindown, type SpindownDisk } from '../disks/spindown.js';
import type { Runner } from '../process/run.js';

const BY_ID = '/dev/disk/by-id';

/** /dev/disk/by-id names per kernel name: links only, no disk is read. */
async function byIdNames(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const n of await readdir(BY_ID).catch(() => [])) {
    const target = basename(await readlink(join(BY_ID, n)).catch(() => ''));
    if (target) out.set(target, [...(out.get(target) ?? []), n]);
  }
  return out;
}

async function presentDisks(run: Runner): Promise<SpindownDisk[]> {
  const r = await run(lsblkArgv(), { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`lsblk: ${r.stderr.trim() || `exit ${r.code}`}`);
  const ids = await byIdNames();
  return parseLsblk(r.stdout).map((d) => ({
    name: d.name,
    aliases: [...(d.serial ? [d.serial] : []), ...(ids.get(d.name) ?? [])],
    path: d.path,
    rotational: d.rotational,
  }));
}

export function spindownKeeper(file: string, run: Runner, log: Logger, hdparm = '/usr/sbin/hdparm') {
  let applied: string | undefined;
  return async (): Promise<void> => {
    const text = await readFile(file, 'utf8').catch(() => '');
    const hash = createHash('sha256').update(text).digest('hex');
    if (hash === applied) return;
    applied = hash;
    const { settings, diagnostics } = await readDisksSettings(file);
    for (const d of diagnostics) log.error({ file: d.file, line: d.line }, `disks.yaml: ${d.message}`);
    const wanted = settings ? spindownWanted(settings) : new Map<string, number>();
    if (wanted.size === 0) return;
    const plan = planSpindown(wanted, await presentDisks(run));
    for (const n of plan.notes) log.warn(n);
    await applySpindown({ run, hdparm, log: (l) => log.info(l) }, plan.steps);
  };
}
