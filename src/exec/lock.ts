// One apply at a time on a host: a lock file holding the owner's PID. A lock left by a
// process that no longer exists (berth was killed) is taken over.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export class LockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && alive(pid))
        throw new LockedError(`another berth (pid ${pid}) is applying right now; try again when it is done`);
      await rm(path, { force: true });
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
