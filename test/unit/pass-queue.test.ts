// The supervisor's pass queue: one pass at a time, and a failed pass tried again by itself,
// later and later, until one goes through. Fake timers: no waiting, no host tools.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LockedError } from '../../src/exec/lock.js';
import { passQueue } from '../../src/supervisor/passes.js';

const log = pino({ level: 'silent' });
/** A pass that fails with these apps (or throws) for each call in turn, then goes through. */
function scripted(outcomes: (string[] | Error)[]) {
  const reasons: string[] = [];
  const pass = (reason: string) => {
    reasons.push(reason);
    const o = outcomes.shift() ?? [];
    return o instanceof Error ? Promise.reject(o) : Promise.resolve(o);
  };
  return { reasons, pass };
}

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

describe('passQueue', () => {
  it('tries a failed pass again by itself: seconds first, doubling, until it goes through', async () => {
    const s = scripted([['web'], ['web'], ['web'], []]);
    const q = passQueue({ pass: s.pass, trouble: (r) => r, log, options: { firstRetryMs: 5000 } });
    await q.applyNow('start');
    expect(q.retry()).toEqual({ apps: ['web'], attempt: 1, at: 5000 });
    await vi.advanceTimersByTimeAsync(4999);
    expect(s.reasons).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.reasons).toEqual(['start', 'retry after a failed pass']);
    expect(q.retry()).toEqual({ apps: ['web'], attempt: 2, at: 15_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(q.retry()?.attempt).toBe(3);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(s.reasons).toHaveLength(4);
    expect(q.retry()).toBeUndefined();
    expect(q.stats()).toMatchObject({ total: 4, failed: 3 });
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(s.reasons).toHaveLength(4);
  });

  it('caps the delay', async () => {
    const s = scripted(Array.from({ length: 20 }, () => ['db']));
    const q = passQueue({
      pass: s.pass,
      trouble: (r) => r,
      log,
      options: { firstRetryMs: 1000, maxRetryMs: 8000 },
    });
    await q.applyNow('start');
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 8000);
    const at = Date.now();
    expect(q.retry()!.at - at).toBe(8000);
    q.close();
  });

  it('a pass that throws is retried too, and says why', async () => {
    const s = scripted([new Error('podman is not answering'), []]);
    const q = passQueue({ pass: s.pass, trouble: (r) => r, log });
    expect(await q.applyNow('start')).toBeUndefined();
    expect(q.retry()).toMatchObject({ error: 'podman is not answering', apps: [], attempt: 1 });
    await vi.advanceTimersByTimeAsync(5000);
    expect(q.retry()).toBeUndefined();
  });

  it('another pass in between (a recipe edit) that goes through clears the retry', async () => {
    const s = scripted([['web'], []]);
    const q = passQueue({ pass: s.pass, trouble: (r) => r, log });
    await q.applyNow('start');
    await q.applyNow('recipes changed');
    expect(q.retry()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(s.reasons).toEqual(['start', 'recipes changed']);
  });

  it('requests during a pass share the one pass queued behind it', async () => {
    let release!: () => void;
    let n = 0;
    const q = passQueue({
      pass: async () => {
        n++;
        if (n === 1) await new Promise<void>((r) => (release = r));
        return [];
      },
      trouble: (r: string[]) => r,
      log,
    });
    const first = q.applyNow('a');
    await vi.advanceTimersByTimeAsync(0);
    const second = q.applyNow('b');
    expect(q.applyNow('c')).toBe(second);
    release();
    await first;
    await second;
    expect(n).toBe(2);
  });

  it('waits for the lock another apply holds, then runs', async () => {
    const s = scripted([new LockedError('berth apply runs (pid 1)'), []]);
    const q = passQueue({ pass: s.pass, trouble: (r) => r, log, options: { lockWaitMs: 2000 } });
    const p = q.applyNow('start');
    await vi.advanceTimersByTimeAsync(2000);
    expect(await p).toEqual([]);
    expect(s.reasons).toEqual(['start', 'start']);
    expect(q.retry()).toBeUndefined();
  });

  it('once closed, nothing runs and nothing is retried', async () => {
    const s = scripted([['web']]);
    const q = passQueue({ pass: s.pass, trouble: (r) => r, log });
    await q.applyNow('start');
    q.close();
    expect(q.retry()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await q.applyNow('late')).toBeUndefined();
    expect(s.reasons).toEqual(['start']);
  });
});
