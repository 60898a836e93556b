// The real outside world for doctor: this host's files, podman, D-Bus, /proc and statfs.
import { existsSync } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Config } from '../config.js';
import { spawnRunner } from '../process/run.js';
import { avahiOnSystemBus } from './advertiser.js';
import { connectRealManager } from './manager.js';
import type { DoctorDeps } from './types.js';

export interface DoctorOptions {
  config: Config;
  /** --root DIR: static checks of another root. */
  root?: string;
  /** --recipes as given on the command line (with --root: which recipes the root will run). */
  recipes?: string;
  env?: NodeJS.ProcessEnv;
}

/** With --root, the recipes are --recipes if given, else the root's own /etc/berth/recipes if it has one. */
function recipesDir(o: DoctorOptions, root: string | undefined): string | undefined {
  if (root === undefined) return o.config.recipesDir;
  if (o.recipes !== undefined) return posix.resolve(o.recipes);
  const own = posix.join(root, 'etc/berth/recipes');
  return existsSync(own) ? own : undefined;
}

export function hostDeps(o: DoctorOptions): DoctorDeps {
  const env = o.env ?? process.env;
  const root = o.root === undefined ? undefined : posix.resolve(o.root);
  return {
    root: root ?? '/',
    staticOnly: root !== undefined,
    config: o.config,
    env,
    recipesDir: recipesDir(o, root),
    runner: spawnRunner,
    connectManager: connectRealManager,
    avahiOnBus: () => avahiOnSystemBus(env),
    procRoot: '/proc',
    statfs: (p) => statfs(p),
    access: (p, mode) => access(p, mode),
    nodeVersion: process.versions.node,
  };
}
