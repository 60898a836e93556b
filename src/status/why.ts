// Why an app fails, in one line: from its own output (or podman's), else from systemd.
// Used by status, by the supervisor's failure log and by apply's step errors.
import type { Config } from '../config.js';
import { unitOutputTarget } from '../context.js';
import type { UnitState } from '../systemd/manager.js';
import { type OutputSource, readAppOutput } from './output.js';
import { pickReason, systemdReason } from './reason.js';

/** Where this host's units send their output, for reading it back. */
export function outputSource(config: Pick<Config, 'dataDir'>): OutputSource {
  return { target: unitOutputTarget(), dataDir: config.dataDir };
}

export async function failureReason(app: string, st: UnitState, src: OutputSource): Promise<string> {
  return pickReason(await readAppOutput(app, src).catch(() => [])) ?? systemdReason(st);
}
