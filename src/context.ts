// Small helpers several commands share.
import { existsSync } from 'node:fs';
import type { Config } from './config.js';
import type { App } from './recipe/app.js';
import type { CheckContext } from './recipe/check.js';
import type { RenderContext } from './render/unit.js';

export function checkContext(config: Config): CheckContext {
  return { allowedRoots: config.allowedRoots, dataDir: config.dataDir };
}

/** Optional devices that exist on this host (the only impure input to rendering). */
export function presentDevices(apps: readonly App[]): Set<string> {
  return new Set(
    apps.flatMap((a) => a.devices.filter((d) => d.optional && existsSync(d.path)).map((d) => d.path)),
  );
}

export function renderContext(config: Config, apps: readonly App[]): RenderContext {
  return {
    podman: config.podman,
    dataDir: config.dataDir,
    hostname: config.hostname,
    mode: config.user ? 'user' : 'system',
    presentDevices: presentDevices(apps),
  };
}
