// The last pass's failed steps, per app, for `berth status`: whichever process applied
// (the supervisor or the CLI), status shows why an app's change did not go through. Kept
// beside the control socket, in the runtime dir (a tmpfs), so a full data disk does not
// hide its own message. Each pass replaces the file: an app with no failed step converged.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Config } from '../config.js';
import { describeStep } from '../plan/steps.js';
import type { ExecResult } from './executor.js';
import { atomicWrite } from './files.js';

export type LastFailures = Record<string, string>;

export const lastFailuresPath = (config: Pick<Config, 'socketPath'>) =>
  join(dirname(config.socketPath), 'last-apply.json');

export function failuresOf(result: ExecResult): LastFailures {
  const out: LastFailures = {};
  for (const f of result.failed)
    if ('app' in f.step) out[f.step.app] ??= `${describeStep(f.step)}: ${f.error}`;
  return out;
}

export async function recordFailures(path: string, result: ExecResult): Promise<void> {
  await atomicWrite(path, `${JSON.stringify(failuresOf(result))}\n`, 0o600);
}

export async function readFailures(path: string): Promise<LastFailures> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LastFailures;
  } catch {
    return {};
  }
}
