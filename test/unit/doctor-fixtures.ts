// Shared setup for doctor's unit tests: a temp dir per test, and deps that are harmless by
// default (no podman, a manager that answers, plenty of space) for each test to fault.
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import type { DoctorDeps } from '../../src/doctor/types.js';

const made: string[] = [];
afterEach(async () => {
  for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
});

export async function tempDir(prefix = 'berth-doctor-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export async function put(file: string, text: string, mode?: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
  if (mode !== undefined) await chmod(file, mode);
}

export async function link(file: string, target: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await symlink(target, file);
}

/** Every program berth needs, as executable files under `root`, except `without`. */
export async function fakeRoot(root: string, without: string[] = []): Promise<void> {
  const programs: Record<string, string> = {
    podman: 'usr/bin/podman',
    conmon: 'usr/bin/conmon',
    runc: 'usr/bin/runc',
    catatonit: 'usr/bin/catatonit',
    netavark: 'usr/lib/podman/netavark',
    'aardvark-dns': 'usr/lib/podman/aardvark-dns',
    systemctl: 'usr/bin/systemctl',
    nsenter: 'usr/bin/nsenter',
    unshare: 'usr/bin/unshare',
    flock: 'usr/bin/flock',
    zstd: 'usr/bin/zstd',
  };
  for (const [name, path] of Object.entries(programs))
    if (!without.includes(name)) await put(join(root, path), '#!/bin/sh\n', 0o755);
  // As Debian lays them out: merged /usr, catatonit linked from podman's libexec dir (here absolutely,
  // to show links resolve inside the root, not on the host).
  await link(join(root, 'bin'), 'usr/bin');
  if (!without.includes('catatonit'))
    await link(join(root, 'usr/libexec/podman/catatonit'), '/usr/bin/catatonit');
}

export const recipe = (name: string, extra = '') => `name: ${name}
image: localhost/berth/busybox:1.35.0
command: [httpd, -f, -p, "80"]
${extra}`;

export function fakeDeps(over: Partial<DoctorDeps> & { dir: string }): DoctorDeps {
  const { dir, ...rest } = over;
  const config = resolveConfig(
    { recipes: join(dir, 'recipes'), 'data-dir': join(dir, 'data'), 'unit-dir': join(dir, 'units') },
    { BERTH_ALLOWED_ROOTS: join(dir, 'srv') },
  );
  return {
    root: '/',
    staticOnly: false,
    config,
    // The status page's port is counted by its own test (doctor-ports).
    env: { BERTH_WEB: 'off' },
    recipesDir: config.recipesDir,
    runner: async () => ({ code: 127, stdout: '', stderr: 'no podman in unit tests' }),
    connectManager: async () => ({ version: '252' }),
    avahiOnBus: async () => false,
    procRoot: join(dir, 'proc'),
    statfs: async () => ({ bavail: 10n * 1024n ** 3n, bsize: 1n }),
    access: async () => {},
    nodeVersion: '20.11.1',
    ...rest,
  };
}
