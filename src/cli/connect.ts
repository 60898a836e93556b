// Connects the CLI to the real systemd manager and podman, with one clear sentence if it cannot.
import type { Config } from '../config.js';
import { Podman } from '../podman/podman.js';
import type { Runtime } from '../runtime.js';
import { DbusServiceManager, ManagerUnavailableError } from '../systemd/manager.js';
import { UserError } from './command.js';

export async function connectRuntime(config: Config): Promise<Runtime> {
  try {
    const systemd = await DbusServiceManager.connect({ user: config.user });
    return { config, systemd, podman: new Podman([config.podman]) };
  } catch (err) {
    if (err instanceof ManagerUnavailableError) throw new UserError(err.message);
    throw err;
  }
}

export async function withRuntime<T>(config: Config, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await connectRuntime(config);
  try {
    return await fn(rt);
  } finally {
    rt.systemd.close();
  }
}

/** An app name from the command line, checked before it reaches a unit name or podman. */
export function appArg(name: string | undefined): string {
  if (!name || !/^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/.test(name))
    throw new UserError(`'${name ?? ''}' is not an app name (lower-case letters, digits and dashes)`);
  return name;
}
