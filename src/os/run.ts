// Running the system's tools for berth os through berth's one process runner: argument
// arrays, no shell; output collected, and long commands (sysupdate writing a slot) shown
// line by line as they go.
import { type RunResult, spawnRunner } from '../process/run.js';

/** Writing a 2 GiB slot from a slow stick takes minutes; a tool hung for an hour is killed. */
const TOOL_TIMEOUT_MS = 60 * 60_000;

export function runTool(onLine?: (line: string) => void): (argv: string[]) => Promise<RunResult> {
  return (argv) =>
    spawnRunner(argv, {
      timeoutMs: TOOL_TIMEOUT_MS,
      ...(onLine ? { onStderrLine: (l: string) => l.trim() && onLine(l.trimEnd()) } : {}),
    });
}
