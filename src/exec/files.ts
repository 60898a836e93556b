// Files on disk, written so that a crash never leaves half a file: temp file in the
// same directory, fsync, rename, fsync the directory.
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { expandTemplate } from '../recipe/template.js';
import { appPaths, diskMountPoint } from '../render/paths.js';
import { diskWaitText } from '../disks/waiting.js';
import { fileMode, holdsSecret } from '../recipe/app.js';
import type { DesiredApp, DirSpec } from '../state/desired.js';
import { explainWriteError } from './space.js';

/** Writes path whole or not at all; its directory is made when missing (a fresh user unit dir). */
export async function atomicWrite(path: string, content: string, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(content);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw explainWriteError(err, path);
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** A directory only its owner can enter (for anything that may hold a secret value). */
export async function privateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw explainWriteError(err, path);
  });
  await chmod(path, 0o700);
}

/** Whether path is a mount point: it lies on another device than its parent. */
async function isMountPoint(path: string): Promise<boolean> {
  const [here, parent] = await Promise.all([stat(path).catch(() => undefined), stat(dirname(path))]);
  return here !== undefined && here.dev !== parent.dev;
}

/** A dir on a data disk is never made in the empty mount point (on the system disk). */
export class DiskMissingError extends Error {}

export async function makeDirs(
  dirs: readonly DirSpec[],
  mounted: (label: string) => Promise<boolean> = (l) => isMountPoint(diskMountPoint(l)),
): Promise<void> {
  for (const d of dirs) {
    if (d.disk && !(await mounted(d.disk)))
      throw new DiskMissingError(
        `${diskWaitText([d.disk])}: ${diskMountPoint(d.disk)} is not mounted, so ${d.path} is not made on the system disk; the app starts when the disk is back`,
      );
    await mkdir(d.path, { recursive: true, mode: d.mode }).catch((err: unknown) => {
      throw explainWriteError(err, d.path);
    });
    await chmod(d.path, d.mode);
    if (d.owner) await chown(d.path, d.owner.uid, d.owner.gid ?? d.owner.uid);
  }
}

/** A new secret's value: 24 random bytes, URL-safe base64 (32 characters). */
export const newSecretValue = () => randomBytes(24).toString('base64url');

/** Secrets are generated once and never overwritten, so data encrypted or hashed with them stays valid. */
export async function makeSecrets(secretsDir: string, names: readonly string[]): Promise<void> {
  await privateDir(secretsDir);
  for (const name of names) {
    const path = join(secretsDir, name);
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (!exists) await atomicWrite(path, newSecretValue(), 0o600);
  }
}

export async function readSecret(secretsDir: string, name: string): Promise<string> {
  return (await readFile(join(secretsDir, name), 'utf8')).trim();
}

/** The app's `files:` and its secret environment file, with substitutions done. */
export async function writeAppFiles(d: DesiredApp, dataDir: string, hostname: string): Promise<void> {
  const paths = appPaths(dataDir, d.app.name);
  const secrets = new Map<string, string>();
  for (const n of d.secrets) secrets.set(n, await readSecret(paths.secretsDir, n));
  const vars = { hostname, app: d.app.name, secret: (n: string) => secrets.get(n) ?? '' };
  if (d.app.files.some(holdsSecret)) await privateDir(paths.configDir);
  else if (d.app.files.length > 0) await mkdir(paths.configDir, { recursive: true, mode: 0o755 });
  for (const f of d.app.files)
    await atomicWrite(join(paths.configDir, f.name), expandTemplate(f.content, vars), fileMode(f));
  const secretEnv = d.app.env.filter((e) => e.secret);
  if (secretEnv.length > 0) {
    const lines = secretEnv.map((e) => `${e.name}=${expandTemplate(e.value, vars)}\n`).join('');
    await atomicWrite(paths.secretEnvFile, lines, 0o600);
  }
}
