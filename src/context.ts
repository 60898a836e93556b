// Small helpers several commands share.
import { existsSync } from 'node:fs';
import type { Config } from './config.js';
import type { App } from './recipe/app.js';
import type { CheckContext } from './recipe/check.js';
import type { RenderContext } from './render/unit.js';

export function checkContext(config: Config): CheckContext {
  return { allowedRoots: config.allowedRoots, dataDir: config.dataDir };
}

/** Optional devices that exist on this host (an impure input to rendering, like the output target). */
export function presentDevices(apps: readonly App[]): Set<string> {
  return new Set(
    apps.flatMap((a) => a.devices.filter((d) => d.optional && existsSync(d.path)).map((d) => d.path)),
  );
}

/** journald's socket; absent where no journald runs (a user manager in a private mount namespace). */
export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

/** Where units send their output here: the journal when journald runs, otherwise files berth reads. */
export function unitOutputTarget(exists: (path: string) => boolean = existsSync): 'journal' | 'file' {
  return exists(JOURNAL_SOCKET) ? 'journal' : 'file';
}

export function renderContext(
  config: Config,
  apps: readonly App[],
  unitOutput: 'journal' | 'file' = unitOutputTarget(),
): RenderContext {
  return {
    podman: config.podman,
    dataDir: config.dataDir,
    hostname: config.hostname,
    mode: config.user ? 'user' : 'system',
    presentDevices: presentDevices(apps),
    unitOutput,
  };
}
