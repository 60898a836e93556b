// The supervisor's passes: one at a time, requests during a pass share the single pass
// queued behind it, and a pass that failed is tried again by itself, later and later
// (seconds first, then minutes, capped), until one goes through: an image that could not
// be pulled at boot (registry down, network late) comes up without anyone touching it.
import type { Logger } from 'pino';
import { LockedError } from '../exec/lock.js';
import { retryDelay } from './failures.js';

export interface PassRetryOptions {
  /** Delay of the first retry after a failed pass; it doubles with each failure, up to maxRetryMs. */
  firstRetryMs: number;
  maxRetryMs: number;
  /** How long to wait before trying again when another apply holds the lock. */
  lockWaitMs: number;
}

export const DEFAULT_PASS_RETRY: PassRetryOptions = {
  firstRetryMs: 5_000,
  maxRetryMs: 600_000,
  lockWaitMs: 2_000,
};

/** What went wrong in a pass, as far as a retry is concerned. */
export interface PassTrouble {
  /** Apps whose steps failed (and that a later pass may put right). */
  apps: string[];
  /** Why the whole pass failed, when it did. */
  error?: string;
}

/** The retry that is scheduled: shown by `berth status`. */
export interface RetryState extends PassTrouble {
  /** Failed passes in a row. */
  attempt: number;
  /** When the next pass runs by itself (ms since the epoch). */
  at: number;
}

export interface PassStats {
  total: number;
  failed: number;
  lastSeconds?: number;
}

export interface PassQueueDeps<R> {
  /** One pass; throws when the whole pass failed. */
  pass(reason: string): Promise<R>;
  /** What in a pass's result wants a retry (no apps: nothing). */
  trouble(result: R): string[];
  log: Logger;
  options?: Partial<PassRetryOptions>;
  now?: () => number;
}

export interface PassQueue<R> {
  /** Runs a pass now (or right after the one under way); undefined when the whole pass failed. */
  applyNow(reason: string): Promise<R | undefined>;
  /** The next retry, while one is scheduled. */
  retry(): RetryState | undefined;
  /** Passes run and failed since the start, and how long the last one took. */
  stats(): PassStats;
  /** Resolves when no pass runs or waits. */
  idle(): Promise<void>;
  /** No more passes or retries. */
  close(): void;
}

export function passQueue<R>(deps: PassQueueDeps<R>): PassQueue<R> {
  const o = { ...DEFAULT_PASS_RETRY, ...deps.options };
  const now = deps.now ?? Date.now;
  // `chain` resolves to nothing, so no pass result (parsed recipes, YAML trees) outlives
  // its callers; `waiting` is the one pass queued behind it.
  let chain: Promise<unknown> = Promise.resolve();
  let waiting: Promise<R | undefined> | undefined;
  let closed = false;
  let failures = 0;
  let scheduled: { timer: NodeJS.Timeout; state: RetryState } | undefined;
  const stats: PassStats = { total: 0, failed: 0 };

  const unschedule = () => {
    if (scheduled) clearTimeout(scheduled.timer);
    scheduled = undefined;
  };

  /** After each pass: clear the retry when it went through, schedule the next one when not. */
  const settle = (trouble: PassTrouble, seconds: number) => {
    unschedule();
    stats.total++;
    stats.lastSeconds = seconds;
    if (trouble.apps.length === 0 && trouble.error === undefined) {
      if (failures > 0) deps.log.info({ after: failures }, 'a pass went through again');
      failures = 0;
      return;
    }
    stats.failed++;
    if (closed) return;
    const ms = retryDelay(failures++, o);
    const state: RetryState = { ...trouble, attempt: failures, at: now() + ms };
    deps.log.warn(
      { ...trouble, inMs: ms, attempt: failures },
      'the pass did not go through; trying again later',
    );
    const timer = setTimeout(() => {
      scheduled = undefined;
      void applyNow('retry after a failed pass');
    }, ms);
    timer.unref();
    scheduled = { timer, state };
  };

  const attempt = async (reason: string): Promise<R | undefined> => {
    for (;;) {
      const t0 = performance.now();
      const seconds = () => Math.round(performance.now() - t0) / 1000;
      try {
        const r = await deps.pass(reason);
        settle({ apps: deps.trouble(r) }, seconds());
        return r;
      } catch (err) {
        if (err instanceof LockedError && !closed) {
          // Another apply (the CLI) runs: this pass comes right after it.
          deps.log.warn(err.message);
          await new Promise((res) => setTimeout(res, o.lockWaitMs));
          if (!closed) continue;
        }
        const error = (err as Error).message;
        deps.log.error({ reason, error }, 'pass failed');
        settle({ apps: [], error }, seconds());
        return undefined;
      }
    }
  };

  const applyNow = (reason: string): Promise<R | undefined> => {
    if (closed) return Promise.resolve(undefined);
    if (waiting) return waiting;
    const p = chain.then(() => {
      waiting = undefined;
      return closed ? undefined : attempt(reason);
    });
    waiting = p;
    chain = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  };

  return {
    applyNow,
    retry: () => scheduled?.state,
    stats: () => ({ ...stats }),
    idle: async () => {
      await chain;
    },
    close() {
      closed = true;
      unschedule();
    },
  };
}
