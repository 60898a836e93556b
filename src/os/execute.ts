// Runs OS steps with the system's own tools: systemd-sysupdate for the transfers, mount for
// the other slot, systemctl for the apps and the reboot. Everything is passed in, so a test
// can point it at an image file and a directory instead of a disk and an ESP.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from '../exec/files.js';
import { carryOver } from './carry.js';
import { parseSlots, SLOT_PREFIX } from './entries.js';
import { readEntries } from './facts.js';
import { VERSION_RE } from './version.js';
import type { OsStep } from './plan.js';
import { type OsSource, renderTransfers } from './transfers.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface OsDeps {
  run: (argv: string[]) => Promise<RunResult>;
  sysupdate: string;
  /** Where berth writes the definitions it runs sysupdate with. */
  definitionsDir: string;
  espDir: string;
  /** berth's OS state on /var: failures, the apps running before an update. */
  stateDir: string;
  recipesDir: string;
  /** The running root, and where the other slot is mounted to carry settings into it. */
  root: string;
  mountDir: string;
  /** The disk holding the root slots (sfdisk reads its table). */
  disk: () => Promise<string>;
  pubring: string;
  log: (line: string) => void;
  /** Instead of the disk holding / and the ESP: an image file and a directory (tests, other disks). */
  target?: { disk: string; ukiDir: string };
}

export class OsStepError extends Error {}

export interface OsRunState {
  /** The version check-new found (and install installed). */
  found?: string;
}

/** One definitions directory per part, so the kernel image can be installed after the carry-over. */
const defsDir = (d: OsDeps, part: 'root' | 'kernel') => join(d.definitionsDir, part);

function sysupdateArgs(
  d: OsDeps,
  source: OsSource,
  verb: string[],
  part: 'root' | 'kernel' = 'root',
): string[] {
  return [
    d.sysupdate,
    `--definitions=${defsDir(d, part)}`,
    ...(source.kind === 'dir' ? [`--transfer-source=${source.path}`] : []),
    '--no-pager',
    ...verb,
  ];
}

async function must(d: OsDeps, argv: string[], what: string): Promise<RunResult> {
  const r = await d.run(argv);
  if (r.code !== 0)
    throw new OsStepError(
      `${what} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`,
    );
  return r;
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Every berth_* file in the directory must be listed in its SHA256SUMS, with that hash. */
async function verifySums(d: OsDeps, dir: string, signature: boolean): Promise<void> {
  const sums = await readFile(join(dir, 'SHA256SUMS'), 'utf8').catch(() => {
    throw new OsStepError(`${dir} has no SHA256SUMS: it is not an update folder made by npm run os-image`);
  });
  if (signature)
    await must(
      d,
      ['gpgv', '--keyring', d.pubring, join(dir, 'SHA256SUMS.gpg'), join(dir, 'SHA256SUMS')],
      `the signature check of ${join(dir, 'SHA256SUMS')}`,
    );
  const want = new Map<string, string>();
  for (const line of sums.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *]([^/]+)$/.exec(line.trim());
    if (m) want.set(m[2]!, m[1]!);
  }
  const files = (await readdir(dir)).filter((f) => f.startsWith('berth_'));
  if (files.length === 0) throw new OsStepError(`${dir} holds no berth_* update files`);
  for (const f of files.sort()) {
    const w = want.get(f);
    if (!w)
      throw new OsStepError(`${join(dir, f)} is not listed in SHA256SUMS: it may not belong to this update`);
    d.log(`checking ${f}`);
    if ((await sha256(join(dir, f))) !== w)
      throw new OsStepError(
        `${join(dir, f)} does not match its SHA256SUMS line: the copy is damaged; copy the update folder again`,
      );
  }
}

async function slotNode(d: OsDeps, version: string): Promise<string> {
  const disk = await d.disk();
  const r = await must(d, ['sfdisk', '--json', disk], `reading the partition table of ${disk}`);
  const slot = parseSlots(r.stdout).find((s) => s.label === `${SLOT_PREFIX}${version}`);
  if (!slot) throw new OsStepError(`no root slot labelled ${SLOT_PREFIX}${version} on ${disk}`);
  return slot.node;
}

async function activeApps(d: OsDeps): Promise<string[]> {
  const apps = (await readdir(d.recipesDir).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5));
  const active: string[] = [];
  for (const app of apps.sort())
    if ((await d.run(['systemctl', 'is-active', '--quiet', `berth-${app}.service`])).code === 0)
      active.push(app);
  return active;
}

export async function runOsStep(d: OsDeps, step: OsStep, st: OsRunState): Promise<void> {
  switch (step.kind) {
    case 'write-definitions': {
      const files = renderTransfers({
        source: step.source,
        tries: step.tries,
        verify: step.verify,
        ...d.target,
      });
      for (const part of ['root', 'kernel'] as const) {
        await rm(defsDir(d, part), { recursive: true, force: true });
        await mkdir(defsDir(d, part), { recursive: true });
      }
      for (const [name, text] of Object.entries(files))
        await atomicWrite(join(defsDir(d, name.includes('-uki') ? 'kernel' : 'root'), name), text, 0o644);
      return;
    }
    case 'verify-sums':
      return verifySums(d, step.dir, step.signature);
    case 'check-new': {
      // Asked of the kernel images: a version whose root was written but whose kernel image
      // was not (an update cut short) is still new, and the next update finishes it.
      const r = await d.run(sysupdateArgs(d, step.source, ['check-new'], 'kernel'));
      const found = r.stdout.trim().split('\n').pop()?.trim();
      if (r.code === 0 && found) {
        if (!VERSION_RE.test(found))
          throw new OsStepError(
            `the update source offers a version berth does not take: ${JSON.stringify(found)}`,
          );
        st.found = found;
        return;
      }
      // Exit 1 with only sysupdate's progress lines means "nothing newer"; anything else is a failure.
      const said = r.stderr
        .split('\n')
        .filter((l) => l.trim() && !/^(Discovering|Determining) .*…$/.test(l.trim()));
      if (r.code !== 1 || said.length > 0)
        throw new OsStepError(
          `looking for a newer version failed: ${said.slice(-3).join(' / ') || `exit ${r.code}`}`,
        );
      return;
    }
    case 'remember-apps': {
      if (!st.found) return;
      await mkdir(d.stateDir, { recursive: true });
      await atomicWrite(
        join(d.stateDir, 'apps-before-update'),
        (await activeApps(d)).map((a) => `${a}\n`).join(''),
        0o644,
      );
      return;
    }
    case 'install': {
      if (!st.found) return;
      const what =
        step.part === 'root' ? `the root filesystem of ${st.found}` : `the kernel image of ${st.found}`;
      await must(d, sysupdateArgs(d, step.source, ['update', st.found], step.part), `installing ${what}`);
      return;
    }
    case 'carry-over': {
      const version = step.version ?? st.found;
      if (!version) return;
      const node = await slotNode(d, version);
      await mkdir(d.mountDir, { recursive: true });
      // sysupdate wrote the slot through the whole disk: drop what the kernel cached of the
      // partition before (udev probed it when it was empty).
      await must(d, ['blockdev', '--flushbufs', node], `flushing ${node}`);
      await must(d, ['mount', '-t', 'ext4', node, d.mountDir], `mounting ${node} (version ${version})`);
      try {
        for (const what of await carryOver(d.root, d.mountDir)) d.log(`carried ${what}`);
      } catch (err) {
        throw new OsStepError(
          `carrying the settings into version ${version} failed: ${(err as Error).message}; ` +
            `it is not made bootable (berth os update tries again)`,
        );
      } finally {
        await must(d, ['umount', d.mountDir], `unmounting ${d.mountDir}`);
      }
      return;
    }
    case 'mark-failed': {
      // The file is found now: bless-boot may have renamed it since the plan was made.
      const dir = join(d.espDir, 'EFI', 'Linux');
      const file = (await readEntries(d.espDir)).find((e) => e.version === step.version)?.file;
      if (!file) throw new OsStepError(`no kernel image of version ${step.version} in ${dir}`);
      await mkdir(join(d.stateDir, 'failed'), { recursive: true });
      await writeFile(join(d.stateDir, 'failed', step.version), `${step.reason}\n`);
      const target = `berth_${step.version}+0-0.efi`;
      if (file !== target)
        await rename(join(dir, file), join(dir, target)).catch((err: Error) => {
          throw new OsStepError(`could not set aside ${join(dir, file)}: ${err.message}`);
        });
      return;
    }
    case 'reboot':
      await must(d, ['systemctl', 'reboot'], 'rebooting');
      return;
  }
}
