// berth doctor's plain data: what each check gets (every outside thing injected, so tests
// can put a fault anywhere) and what it returns.
import type { AdvertiserChoice } from '../advertise/choose.js';
import type { Config } from '../config.js';
import type { Runner } from '../process/run.js';
import type { App } from '../recipe/app.js';
import type { RecipeSet } from '../recipe/load.js';
import type { ManagerOptions } from '../systemd/manager.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  id: string;
  status: CheckStatus;
  summary: string;
  /** One sentence of what to do; set for every warn and fail. */
  fix?: string;
}

/** A manager that answered; doctor only reads its version and lets go. */
export interface ReachableManager {
  version?: string;
}

export interface StatFs {
  bavail: number | bigint;
  bsize: number | bigint;
}

export interface DoctorDeps {
  /** '/' for this host, or the directory given with --root. */
  root: string;
  /** --root: files under the root only; no D-Bus, no podman runs, no ports, no dirs. */
  staticOnly: boolean;
  config: Config;
  env: NodeJS.ProcessEnv;
  /** The recipes to read (a host path); undefined when there are none to check. */
  recipesDir: string | undefined;
  runner: Runner;
  /** Throws ManagerUnavailableError (or any error) when the manager is not there. */
  connectManager: (opts: ManagerOptions) => Promise<ReachableManager>;
  avahiOnBus: () => Promise<boolean>;
  /** Normally /proc; a fake tree in tests. */
  procRoot: string;
  statfs: (path: string) => Promise<StatFs>;
  /** fs.promises.access: resolves when the path is accessible with the mode. */
  access: (path: string, mode?: number) => Promise<void>;
  /** The Node.js version running berth, e.g. '20.11.1'. */
  nodeVersion: string;
}

export interface RecipeFacts {
  dir?: string;
  set?: RecipeSet;
  /** Why the recipes could not be read at all. */
  error?: string;
  /** The enabled, valid apps: what berth would run. */
  apps: App[];
}

export interface PodmanInfo {
  graphRoot?: string;
  ociRuntime?: string;
}

/** Facts several checks share, each found once per run. */
export interface DoctorFacts {
  recipes(): Promise<RecipeFacts>;
  advertiser(): Promise<AdvertiserChoice>;
  podmanInfo(): Promise<PodmanInfo | undefined>;
}

export interface Check {
  id: string;
  /** Needs the live host (D-Bus, podman runs, /proc, dirs): skipped with --root. */
  live?: boolean;
  timeoutMs?: number;
  run(deps: DoctorDeps, facts: DoctorFacts): Promise<CheckResult | CheckResult[]>;
}
