// The apply lock against real processes: a berth that holds it (another node process
// running the built lock code) keeps others out while it lives, and the lock is free the
// moment it is killed, reaped or not.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockedError, withLock } from '../../src/exec/lock.js';
import { repoRoot } from '../harness/appliance.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A process that takes the lock with berth's own code and holds it until killed. */
function holder(lock: string) {
  const code = `const { takeLock } = await import(${JSON.stringify(join(repoRoot(), 'dist', 'exec', 'lock.js'))});
await takeLock(${JSON.stringify(lock)}); process.stdout.write('held\\n'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const held = new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
  });
  return { child, held };
}

describe('the apply lock', () => {
  it('is refused while its holder lives, with a message naming it and no "internal error"', async () => {
    const lock = join(dir, 'a.lock');
    const h = holder(lock);
    await h.held;
    let ran = false;
    const err = await withLock(lock, async () => void (ran = true), { waitSec: 0.2 }).catch((e: Error) => e);
    expect(ran).toBe(false);
    expect(err).toBeInstanceOf(LockedError);
    expect((err as Error).message).toMatch(
      new RegExp(`another berth \\(pid ${h.child.pid}\\) is applying right now`),
    );
    h.child.kill('SIGKILL');
  });

  it('is taken over at once after its holder is killed, before the holder is reaped', async () => {
    const lock = join(dir, 'b.lock');
    const h = holder(lock);
    await h.held;
    // Kill and take over without waiting for the exit event (the zombie is not reaped yet).
    process.kill(h.child.pid!, 'SIGKILL');
    // With the default wait (1 s): the kernel releases the lock when the holder's pipe closes.
    expect(await withLock(lock, async () => 'mine')).toBe('mine');
  });

  it('is held by one of two concurrent takers only', async () => {
    const lock = join(dir, 'c.lock');
    let inside = 0;
    let most = 0;
    const take = () =>
      withLock(
        lock,
        async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 300));
          inside--;
        },
        { waitSec: 0 },
      ).catch((e: Error) => e);
    const results = await Promise.all([take(), take(), take()]);
    expect(most).toBe(1);
    expect(results.filter((r) => r instanceof LockedError).length).toBe(2);
  });
});
