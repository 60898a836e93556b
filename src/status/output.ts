// Reading an app's recent output, wherever its unit sends it (see RenderContext.unitOutput):
// from the journal (the unit's own lines and the container's, by podman's journald log
// driver), or from the files in the app's `.log/` dir where no journald runs.
import { open, stat } from 'node:fs/promises';
import { type Runner, spawnRunner } from '../process/run.js';
import { appPaths, containerName, unitName } from '../render/paths.js';
import type { OutputLine } from './reason.js';

export interface OutputSource {
  target: 'journal' | 'file';
  dataDir: string;
  /** Runs journalctl; tests may pass another. */
  run?: Runner;
}

/** Bytes read from the end of a log file: plenty for the last few dozen lines. */
const TAIL_BYTES = 64 * 1024;

/** The last `bytes` of a file as whole lines (the first, cut one dropped); none if it does not exist. */
export async function tailLines(path: string, bytes = TAIL_BYTES): Promise<string[]> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return [];
  try {
    const size = (await fh.stat()).size;
    const start = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    if (start > 0) lines.shift();
    if (lines.at(-1) === '') lines.pop();
    return lines;
  } finally {
    await fh.close();
  }
}

const K8S_LINE = /^\S+ (stdout|stderr) ([PF]) ?(.*)$/;

/** podman's k8s-file log lines ("<time> stderr F <text>"; P marks a partial line continued in the next). */
export function parseK8sLog(lines: readonly string[]): OutputLine[] {
  const out: OutputLine[] = [];
  let partial = '';
  for (const l of lines) {
    const m = K8S_LINE.exec(l);
    if (!m) continue;
    if (m[2] === 'P') {
      partial += m[3]!;
      continue;
    }
    out.push({ text: partial + m[3]!, source: 'app', stream: m[1] as 'stdout' | 'stderr' });
    partial = '';
  }
  return out;
}

/**
 * The unit file's lines have no time, so they are placed by what podman printed: the lines
 * after the last container ID (printed by a `podman run -d` that worked) come after the
 * container's output; those before it, before.
 */
export function mergeFileOutput(unitLines: readonly string[], appLines: readonly OutputLine[]): OutputLine[] {
  const lastStart = unitLines.findLastIndex((l) => /^[0-9a-f]{64}$/.test(l.trim()));
  const podman = (ls: readonly string[]): OutputLine[] => ls.map((text) => ({ text, source: 'podman' }));
  return [
    ...podman(unitLines.slice(0, lastStart + 1)),
    ...appLines,
    ...podman(unitLines.slice(lastStart + 1)),
  ];
}

/**
 * journalctl matches for the app: its unit's processes (podman, conmon) or its container. Both
 * unit fields, as journald files a user manager's units under _SYSTEMD_USER_UNIT only when that
 * manager runs as user@.service (seen: under _SYSTEMD_UNIT in the sandbox).
 */
export function journalMatches(app: string): string[] {
  const unit = unitName(app);
  return [
    `_SYSTEMD_UNIT=${unit}`,
    '+',
    `_SYSTEMD_USER_UNIT=${unit}`,
    '+',
    `CONTAINER_NAME=${containerName(app)}`,
  ];
}

/** The journalctl argv that shows (or follows) the app's output as plain lines. */
export function journalArgv(app: string, opts: { follow: boolean; lines: number }): string[] {
  return [
    'journalctl',
    '--no-pager',
    '--output=cat',
    `--lines=${opts.lines}`,
    ...(opts.follow ? ['--follow'] : []),
    ...journalMatches(app),
  ];
}

/** One journal entry of `journalctl -o json`: MESSAGE is an array of bytes when not valid UTF-8. */
export function parseJournalEntry(json: string): OutputLine | undefined {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const m = e.MESSAGE;
  const text =
    typeof m === 'string' ? m : Array.isArray(m) ? Buffer.from(m as number[]).toString('utf8') : '';
  if (typeof e.CONTAINER_NAME !== 'string') return { text, source: 'podman' };
  // podman's journald log driver writes the container's stderr at priority 3, stdout at 6.
  return { text, source: 'app', stream: e.PRIORITY === '3' ? 'stderr' : 'stdout' };
}

async function journalOutput(app: string, src: OutputSource, max: number): Promise<OutputLine[]> {
  const run = src.run ?? spawnRunner;
  const r = await run(
    [
      'journalctl',
      '--no-pager',
      '--quiet',
      '--output=json',
      '--output-fields=MESSAGE,PRIORITY,CONTAINER_NAME',
      `--lines=${max}`,
      ...journalMatches(app),
    ],
    { timeoutMs: 15_000 },
  );
  return r.stdout
    .split('\n')
    .map(parseJournalEntry)
    .filter((l): l is OutputLine => l !== undefined);
}

/** The app's last `max` output lines, oldest first; none when nothing can be read. */
export async function readAppOutput(app: string, src: OutputSource, max = 50): Promise<OutputLine[]> {
  if (src.target === 'journal') return journalOutput(app, src, max).catch(() => []);
  const paths = appPaths(src.dataDir, app);
  const [unit, container] = await Promise.all([tailLines(paths.unitLog), tailLines(paths.containerLog)]);
  return mergeFileOutput(unit.slice(-max), parseK8sLog(container).slice(-max)).slice(-max);
}

/** Past this a log file is cut back to its last KEEP bytes. */
export const LOG_MAX_BYTES = 4 * 1024 * 1024;
const KEEP_BYTES = 512 * 1024;

/**
 * Keeps a log file that systemd or conmon appends to (O_APPEND) from growing without end:
 * when larger than `max`, it is cut to its last whole lines in place, so the writers' open
 * files stay valid. Something appended while it is cut may land before the kept tail.
 */
export async function boundLogFile(path: string, max = LOG_MAX_BYTES, keep = KEEP_BYTES): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (!st || st.size <= max) return false;
  const lines = await tailLines(path, keep);
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(0);
  } finally {
    await fh.close();
  }
  const ap = await open(path, 'a');
  try {
    await ap.write(lines.map((l) => `${l}\n`).join(''));
  } finally {
    await ap.close();
  }
  return true;
}

/** Bounds both of an app's log files (file output only; the journal bounds itself). */
export async function boundAppLogs(app: string, dataDir: string): Promise<void> {
  const paths = appPaths(dataDir, app);
  await Promise.all([boundLogFile(paths.unitLog), boundLogFile(paths.containerLog)]);
}

/**
 * Follows the app's two log files from their current ends, calling back with each new line
 * (the container's lines parsed), until the signal aborts. Polls: the files may not exist yet,
 * and are cut back in place now and then.
 */
export async function followAppFiles(
  app: string,
  dataDir: string,
  onLine: (line: OutputLine) => void,
  signal: AbortSignal,
  pollMs = 500,
): Promise<void> {
  const paths = appPaths(dataDir, app);
  const files = [
    {
      path: paths.unitLog,
      parse: (ls: string[]): OutputLine[] => ls.map((text) => ({ text, source: 'podman' })),
    },
    { path: paths.containerLog, parse: parseK8sLog },
  ].map((f) => ({ ...f, offset: -1, rest: '' }));
  while (!signal.aborted) {
    for (const f of files) {
      const size = (await stat(f.path).catch(() => undefined))?.size ?? 0;
      if (f.offset < 0 || size < f.offset) {
        // First look: start at the end. Cut back: start over.
        f.offset = f.offset < 0 ? size : 0;
        f.rest = '';
        continue;
      }
      if (size === f.offset) continue;
      const fh = await open(f.path, 'r');
      try {
        const buf = Buffer.alloc(size - f.offset);
        await fh.read(buf, 0, buf.length, f.offset);
        f.offset = size;
        const lines = (f.rest + buf.toString('utf8')).split('\n');
        f.rest = lines.pop() ?? '';
        for (const l of f.parse(lines)) onLine(l);
      } finally {
        await fh.close();
      }
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
