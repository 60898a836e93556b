// Carries out a spin-down plan: `hdparm -S` per disk. A disk that refuses (a USB bridge that
// drops the command) is said, and the others still get theirs.
import type { Runner } from '../process/run.js';
import { type SpindownStep, spindownArgs } from './spindown.js';

export interface SpindownDeps {
  run: Runner;
  hdparm: string;
  log: (line: string) => void;
}

type Handler<K extends SpindownStep['kind']> = (
  deps: SpindownDeps,
  step: Extract<SpindownStep, { kind: K }>,
) => Promise<void>;

const HANDLERS: { [K in SpindownStep['kind']]: Handler<K> } = {
  'set-spindown': async (deps, s) => {
    const r = await deps.run([deps.hdparm, ...spindownArgs(s)], { timeoutMs: 15_000 });
    deps.log(
      r.code === 0
        ? `${s.disk}: spins down after ${s.shown} without use`
        : `${s.disk}: hdparm could not set its spin-down (${r.stderr.trim().split('\n').at(-1) || `exit ${r.code}`}); some USB enclosures do not pass it on`,
    );
  },
};

export async function applySpindown(deps: SpindownDeps, steps: readonly SpindownStep[]): Promise<void> {
  for (const s of steps) await HANDLERS[s.kind](deps, s);
}
