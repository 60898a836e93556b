// Free space where berth keeps app data and where podman keeps images.
import { formatBytes } from '../exec/space.js';
import { nearestExisting } from './dirs.js';
import type { CheckResult, DoctorDeps, DoctorFacts } from './types.js';

export const LOW_SPACE_BYTES = 2 * 1024 ** 3;
export const DEFAULT_GRAPH_ROOT = '/var/lib/containers/storage';

export async function checkSpace(
  deps: DoctorDeps,
  id: string,
  label: string,
  dir: string,
): Promise<CheckResult> {
  const at = (await nearestExisting(dir)).path;
  try {
    const st = await deps.statfs(at);
    const free = Number(BigInt(st.bavail) * BigInt(st.bsize));
    const where = `${label} ${dir}${at === dir ? '' : ` (on ${at})`}`;
    if (free < LOW_SPACE_BYTES)
      return {
        id,
        status: 'warn',
        summary: `${where}: only ${formatBytes(free)} free`,
        fix: `Free space on the filesystem of ${at} (berth wants at least ${formatBytes(LOW_SPACE_BYTES)}).`,
      };
    return { id, status: 'ok', summary: `${where}: ${formatBytes(free)} free` };
  } catch (err) {
    return {
      id,
      status: 'warn',
      summary: `free space of ${label} ${dir} could not be read: ${(err as Error).message}`,
      fix: `Check the filesystem of ${at} (df ${at}).`,
    };
  }
}

export async function checkImageSpace(deps: DoctorDeps, facts: DoctorFacts): Promise<CheckResult> {
  const graphRoot = (await facts.podmanInfo())?.graphRoot ?? DEFAULT_GRAPH_ROOT;
  return checkSpace(deps, 'space-images', "podman's image store", graphRoot);
}
