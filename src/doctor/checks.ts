// berth doctor's table of checks, and the runner: bounded parallelism, a timeout on every
// check, results in table order as plain data. Formatting is report.ts's business.
import { advertiserResult, decideAdvertiser } from './advertiser.js';
import { checkProgram, PROGRAMS } from './binaries.js';
import { checkAllowedRoots, checkWritableDir } from './dirs.js';
import { checkManager } from './manager.js';
import { checkNodeInRoot, nodeResult } from './node.js';
import { checkPodmanVersion, checkRuntime, podmanInfo } from './podman.js';
import { checkPorts } from './ports.js';
import { loadRecipeFacts, recipesResult } from './recipes.js';
import { checkImageSpace, checkSpace } from './space.js';
import type { Check, CheckResult, DoctorDeps, DoctorFacts } from './types.js';

const DEFAULT_TIMEOUT_MS = 20_000;
const PARALLEL = 4;

export const CHECKS: readonly Check[] = [
  { id: 'podman', live: true, run: (d) => checkPodmanVersion(d) },
  { id: 'runtime', live: true, timeoutMs: 150_000, run: (d, f) => checkRuntime(d, f) },
  ...PROGRAMS.map((p): Check => ({
    id: p.id,
    run: async (d, f) =>
      p.staticOnly && !d.staticOnly ? [] : checkProgram(d.root, p, (await f.recipes()).apps),
  })),
  {
    id: 'node',
    run: (d) =>
      d.staticOnly ? checkNodeInRoot(d.root) : Promise.resolve(nodeResult(d.nodeVersion, process.execPath)),
  },
  { id: 'systemd', live: true, timeoutMs: 15_000, run: (d) => checkManager(d) },
  { id: 'unit-dir', live: true, run: (d) => checkWritableDir(d, 'unit-dir', 'unit dir', d.config.unitDir) },
  { id: 'data-dir', live: true, run: (d) => checkWritableDir(d, 'data-dir', 'data dir', d.config.dataDir) },
  { id: 'allowed-roots', live: true, run: (d) => checkAllowedRoots(d) },
  { id: 'recipes', run: async (d, f) => recipesResult(d, await f.recipes()) },
  { id: 'advertiser', live: true, run: async (_d, f) => advertiserResult(await f.advertiser()) },
  { id: 'ports', live: true, run: (d, f) => checkPorts(d, f) },
  { id: 'space-data', live: true, run: (d) => checkSpace(d, 'space-data', 'data dir', d.config.dataDir) },
  { id: 'space-images', live: true, timeoutMs: 45_000, run: (d, f) => checkImageSpace(d, f) },
];

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

export function makeFacts(deps: DoctorDeps): DoctorFacts {
  return {
    recipes: once(() => loadRecipeFacts(deps)),
    advertiser: once(() => decideAdvertiser(deps)),
    podmanInfo: once(() => podmanInfo(deps)),
  };
}

async function runOne(check: Check, deps: DoctorDeps, facts: DoctorFacts): Promise<CheckResult[]> {
  const ms = check.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          id: check.id,
          status: 'fail',
          summary: `${check.id}: no answer within ${ms / 1000} s`,
          fix: `Find out what hangs (run berth doctor again; if it stays, look at ${check.id} by hand).`,
        }),
      ms,
    );
  });
  try {
    const r = await Promise.race([check.run(deps, facts), timeout]);
    return Array.isArray(r) ? r : [r];
  } catch (err) {
    return [
      {
        id: check.id,
        status: 'fail',
        summary: `${check.id}: the check itself failed: ${(err as Error).message}`,
        fix: 'Report this as a berth bug, with the message above.',
      },
    ];
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the checks that apply (live ones only without --root), at most PARALLEL at a time. */
export async function runChecks(deps: DoctorDeps, checks: readonly Check[] = CHECKS): Promise<CheckResult[]> {
  const todo = checks.filter((c) => !(deps.staticOnly && c.live));
  const facts = makeFacts(deps);
  const results: CheckResult[][] = new Array(todo.length);
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const i = next++;
      results[i] = await runOne(todo[i]!, deps, facts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, todo.length) }, worker));
  return results.flat();
}

export const doctorOk = (results: readonly CheckResult[]) => results.every((r) => r.status !== 'fail');
