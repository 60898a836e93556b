// sd_notify through systemd-notify: Node has no unix datagram sockets, and systemd 252's
// systemd-notify waits until the manager has read the message (no PID attribution race).
import { spawnRunner } from '../process/run.js';

export type Notifier = (...assignments: string[]) => Promise<void>;

export const systemdNotify: Notifier = async (...assignments) => {
  if (!process.env.NOTIFY_SOCKET) return;
  // Bounded: a manager that does not read must not hold up a pass (the watchdog notices instead).
  await spawnRunner(['systemd-notify', `--pid=${process.pid}`, ...assignments], { timeoutMs: 10_000 });
};

/** Watchdog pings at half the interval systemd asks for; undefined when it asks for none. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!usec || (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid)) return undefined;
  return Math.max(1000, Math.floor(usec / 2000));
}

/** Pings systemd's watchdog while berth runs; returns the stop. Nothing when no watchdog is asked for. */
export function startWatchdog(notify: Notifier, env: NodeJS.ProcessEnv = process.env): () => void {
  const ms = watchdogIntervalMs(env);
  if (!ms) return () => {};
  const t = setInterval(() => void notify('WATCHDOG=1'), ms);
  return () => clearInterval(t);
}
