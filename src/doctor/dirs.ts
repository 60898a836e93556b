// The directories berth writes (unit dir, data dir) and the roots app data may live under.
// Doctor changes nothing: a directory that is not there yet is fine when berth can create it.
import { constants } from 'node:fs';
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { CheckResult, DoctorDeps } from './types.js';

/** The path itself if it exists, or its nearest existing parent. */
export async function nearestExisting(
  path: string,
): Promise<{ path: string; exists: boolean; isDir: boolean }> {
  let p = posix.resolve(path);
  for (let i = 0; i < 256; i++) {
    const st = await stat(p).catch(() => undefined);
    if (st) return { path: p, exists: p === posix.resolve(path), isDir: st.isDirectory() };
    const up = posix.dirname(p);
    if (up === p) break;
    p = up;
  }
  return { path: '/', exists: false, isDir: true };
}

async function writable(deps: DoctorDeps, path: string): Promise<string | undefined> {
  try {
    await deps.access(path, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === 'EROFS' ? 'on a read-only filesystem' : `not writable (${e.code ?? e.message})`;
  }
}

export async function checkWritableDir(
  deps: DoctorDeps,
  id: string,
  label: string,
  dir: string,
): Promise<CheckResult> {
  const near = await nearestExisting(dir);
  if (near.exists && !near.isDir)
    return {
      id,
      status: 'fail',
      summary: `${label} ${dir} is not a directory`,
      fix: `Move ${dir} away, or point berth at another ${label}.`,
    };
  const problem = await writable(deps, near.path);
  if (problem)
    return {
      id,
      status: 'fail',
      summary: near.exists
        ? `${label} ${dir} is ${problem}`
        : `${label} ${dir} does not exist and ${near.path}, where berth would create it, is ${problem}`,
      fix: `Run berth as root on a writable filesystem, or point it at another ${label}.`,
    };
  return {
    id,
    status: 'ok',
    summary: near.exists
      ? `${label} ${dir} is writable`
      : `${label} ${dir} does not exist yet; berth creates it in ${near.path}, which is writable`,
  };
}

export async function checkAllowedRoots(deps: DoctorDeps): Promise<CheckResult> {
  const roots = deps.config.allowedRoots;
  const present: string[] = [];
  const missing: string[] = [];
  for (const r of roots) ((await stat(r).catch(() => undefined))?.isDirectory() ? present : missing).push(r);
  if (missing.length === 0)
    return {
      id: 'allowed-roots',
      status: 'ok',
      summary: `allowed roots present: ${present.join(', ') || '(none set)'}`,
    };
  return {
    id: 'allowed-roots',
    status: 'warn',
    summary: `allowed root${missing.length === 1 ? '' : 's'} missing: ${missing.join(', ')}${present.length ? ` (present: ${present.join(', ')})` : ''}`,
    fix: `Create ${missing.join(', ')} or mount the data disk there before a recipe keeps data under it.`,
  };
}
