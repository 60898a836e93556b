// Runs OS steps with the system's own tools: systemd-sysupdate for the transfers, mount for
// the other slot, systemctl for the apps and the reboot. Everything is passed in, so a test
// can point it at an image file and a directory instead of a disk and an ESP.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from '../exec/files.js';
import { carryOver } from './carry.js';
import { parseSlots, SLOT_PREFIX } from './entries.js';
import { readEntries } from './facts.js';
import { VERSION_RE } from './version.js';
import type { OsStep } from './plan.js';
import type { RunResult } from '../process/run.js';
import { stageUpdate, StageError } from './stage.js';
import { type OsSource, renderTransfers } from './transfers.js';

export interface OsDeps {
  run: (argv: string[]) => Promise<RunResult>;
  sysupdate: string;
  /** Where berth writes the definitions it runs sysupdate with. */
  definitionsDir: string;
  espDir: string;
  /** berth's OS state on /var: failures, the apps running before an update. */
  stateDir: string;
  /** The apps berth runs, by name, from berth's own recipe loader (as the health gate asks it). */
  apps: () => Promise<string[]>;
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

async function slotNode(d: OsDeps, version: string): Promise<string> {
  const disk = await d.disk();
  const r = await must(d, ['sfdisk', '--json', disk], `reading the partition table of ${disk}`);
  const slot = parseSlots(r.stdout).find((s) => s.label === `${SLOT_PREFIX}${version}`);
  if (!slot) throw new OsStepError(`no root slot labelled ${SLOT_PREFIX}${version} on ${disk}`);
  return slot.node;
}

async function activeApps(d: OsDeps): Promise<string[]> {
  const active: string[] = [];
  for (const app of [...(await d.apps())].sort())
    if ((await d.run(['systemctl', 'is-active', '--quiet', `berth-${app}.service`])).code === 0)
      active.push(app);
  return active;
}

type Handler<K extends OsStep['kind']> = (
  d: OsDeps,
  step: Extract<OsStep, { kind: K }>,
  st: OsRunState,
) => Promise<void>;

/** One handler per step kind: a step kind without one does not compile. */
export type OsStepHandlers = { [K in OsStep['kind']]: Handler<K> };

async function writeDefinitions(d: OsDeps, step: Extract<OsStep, { kind: 'write-definitions' }>) {
  const files = renderTransfers({ source: step.source, tries: step.tries, verify: step.verify, ...d.target });
  for (const part of ['root', 'kernel'] as const) {
    await rm(defsDir(d, part), { recursive: true, force: true });
    await mkdir(defsDir(d, part), { recursive: true });
  }
  for (const [name, text] of Object.entries(files))
    await atomicWrite(join(defsDir(d, name.includes('-uki') ? 'kernel' : 'root'), name), text, 0o644);
}

async function checkNew(d: OsDeps, step: Extract<OsStep, { kind: 'check-new' }>, st: OsRunState) {
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
  if (r.code === 1 && nothingNewer(r.stderr)) return;
  const said = r.stderr.split('\n').filter((l) => l.trim() && !PROGRESS_RE.test(l.trim()));
  throw new OsStepError(
    `looking for a newer version failed: ${said.slice(-3).join(' / ') || `exit ${r.code}`}`,
  );
}

// \u2026 is '…': the bundle stays ASCII (see scripts/build.js).
const PROGRESS_RE = /^(Discovering|Determining) .*\u2026$/;

/**
 * check-new exits 1 both when nothing is newer and on an error: nothing is newer when it said
 * only its progress lines, or (from a URL, after systemd-pull's own lines on fetching and
 * checking SHA256SUMS) got to its last step and named no failure on the way.
 */
export function nothingNewer(stderr: string): boolean {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.every((l) => PROGRESS_RE.test(l))) return true;
  const failed = lines.some((l) => !l.startsWith('gpg:') && /fail|error|cannot|refus|invalid/i.test(l));
  return !failed && lines.at(-1) === 'Determining available update sets…';
}

async function carry(d: OsDeps, step: Extract<OsStep, { kind: 'carry-over' }>, st: OsRunState) {
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
}

async function markFailed(d: OsDeps, step: Extract<OsStep, { kind: 'mark-failed' }>) {
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
}

const handlers: OsStepHandlers = {
  'write-definitions': writeDefinitions,
  stage: (d, step) =>
    stageUpdate(
      {
        log: d.log,
        checkSignature: async (sums, sig) => {
          const r = await d.run(['gpgv', '--keyring', d.pubring, sig, sums]);
          return { ok: r.code === 0, said: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ') };
        },
      },
      step.from,
      step.to,
      step.signature,
    ).catch((err: unknown) => {
      throw err instanceof StageError ? new OsStepError(err.message) : err;
    }),
  'check-new': checkNew,
  'remember-apps': async (d, _step, st) => {
    if (!st.found) return;
    await mkdir(d.stateDir, { recursive: true });
    const apps = await activeApps(d);
    await atomicWrite(join(d.stateDir, 'apps-before-update'), apps.map((a) => `${a}\n`).join(''), 0o644);
  },
  install: async (d, step, st) => {
    if (!st.found) return;
    const what =
      step.part === 'root' ? `the root filesystem of ${st.found}` : `the kernel image of ${st.found}`;
    await must(d, sysupdateArgs(d, step.source, ['update', st.found], step.part), `installing ${what}`);
  },
  'carry-over': carry,
  'clear-staging': (_d, step) => rm(step.dir, { recursive: true, force: true }),
  'mark-failed': markFailed,
  reboot: async (d) => {
    await must(d, ['systemctl', 'reboot'], 'rebooting');
  },
};

export function runOsStep(d: OsDeps, step: OsStep, st: OsRunState): Promise<void> {
  // The map is complete by its type; this narrows the one handler to the step it is given.
  const handler = handlers[step.kind] as (d: OsDeps, s: OsStep, st: OsRunState) => Promise<void>;
  return handler(d, step, st);
}
