// The steps of an OS update or of going back by hand, as plain data: what to check first,
// what to install, what to carry and whether to reboot. Pure, tested with tables.
import type { OsStatus } from './status.js';
import type { OsSource } from './transfers.js';

export type OsStep =
  | { kind: 'write-definitions'; source: OsSource; tries: number; verify: boolean }
  | { kind: 'verify-sums'; dir: string; signature: boolean }
  | { kind: 'check-new'; source: OsSource }
  | { kind: 'remember-apps' }
  /** root: the filesystem into the free slot; kernel: the kernel image, which makes it bootable. */
  | { kind: 'install'; part: 'root' | 'kernel'; source: OsSource }
  | { kind: 'carry-over'; version?: string }
  | { kind: 'mark-failed'; version: string; reason: string }
  | { kind: 'reboot' };

export class OsPlanError extends Error {}

export interface UpdateRequest {
  source?: OsSource;
  checkOnly: boolean;
  reboot: boolean;
  /** False with --no-verify. */
  verify: boolean;
  /** Whether the image carries a key to check signatures with. */
  hasKey: boolean;
  tries: number;
  /** How the running version boots: an update waits until it is kept. */
  boot?: OsStatus['boot']['state'];
}

export function planOsUpdate(r: UpdateRequest): { steps: OsStep[]; notes: string[] } {
  if (!r.source)
    throw new OsPlanError(
      'no update source: this image was built without an update URL; give one: berth os update --from DIR|URL',
    );
  if (r.verify && !r.hasKey)
    throw new OsPlanError(
      'this image carries no key to check update signatures with (it was built without BERTH_OS_SIGNING_KEY); ' +
        '--no-verify installs an update checked against its SHA256SUMS only',
    );
  // sysupdate protects only the running version: while it is on trial, the other slot holds
  // the last version known to be good, and writing there would leave nothing to fall back to.
  if (r.boot === 'trying' && !r.checkOnly)
    throw new OsPlanError(
      'this version is still on trial (its health check has not passed yet); update once it is kept: berth os status',
    );
  const notes = r.verify ? [] : ['signatures are not checked (--no-verify); SHA256SUMS still is'];
  const steps: OsStep[] = [{ kind: 'write-definitions', source: r.source, tries: r.tries, verify: r.verify }];
  // sysupdate checks a URL source's SHA256SUMS (and signature) itself, not a directory's.
  if (r.source.kind === 'dir') steps.push({ kind: 'verify-sums', dir: r.source.path, signature: r.verify });
  steps.push({ kind: 'check-new', source: r.source });
  if (r.checkOnly) return { steps, notes };
  // The kernel image goes last: the new version can boot only once its root is written and
  // the settings are carried into it.
  steps.push(
    { kind: 'remember-apps' },
    { kind: 'install', part: 'root', source: r.source },
    { kind: 'carry-over' },
    { kind: 'install', part: 'kernel', source: r.source },
  );
  if (r.reboot) steps.push({ kind: 'reboot' });
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
