// An update folder (a USB stick, a share) is read once: copied into a root-only directory
// on /var, and only the copy is checked and given to systemd-sysupdate. Whoever controls
// the folder cannot swap a file between berth's check and sysupdate's read. The signature is
// checked over the very SHA256SUMS bytes that are then parsed, and each file's hash is taken
// of the copy that sysupdate reads.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export class StageError extends Error {}

export interface StageDeps {
  /** gpgv over the staged SHA256SUMS and SHA256SUMS.gpg with the image's key; true if good. */
  checkSignature: (sums: string, signature: string) => Promise<{ ok: boolean; said: string }>;
  log: (line: string) => void;
}

/** A SHA256SUMS larger than this is not one npm run os-image wrote. */
const MAX_SUMS_BYTES = 64 * 1024;
const PAYLOAD_RE = /^berth_[0-9A-Za-z._~+-]+$/;

export async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** `<hash>  <name>` lines, by name: only berth_* names with no path. */
export function parseSums(text: string): Map<string, string> {
  const want = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m && PAYLOAD_RE.test(m[2]!)) want.set(m[2]!, m[1]!);
  }
  return want;
}

async function readSmall(path: string, what: string): Promise<Buffer> {
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isFile()) throw new StageError(what);
  if (st.size > MAX_SUMS_BYTES) throw new StageError(`${path} is ${st.size} bytes: not an update's file`);
  return readFile(path);
}

/** A fresh directory only root reads: nothing of an earlier run, nothing a user can put there. */
async function freshPrivateDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true, mode: 0o700 });
  await mkdir(dir, { mode: 0o700 });
  await chmod(dir, 0o700); // mkdir's mode is cut by the umask
}

async function copyChecked(from: string, to: string, name: string, hash: string, log: StageDeps['log']) {
  const st = await lstat(join(from, name)).catch(() => undefined);
  if (!st?.isFile())
    throw new StageError(`${join(from, name)} is listed in SHA256SUMS but is not a file in the folder`);
  log(`copying and checking ${name}`);
  await copyFile(join(from, name), join(to, name)).catch((err: NodeJS.ErrnoException) => {
    throw new StageError(
      `copying ${join(from, name)} into ${to} failed: ${err.code ?? err.message}` +
        (err.code === 'ENOSPC' ? ' (/var is full: the update needs room for one copy)' : ''),
    );
  });
  await chmod(join(to, name), 0o600);
  if ((await sha256(join(to, name))) !== hash)
    throw new StageError(
      `${join(from, name)} does not match its SHA256SUMS line: the copy is damaged; copy the update folder again`,
    );
}

/**
 * Copies the update folder `from` into `to` (made afresh, mode 0700) and checks the copy.
 * On any failure `to` is removed and nothing is left for sysupdate to read.
 */
export async function stageUpdate(d: StageDeps, from: string, to: string, signature: boolean): Promise<void> {
  await freshPrivateDir(to);
  try {
    const sums = await readSmall(
      join(from, 'SHA256SUMS'),
      `${from} has no SHA256SUMS: it is not an update folder made by npm run os-image`,
    );
    await writeFile(join(to, 'SHA256SUMS'), sums, { mode: 0o600 });
    if (signature) {
      const sig = await readSmall(
        join(from, 'SHA256SUMS.gpg'),
        `${from} has no SHA256SUMS.gpg: the update is not signed (the signature check of ${join(from, 'SHA256SUMS')} failed)`,
      );
      await writeFile(join(to, 'SHA256SUMS.gpg'), sig, { mode: 0o600 });
      const r = await d.checkSignature(join(to, 'SHA256SUMS'), join(to, 'SHA256SUMS.gpg'));
      if (!r.ok) throw new StageError(`the signature check of ${join(from, 'SHA256SUMS')} failed: ${r.said}`);
    }
    // The bytes just checked (and written where only root can change them), not a new read.
    const want = parseSums(sums.toString('utf8'));
    const present = (await readdir(from)).filter((f) => f.startsWith('berth_')).sort();
    for (const f of present)
      if (!want.has(f))
        throw new StageError(
          `${join(from, f)} is not listed in SHA256SUMS: it may not belong to this update`,
        );
    if (want.size === 0) throw new StageError(`${from} holds no berth_* update files`);
    for (const [name, hash] of [...want].sort(([a], [b]) => (a < b ? -1 : 1)))
      await copyChecked(from, to, name, hash, d.log);
  } catch (err) {
    await rm(to, { recursive: true, force: true });
    throw err;
  }
}
