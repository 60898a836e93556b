// One apply at a time on a host. The lock is flock(2) on a file in the data dir, held by a
// small `flock` child whose stdin is a pipe from this process: when berth exits or is
// killed, the pipe closes, the child ends and the kernel releases the lock at once. No PID
// is trusted (a PID can be reused, and a killed holder may not be reaped yet).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export class LockedError extends Error {}

const BUSY = 75;

export interface LockOptions {
  /** How long to wait for a busy lock before giving up (a holder that just died needs a moment). */
  waitSec?: number;
  flock?: string;
}

/** Takes the lock, or throws LockedError. Resolves to the function that releases it. */
export async function takeLock(path: string, opts: LockOptions = {}): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  const child: ChildProcess = spawn(
    opts.flock ?? 'flock',
    ['--exclusive', `--timeout=${opts.waitSec ?? 1}`, `--conflict-exit-code=${BUSY}`, path].concat([
      '/bin/sh',
      '-c',
      'echo held; exec cat',
    ]),
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const held = await new Promise<boolean | Error>((resolve) => {
    let err = '';
    child.stdout!.once('data', () => resolve(true));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', (e) => resolve(new Error(`cannot run flock for the apply lock: ${e.message}`)));
    child.once('exit', (code) =>
      resolve(
        code === BUSY ? false : new Error(`apply lock ${path}: ${err.trim() || `flock exited ${code}`}`),
      ),
    );
  });
  if (held instanceof Error) throw held;
  if (!held) {
    const who = (await readFile(path, 'utf8').catch(() => '')).trim();
    throw new LockedError(
      `another berth${who ? ` (${who})` : ''} is applying right now; try again when it is done`,
    );
  }
  // Who holds it, for the message above only; the lock itself is the kernel's.
  await writeFile(path, `pid ${process.pid}\n`).catch(() => undefined);
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin!.end();
    });
}

export async function withLock<T>(path: string, fn: () => Promise<T>, opts?: LockOptions): Promise<T> {
  const release = await takeLock(path, opts);
  try {
    return await fn();
  } finally {
    await release();
  }
}
