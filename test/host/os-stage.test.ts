// Staging an update folder (src/os/stage.ts) on temp directories, with real gpg and gpgv: the
// copy is what is checked and what sysupdate reads, so a file swapped in the folder after the
// check (a share or stick someone else controls) never reaches the slot.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stageUpdate, type StageDeps } from '../../src/os/stage.js';

let work: string;
let gpgHome: string;
let pubring: string;
const gpg = (...a: string[]) =>
  execFileSync('gpg', ['--homedir', gpgHome, '--batch', '--quiet', ...a], { stdio: 'pipe' });
const hash = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** gpgv as berth runs it, with a hook for what happens right after the check. */
function deps(after?: () => Promise<void>): StageDeps {
  return {
    log: () => {},
    checkSignature: async (sums, sig) => {
      let r: { ok: boolean; said: string };
      try {
        execFileSync('gpgv', ['--keyring', pubring, sig, sums], { stdio: 'pipe' });
        r = { ok: true, said: '' };
      } catch (err) {
        r = { ok: false, said: String((err as { stderr?: Buffer }).stderr ?? err) };
      }
      await after?.();
      return r;
    },
  };
}

const ROOT = 'berth_0.2.0.root.raw.gz';
const UKI = 'berth_0.2.0.efi';
let from: string;
let to: string;

async function folder(files: Record<string, string>, sign = true) {
  await rm(from, { recursive: true, force: true });
  await mkdir(from);
  for (const [n, t] of Object.entries(files)) await writeFile(join(from, n), t);
  const sums = Object.entries(files).map(([n, t]) => `${hash(t)}  ${n}\n`);
  await writeFile(join(from, 'SHA256SUMS'), sums.join(''));
  if (sign) gpg('--yes', '--detach-sign', '--output', join(from, 'SHA256SUMS.gpg'), join(from, 'SHA256SUMS'));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-stage-'));
  gpgHome = join(work, 'gnupg');
  await mkdir(gpgHome, { mode: 0o700 });
  gpg('--passphrase', '', '--quick-gen-key', 'berth test <test@berth.invalid>', 'ed25519', 'sign', 'never');
  pubring = join(work, 'pubring.gpg');
  await writeFile(pubring, gpg('--export'));
  from = join(work, 'usb', 'os-update-0.2.0');
  to = join(work, 'var', 'os', 'staging');
  await mkdir(join(work, 'usb'));
}, 60_000);
afterAll(() => rm(work, { recursive: true, force: true }));
beforeEach(() => folder({ [ROOT]: 'the root filesystem', [UKI]: 'the kernel image' }));

describe('staging an update folder', () => {
  it('copies the listed files into a directory only root reads, checked', async () => {
    await stageUpdate(deps(), from, to, true);
    expect((await readdir(to)).sort()).toEqual(['SHA256SUMS', 'SHA256SUMS.gpg', UKI, ROOT].sort());
    expect(statSync(to).mode & 0o777).toBe(0o700);
    expect(statSync(join(to, ROOT)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(to, ROOT), 'utf8')).toBe('the root filesystem');
  });

  it('a file swapped in the folder after the check does not change the staged copy', async () => {
    await stageUpdate(deps(), from, to, true);
    await writeFile(join(from, ROOT), 'something else');
    expect(readFileSync(join(to, ROOT), 'utf8')).toBe('the root filesystem');
  });

  it('SHA256SUMS swapped right after its signature check is not the one used', async () => {
    // Whoever controls the share swaps both the sums and a payload file after gpgv ran.
    const swap = async () => {
      await writeFile(join(from, ROOT), 'evil');
      await writeFile(
        join(from, 'SHA256SUMS'),
        `${hash('evil')}  ${ROOT}\n${hash('the kernel image')}  ${UKI}\n`,
      );
    };
    await expect(stageUpdate(deps(swap), from, to, true)).rejects.toThrow(
      /berth_0\.2\.0\.root\.raw\.gz does not match its SHA256SUMS line/,
    );
    expect(existsSync(to)).toBe(false);
  });

  it.each([
    ['a changed SHA256SUMS', () => appendFile(join(from, 'SHA256SUMS'), '\n'), /signature check .* failed/],
    ['no signature', () => rm(join(from, 'SHA256SUMS.gpg')), /has no SHA256SUMS\.gpg/],
    ['a damaged file', () => appendFile(join(from, UKI), 'x'), /berth_0\.2\.0\.efi does not match/],
    [
      'an unlisted file',
      () => writeFile(join(from, 'berth_0.2.0.extra'), 'x'),
      /is not listed in SHA256SUMS/,
    ],
    ['a listed file missing', () => rm(join(from, UKI)), /listed in SHA256SUMS but is not a file/],
    ['no SHA256SUMS', () => rm(join(from, 'SHA256SUMS')), /has no SHA256SUMS:/],
  ] as const)('refuses %s and leaves nothing staged', async (_n, spoil, re) => {
    await stageUpdate(deps(), from, to, true); // an earlier run's copy is not kept either
    await spoil();
    await expect(stageUpdate(deps(), from, to, true)).rejects.toThrow(re);
    expect(existsSync(to)).toBe(false);
  });

  it('without signature checks (--no-verify) an unsigned folder is staged, its sums still checked', async () => {
    await folder({ [ROOT]: 'r', [UKI]: 'k' }, false);
    await stageUpdate(deps(), from, to, false);
    expect(readFileSync(join(to, UKI), 'utf8')).toBe('k');
    await appendFile(join(from, UKI), 'x');
    await expect(stageUpdate(deps(), from, to, false)).rejects.toThrow(/does not match/);
  });

  it('names in SHA256SUMS with a path are ignored (nothing is copied from outside the folder)', async () => {
    await writeFile(join(from, 'SHA256SUMS'), `${hash('x')}  ../../etc/berth_x\n`, { flag: 'a' });
    gpg('--yes', '--detach-sign', '--output', join(from, 'SHA256SUMS.gpg'), join(from, 'SHA256SUMS'));
    await stageUpdate(deps(), from, to, true);
    expect((await readdir(to)).filter((f) => f.startsWith('berth_')).sort()).toEqual([UKI, ROOT].sort());
  });
});
