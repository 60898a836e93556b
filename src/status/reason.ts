// Why an app is failing, in one line, picked from its last output lines. Pure, so it is
// tested with tables of lines. The lines come from the app (its container's stdout/stderr)
// and from podman itself (the unit's output: "Error: …" when a container cannot start).
import type { UnitState } from '../systemd/manager.js';

export interface OutputLine {
  text: string;
  /** Who wrote it: the app in its container, or podman/conmon (the unit's own output). */
  source: 'app' | 'podman';
  /** Known for the app's lines; the unit's own output does not say. */
  stream?: 'stdout' | 'stderr';
}

/** A reason longer than this is cut: it is one line of `berth status`. */
export const MAX_REASON = 300;

// Words and shapes of error lines across common programs: podman's "Error:", logrus'
// level=error, Python's "ValueError:", Go's "panic:", nginx's "[emerg]", "permission denied"…
const ERROR_LIKE =
  /\b(error|errors|fatal|panic|exception|traceback|failed|failure|cannot|can't|could not|couldn't|unable|denied|not found|no such|refused|invalid|not permitted|timed out|segmentation fault|abort(?:ed)?|emerg|crit|alert)\b|\w(?:Error|Exception):/i;
/** "0 errors", "no failures": a summary that says all is well. */
const ALL_WELL = /\b(?:0|no|zero) (?:errors?|failures?)\b/i;
/** podman's logrus lines when not on a terminal: time="…" level=warning msg="…". */
const LOGRUS = /^time="[^"]*" level=(\w+) msg="((?:[^"\\]|\\.)*)"/;
/** What podman prints that says nothing: a container ID (run -d), a container name (rm). */
const PODMAN_NOISE = /^(?:[0-9a-f]{64}|berth-[a-z0-9-]+)$/;

/**
 * Text that cannot drive a terminal: escape sequences (7- and 8-bit: OSC, CSI, others) and
 * control characters (C0, DEL, C1) removed, a tab made a space.
 */
export function terminalText(text: string): string {
  return text
    .replace(/(?:\u001b\]|\u009d)[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?/g, '')
    .replace(/(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\u001b./g, '')
    .replace(/\t/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}

/** Text fit for one terminal line: terminalText, trimmed. */
export const cleanText = (text: string): string => terminalText(text).trim();

interface Candidate {
  text: string;
  stderr: boolean;
  error: boolean;
}

function candidate(line: OutputLine): Candidate | undefined {
  let text = cleanText(line.text);
  if (!text) return undefined;
  if (line.source === 'podman' && PODMAN_NOISE.test(text)) return undefined;
  let level: string | undefined;
  const logrus = line.source === 'podman' ? LOGRUS.exec(text) : null;
  if (logrus) {
    level = logrus[1]!.toLowerCase();
    text = logrus[2]!.replace(/\\(.)/g, '$1');
  }
  const error = level
    ? ['error', 'fatal', 'panic'].includes(level)
    : ERROR_LIKE.test(text) && !ALL_WELL.test(text);
  return { text, stderr: line.stream !== 'stdout', error };
}

function cut(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

/**
 * The reason among the lines (oldest first): the last error-like line not on stdout, else the
 * last error-like line, else the last line not on stdout, else the last line.
 */
export function pickReason(lines: readonly OutputLine[]): string | undefined {
  const c = lines.map(candidate).filter((x): x is Candidate => x !== undefined);
  const pick =
    c.findLast((x) => x.error && x.stderr) ??
    c.findLast((x) => x.error) ??
    c.findLast((x) => x.stderr) ??
    c.at(-1);
  return pick && cut(pick.text);
}

/** The lines as shown to people: cleaned, podman's noise left out. */
export function displayLines(lines: readonly OutputLine[]): string[] {
  return lines.flatMap((l) => {
    const text = cleanText(l.text);
    return text && !(l.source === 'podman' && PODMAN_NOISE.test(text)) ? [text] : [];
  });
}

const RESULTS: Record<string, string> = {
  'start-limit-hit': 'restarted too often; systemd stopped restarting it',
  timeout: 'did not start or stop in time',
  signal: 'killed by a signal',
  'core-dump': 'crashed (core dump)',
  watchdog: 'stopped answering the watchdog',
  'oom-kill': 'killed for using too much memory',
  resources: 'systemd could not set up its resources (log file, directories)',
  protocol: 'did not report ready as expected',
};

/** When the output says nothing: what systemd knows. */
export function systemdReason(st: Pick<UnitState, 'result' | 'execMainStatus'>): string {
  if (st.result === 'exit-code') return `exited with status ${st.execMainStatus}`;
  return RESULTS[st.result] ?? `unit result: ${st.result}`;
}

/** Sub-states in which systemd is about to restart the app (the *-before-* ones since systemd 254). */
const RESTARTING = new Set(['auto-restart', 'failed-before-auto-restart', 'dead-before-auto-restart']);

export const isRestarting = (st: Pick<UnitState, 'subState'>) => RESTARTING.has(st.subState);

/** systemd gave up on the app: failed, with no restart coming. */
export const gaveUp = (st: Pick<UnitState, 'activeState' | 'subState'>) =>
  st.activeState === 'failed' && !isRestarting(st);

/** Failed, or between a crash and systemd's restart. */
export const isFailing = (st: Pick<UnitState, 'activeState' | 'subState'>) =>
  st.activeState === 'failed' || isRestarting(st);

/** What the last failed health check printed (its last line), while the check is failing. */
export function healthCheckOutput(
  h:
    | { Status: string; FailingStreak?: number; Log?: { ExitCode: number; Output: string }[] | null }
    | undefined,
): string | undefined {
  if (!h || h.Status === 'healthy' || !h.FailingStreak) return undefined;
  const failed = (h.Log ?? []).filter((l) => l.ExitCode !== 0).at(-1);
  if (!failed) return undefined;
  const lines = failed.Output.split('\n').map(cleanText).filter(Boolean);
  return (lines.at(-1) ?? `exit status ${failed.ExitCode}`).slice(0, MAX_REASON);
}
