// The cheap part of doctor for `berth status`: programs present and the manager's reachability
// (which status already knows), no podman runs and no port scan. One line when doctor would fail.
import type { App } from '../recipe/app.js';
import { checkProgram, PROGRAMS } from './binaries.js';

export interface StatusLineInput {
  /** Whether the service manager answered. */
  managerReachable: boolean;
  /** The enabled, valid apps (they decide whether catatonit, netavark, aardvark-dns are required). */
  apps: readonly App[];
  /** config.podman, when podman's own path should be checked too. */
  podman?: string;
  /** '/' unless told otherwise. */
  root?: string;
}

/** "berth doctor: 2 problems (catatonit missing, …); run 'berth doctor'", or undefined when none. */
export async function doctorStatusLine(input: StatusLineInput): Promise<string | undefined> {
  const programs = PROGRAMS.flatMap((p) =>
    !p.staticOnly ? [p] : p.id === 'podman' && input.podman ? [{ ...p, paths: [input.podman] }] : [],
  );
  const results = await Promise.all(programs.map((p) => checkProgram(input.root ?? '/', p, input.apps)));
  const problems = [
    ...results.filter((r) => r.status === 'fail').map((r) => `${r.id} missing`),
    ...(input.managerReachable ? [] : ['systemd manager unreachable']),
  ];
  if (problems.length === 0) return undefined;
  return `berth doctor: ${problems.length} problem${problems.length === 1 ? '' : 's'} (${problems.join(', ')}); run 'berth doctor'`;
}
