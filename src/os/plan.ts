// The steps of an OS update or of going back by hand, as plain data: what to check first,
// what to install, what to carry and whether to reboot. Pure, tested with tables.
import type { OsStatus } from './status.js';
import type { OsSource } from './transfers.js';

export type OsStep =
  | { kind: 'write-definitions'; source: OsSource; tries: number; verify: boolean }
  | { kind: 'verify-sums'; dir: string; signature: boolean }
  | { kind: 'check-new'; source: OsSource }
  | { kind: 'remember-apps' }
  | { kind: 'install'; source: OsSource }
  | { kind: 'carry-over'; version?: string }
  | { kind: 'mark-failed'; version: string; file: string; reason: string }
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
  const notes = r.verify ? [] : ['signatures are not checked (--no-verify); SHA256SUMS still is'];
  const steps: OsStep[] = [{ kind: 'write-definitions', source: r.source, tries: r.tries, verify: r.verify }];
  // sysupdate checks a URL source's SHA256SUMS (and signature) itself, not a directory's.
  if (r.source.kind === 'dir') steps.push({ kind: 'verify-sums', dir: r.source.path, signature: r.verify });
  steps.push({ kind: 'check-new', source: r.source });
  if (r.checkOnly) return { steps, notes };
  steps.push({ kind: 'remember-apps' }, { kind: 'install', source: r.source }, { kind: 'carry-over' });
  if (r.reboot) steps.push({ kind: 'reboot' });
  return { steps, notes };
}

/** Back to the version in the other slot: it must have booted well before. */
export function planOsRollback(s: OsStatus, reboot: boolean): OsStep[] {
  const other = s.otherSlot?.version;
  if (!other) throw new OsPlanError('the other root slot holds no version: there is nothing to go back to');
  const entry = s.entries.find((e) => e.version === other);
  if (!entry)
    throw new OsPlanError(`version ${other} has no kernel image on the EFI partition: it cannot boot`);
  if (entry.state === 'bad')
    throw new OsPlanError(
      `version ${other} failed when it was tried; berth goes back only to a version that booted`,
    );
  const mine = s.entries.find((e) => e.version === s.version);
  if (!mine)
    throw new OsPlanError(
      `this version (${s.version}) has no kernel image on the EFI partition to set aside`,
    );
  const steps: OsStep[] = [
    { kind: 'carry-over', version: other },
    {
      kind: 'mark-failed',
      version: s.version,
      file: mine.file,
      reason: 'set aside by hand (berth os rollback)',
    },
  ];
  if (reboot) steps.push({ kind: 'reboot' });
  return steps;
}
