// The steps of an OS update or of going back by hand, as plain data: what to check first,
// what to install, what to carry and whether to reboot. Pure, tested with tables.
import type { OsStatus } from './status.js';
import type { OsSource } from './transfers.js';

export type OsStep =
  | { kind: 'write-definitions'; source: OsSource; tries: number; verify: boolean }
  /**
   * Copies an update folder into a root-only directory and checks the copy (SHA256SUMS, its
   * signature): sysupdate then reads only the copy, so nobody can swap a file after the check.
   */
  | { kind: 'stage'; from: string; to: string; signature: boolean }
  | { kind: 'check-new'; source: OsSource }
  | { kind: 'remember-apps' }
  /** root: the filesystem into the free slot; kernel: the kernel image, which makes it bootable. */
  | { kind: 'install'; part: 'root' | 'kernel'; source: OsSource }
  | { kind: 'carry-over'; version?: string }
  | { kind: 'clear-staging'; dir: string }
  | { kind: 'mark-failed'; version: string; reason: string }
  | { kind: 'reboot' };

export class OsPlanError extends Error {}

/** How the running version boots, or why that could not be read. */
export type BootFact = OsStatus['boot']['state'] | { unreadable: string };

export interface UpdateRequest {
  source?: OsSource;
  checkOnly: boolean;
  reboot: boolean;
  /** False with --no-verify. */
  verify: boolean;
  /** Whether the image carries a key to check signatures with. */
  hasKey: boolean;
  tries: number;
  /** An update writes only once this version is known good: the other slot is then free. */
  boot: BootFact;
  /** Root-only directory on /var where an update folder is copied and checked. */
  stagingDir: string;
}

/** Why an update would overwrite the last version known to be good, or undefined. */
function bootRefusal(boot: BootFact): string | undefined {
  if (typeof boot === 'object')
    return (
      `berth cannot tell whether this version was kept (${boot.unreadable}); ` +
      'it updates only a version known to be good, so that the other slot is not the last good one'
    );
  // sysupdate protects only the running version: while it is not known good, the other slot
  // may hold the last version known to be good, and writing there would leave nothing to fall back to.
  if (boot === 'trying')
    return 'this version is still on trial (its health check has not passed yet); update once it is kept: berth os status';
  if (boot === 'set-aside')
    return 'this version is set aside (berth os rollback): restart into the other version first';
  if (boot === 'unknown')
    return (
      'this version has no kernel image on the EFI partition (is /efi mounted?), so berth cannot tell ' +
      'that it was kept; it updates only a version known to be good: berth os status'
    );
  return undefined;
}

/**
 * Why the source cannot be trusted as asked, or undefined. A URL, http:// above all, is taken
 * only with its signature checked; a folder may go without (--no-verify), since the person
 * carried it to the machine, and its SHA256SUMS is still checked.
 */
function sourceRefusal(r: UpdateRequest & { source: OsSource }): string | undefined {
  if (r.source.kind === 'url') {
    if (!r.verify)
      return '--no-verify is refused for a URL (http:// or https://): anyone on the way could change what is downloaded; copy the update folder onto a stick and use --from DIR';
    if (!r.hasKey)
      return (
        'this image carries no key to check update signatures with (it was built without BERTH_OS_SIGNING_KEY), ' +
        'and a URL is taken only with signatures checked; copy the update folder onto a stick: berth os update --from DIR --no-verify'
      );
    return undefined;
  }
  if (r.verify && !r.hasKey)
    return (
      'this image carries no key to check update signatures with (it was built without BERTH_OS_SIGNING_KEY); ' +
      '--no-verify installs an update checked against its SHA256SUMS only'
    );
  return undefined;
}

export function planOsUpdate(r: UpdateRequest): { steps: OsStep[]; notes: string[] } {
  const given = r.source;
  if (!given)
    throw new OsPlanError(
      'no update source: this image was built without an update URL; give one: berth os update --from DIR|URL',
    );
  const refused = sourceRefusal({ ...r, source: given }) ?? (r.checkOnly ? undefined : bootRefusal(r.boot));
  if (refused) throw new OsPlanError(refused);
  const notes = r.verify ? [] : ['signatures are not checked (--no-verify); SHA256SUMS still is'];
  // A folder is read once, into the staging directory; sysupdate checks a URL's files itself.
  const source: OsSource = given.kind === 'dir' ? { kind: 'dir', path: r.stagingDir } : given;
  const steps: OsStep[] = [{ kind: 'write-definitions', source, tries: r.tries, verify: r.verify }];
  if (given.kind === 'dir')
    steps.push({ kind: 'stage', from: given.path, to: r.stagingDir, signature: r.verify });
  steps.push({ kind: 'check-new', source });
  // The kernel image goes last: the new version can boot only once its root is written and
  // the settings are carried into it.
  if (!r.checkOnly)
    steps.push(
      { kind: 'remember-apps' },
      { kind: 'install', part: 'root', source },
      { kind: 'carry-over' },
      { kind: 'install', part: 'kernel', source },
    );
  if (given.kind === 'dir') steps.push({ kind: 'clear-staging', dir: r.stagingDir });
  if (r.reboot && !r.checkOnly) steps.push({ kind: 'reboot' });
  return { steps, notes };
}

/** Back to the version in the other slot: it must have been kept (blessed) before. */
export function planOsRollback(s: OsStatus, reboot: boolean): OsStep[] {
  const other = s.otherSlot?.version;
  if (!other) throw new OsPlanError('the other root slot holds no version: there is nothing to go back to');
  const entry = s.entries.find((e) => e.version === other);
  if (!entry)
    throw new OsPlanError(`version ${other} has no kernel image on the EFI partition: it cannot boot`);
  if (entry.state === 'bad')
    throw new OsPlanError(
      `version ${other} failed when it was tried; berth goes back only to a version that was kept`,
    );
  if (entry.state === 'trying')
    throw new OsPlanError(
      `version ${other} has not proven itself yet (never kept); berth goes back only to a version that was kept`,
    );
  if (!s.entries.some((e) => e.version === s.version))
    throw new OsPlanError(
      `this version (${s.version}) has no kernel image on the EFI partition to set aside`,
    );
  const steps: OsStep[] = [
    { kind: 'carry-over', version: other },
    { kind: 'mark-failed', version: s.version, reason: 'set aside by hand (berth os rollback)' },
  ];
  if (reboot) steps.push({ kind: 'reboot' });
  return steps;
}
