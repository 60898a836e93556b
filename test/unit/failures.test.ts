// The supervisor's failure tracking, fed with the unit states systemd reports: one error line
// per failure however often the app restarts, one line on recovery, retries with back-off.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { retryDelay, trackFailures } from '../../src/supervisor/failures.js';
import type { UnitState } from '../../src/systemd/manager.js';

const state = (activeState: string, subState: string, nRestarts: number, result = 'success'): UnitState => ({
  name: 'berth-web.service',
  loadState: 'loaded',
  activeState,
  subState,
  result,
  nRestarts,
  execMainStatus: result === 'exit-code' ? 3 : 0,
  activeEnterUsec: 0,
  unitFileState: 'enabled',
  needDaemonReload: false,
});

function setup(mayRetry = true) {
  const lines: { level: number; msg: string; app?: string; reason?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const retried: string[] = [];
  const tracker = trackFailures({
    log: pino({ level: 'debug' }, sink),
    reasonOf: async () => 'cannot open /data/db.sqlite: permission denied',
    mayRetry: () => mayRetry,
    retry: async (app) => void retried.push(app),
    options: { firstRetryMs: 1000, maxRetryMs: 4000, stableMs: 5000, settleMs: 10 },
  });
  const at = (level: number) => lines.filter((l) => l.level === level);
  return { tracker, lines, retried, errors: () => at(50), infos: () => at(30) };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('failure tracking', () => {
  it('logs one error with the reason across many restarts, and one line when the app stays up', async () => {
    const { tracker, errors, infos } = setup();
    tracker.observe('web', state('active', 'running', 0));
    for (let n = 1; n <= 6; n++) {
      tracker.observe('web', state('activating', 'auto-restart', n - 1, 'exit-code'));
      tracker.observe('web', state('active', 'running', n));
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatchObject({
      app: 'web',
      reason: 'cannot open /data/db.sqlite: permission denied',
    });
    expect(errors()[0]!.msg).toBe('app web is failing: cannot open /data/db.sqlite: permission denied');
    expect(infos()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(infos().map((l) => l.msg)).toEqual(['app web recovered']);
    // A new failure after recovering is a new error line.
    tracker.observe('web', state('activating', 'auto-restart', 6, 'exit-code'));
    await vi.advanceTimersByTimeAsync(100);
    expect(errors()).toHaveLength(2);
    tracker.close();
  });

  it('a restart seen only by its counter counts as failing', async () => {
    const { tracker, errors } = setup();
    tracker.observe('web', state('active', 'running', 2));
    tracker.observe('web', state('active', 'running', 3));
    await vi.advanceTimersByTimeAsync(100);
    expect(errors()).toHaveLength(1);
    tracker.close();
  });

  it('an app already failed when first seen counts as failing', async () => {
    const { tracker, errors } = setup(false);
    tracker.observe('web', state('failed', 'failed', 5, 'exit-code'));
    await vi.advanceTimersByTimeAsync(100);
    expect(errors()).toHaveLength(1);
    tracker.close();
  });

  it('retries an app systemd gave up on, later each time, and not once stopped on purpose', async () => {
    const { tracker, retried, errors } = setup();
    tracker.observe('web', state('failed', 'failed', 5, 'exit-code'));
    await vi.advanceTimersByTimeAsync(999);
    expect(retried).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(retried).toEqual(['web']);
    // The retry: reset-failed (inactive), start, fails again; the next wait is twice as long.
    tracker.observe('web', state('inactive', 'dead', 0));
    tracker.observe('web', state('failed', 'failed', 5, 'exit-code'));
    await vi.advanceTimersByTimeAsync(1999);
    expect(retried).toEqual(['web']);
    await vi.advanceTimersByTimeAsync(1);
    expect(retried).toEqual(['web', 'web']);
    // Stopped by the user while a retry waits: no retry.
    tracker.observe('web', state('failed', 'failed', 5, 'exit-code'));
    tracker.observe('web', state('inactive', 'dead', 0));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(retried).toEqual(['web', 'web']);
    expect(errors()).toHaveLength(1);
    tracker.close();
  });

  it('does not retry an app that may not be restarted, nor a forgotten one', async () => {
    const no = setup(false);
    no.tracker.observe('web', state('failed', 'failed', 0, 'exit-code'));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(no.retried).toEqual([]);
    const gone = setup();
    gone.tracker.observe('web', state('failed', 'failed', 0, 'exit-code'));
    gone.tracker.forget('web');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(gone.retried).toEqual([]);
  });

  it('backs off exponentially up to the cap', () => {
    const o = { firstRetryMs: 60_000, maxRetryMs: 3_600_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((n) => retryDelay(n, o) / 60_000)).toEqual([
      1, 2, 4, 8, 16, 32, 60, 60, 60,
    ]);
  });
});
