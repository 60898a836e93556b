// Runs the steps planAdd made, in order, one handler per step kind (the compiler checks that
// none is missing). Programs run through the Runner, units through the ServiceManager.
import { join } from 'node:path';
import { writeUnitFile } from '../exec/units.js';
import type { Runner } from '../process/run.js';
import type { ServiceManager } from '../systemd/manager.js';
import type { DiskStep } from './add.js';

export interface DiskExecDeps {
  run: Runner;
  systemd: Pick<ServiceManager, 'reload' | 'enable' | 'start'>;
  /** Where system units live: /etc/systemd/system, which an OS update carries. */
  unitDir: string;
}

export class DiskStepError extends Error {}

/** Formatting a large disk takes a while; ext4's lazy init keeps it to seconds on most. */
const FORMAT_TIMEOUT_MS = 10 * 60_000;

type Handlers = { [K in DiskStep['kind']]: (s: Extract<DiskStep, { kind: K }>) => Promise<string> };

export function diskHandlers(deps: DiskExecDeps): Handlers {
  const write = async (s: { unit: { path: string; text: string } }) => {
    await writeUnitFile(deps.unitDir, s.unit.path, s.unit.text);
    return `wrote ${join(deps.unitDir, s.unit.path)}`;
  };
  const handlers = {
    'wipe-and-format': async (s) => {
      for (const argv of s.commands) {
        const r = await deps.run(argv, { timeoutMs: FORMAT_TIMEOUT_MS });
        if (r.code !== 0)
          throw new DiskStepError(
            `${argv[0]} failed (exit status ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').at(-1) ?? ''}`,
          );
      }
      return `formatted ${s.device} as ext4, labelled ${s.label}`;
    },
    'write-mount-unit': write,
    'write-device-timeout-dropin': write,
    'enable-and-start-mount': async (s) => {
      // Enabled before the reload: the manager learns the device's .wants link only at a
      // reload, and without it a disk plugged back in is not mounted.
      await deps.systemd.enable([s.unit]);
      await deps.systemd.reload();
      const r = await deps.systemd.start(s.unit);
      if (r !== 'done')
        throw new DiskStepError(`starting ${s.unit}: ${r}; 'systemctl status ${s.unit}' says why`);
      return `mounted it (${s.unit}), now and at every boot`;
    },
  } satisfies Handlers;
  return handlers;
}

/** Runs the steps in order; returns what each did. A failed step stops the rest (it throws). */
export async function runDiskSteps(steps: readonly DiskStep[], deps: DiskExecDeps): Promise<string[]> {
  const handlers = diskHandlers(deps);
  const done: string[] = [];
  for (const s of steps) done.push(await (handlers[s.kind] as (x: DiskStep) => Promise<string>)(s));
  return done;
}
