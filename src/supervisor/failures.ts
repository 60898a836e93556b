// App failures as the supervisor sees them in systemd's unit states: one error line (with
// why) when an app starts failing, however often systemd restarts it; one info line when it
// has stayed up again; and a retry, later and later, of an app systemd gave up on (its start
// limit: see START_LIMIT_BURST in render/unit.ts).
import type { Logger } from 'pino';
import { gaveUp, isFailing, systemdReason } from '../status/reason.js';
import type { UnitState } from '../systemd/manager.js';

export interface FailureOptions {
  /** Delay of the first retry after systemd gave up; it doubles with each retry, up to maxRetryMs. */
  firstRetryMs: number;
  maxRetryMs: number;
  /** How long an app must stay active after failing to count as recovered. */
  stableMs: number;
  /** Wait before reading the reason, so the app's last lines have reached its log. */
  settleMs: number;
}

export const DEFAULT_FAILURE_OPTIONS: FailureOptions = {
  firstRetryMs: 60_000,
  maxRetryMs: 3_600_000,
  stableMs: 30_000,
  settleMs: 500,
};

/** The delay before retry number `attempt` (0-based): exponential, capped. */
export function retryDelay(attempt: number, o: Pick<FailureOptions, 'firstRetryMs' | 'maxRetryMs'>): number {
  return Math.min(o.maxRetryMs, o.firstRetryMs * 2 ** Math.min(attempt, 30));
}

export interface FailureDeps {
  log: Logger;
  /** One line saying why the app fails. */
  reasonOf(app: string, st: UnitState): Promise<string>;
  /** Whether berth should start the app again after systemd gave up (enabled, restart policy not 'no'). */
  mayRetry(app: string): boolean;
  /** Starts the app again. */
  retry(app: string): Promise<void>;
  /** Told once when an app starts failing (with why) and once when it has recovered. */
  onChange?(app: string, change: 'failing' | 'recovered', reason?: string): void;
  options?: Partial<FailureOptions>;
}

interface Tracked {
  failing: boolean;
  restarts: number;
  attempt: number;
  retryTimer?: NodeJS.Timeout;
  stableTimer?: NodeJS.Timeout;
}

export interface FailureTracker {
  /** A unit state of the app (from systemd's PropertiesChanged, or read when following starts). */
  observe(app: string, st: UnitState): void;
  /** The app is gone or no longer followed. */
  forget(app: string): void;
  close(): void;
}

export function trackFailures(deps: FailureDeps): FailureTracker {
  const o = { ...DEFAULT_FAILURE_OPTIONS, ...deps.options };
  const apps = new Map<string, Tracked>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };
  const cancel = (t: NodeJS.Timeout | undefined) => {
    if (!t) return;
    clearTimeout(t);
    timers.delete(t);
  };

  const reportFailing = (app: string, st: UnitState) =>
    later(o.settleMs, () => {
      void deps
        .reasonOf(app, st)
        .catch(() => systemdReason(st))
        .then((reason) => {
          deps.log.error(
            { app, unit: st.name, reason, result: st.result, exitStatus: st.execMainStatus },
            `app ${app} is failing: ${reason}`,
          );
          deps.onChange?.(app, 'failing', reason);
        });
    });

  return {
    observe(app, st) {
      let t = apps.get(app);
      if (!t) apps.set(app, (t = { failing: false, restarts: st.nRestarts, attempt: 0 }));
      const restarted = st.nRestarts > t.restarts;
      t.restarts = st.nRestarts;
      if (isFailing(st) || restarted) {
        cancel(t.stableTimer);
        t.stableTimer = undefined;
        if (!t.failing) {
          t.failing = true;
          reportFailing(app, st);
        }
        if (gaveUp(st) && !t.retryTimer && deps.mayRetry(app)) {
          const ms = retryDelay(t.attempt++, o);
          deps.log.debug({ app, inMs: ms }, 'systemd stopped restarting the app; berth retries later');
          const tracked = t;
          tracked.retryTimer = later(ms, () => {
            tracked.retryTimer = undefined;
            if (apps.get(app) === tracked)
              deps
                .retry(app)
                .catch((err: Error) => deps.log.warn({ app, error: err.message }, 'retry failed'));
          });
        }
      }
      if (st.activeState === 'active') {
        // Up again (perhaps just restarted): recovered once it stays up.
        const tracked = t;
        if (t.failing && !t.stableTimer)
          t.stableTimer = later(o.stableMs, () => {
            tracked.stableTimer = undefined;
            if (!tracked.failing || apps.get(app) !== tracked) return;
            tracked.failing = false;
            tracked.attempt = 0;
            deps.log.info({ app }, `app ${app} recovered`);
            deps.onChange?.(app, 'recovered');
          });
      } else {
        cancel(t.stableTimer);
        t.stableTimer = undefined;
      }
      if (st.activeState === 'inactive' && !isFailing(st)) {
        // Stopped on purpose (berth stop, reset-failed before a start): no retry behind the user's back.
        cancel(t.retryTimer);
        t.retryTimer = undefined;
      }
    },
    forget(app) {
      const t = apps.get(app);
      if (!t) return;
      cancel(t.retryTimer);
      cancel(t.stableTimer);
      apps.delete(app);
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      apps.clear();
    },
  };
}
