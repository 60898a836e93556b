import type { SettingsFileName } from './folder.js';

// What an import of the BERTH partition does, as plain data: planned purely (plan.ts),
// printed in REPORT.txt and carried out by execute.ts. A password never appears in a step.

export type SettingsStep =
  | { kind: 'set-hostname'; file: string; hash: string; name: string }
  | { kind: 'set-timezone'; file: string; hash: string; zone: string }
  | { kind: 'set-password'; file: string }
  /**
   * Overwrites a password file on the partition, then leaves a comment in its place: every
   * one, at every boot, whether its password was taken or not (a clear text never stays there).
   */
  | { kind: 'erase-password'; file: string; found: PasswordFound }
  | { kind: 'write-keys'; file: string; hash: string; keys: string[] }
  | { kind: 'ssh-password-login'; on: boolean }
  | { kind: 'import-recipe'; file: string; hash: string; dest: string }
  /** notify.yaml or disks.yaml, checked, copied to the machine's own (beside the recipes dir). */
  | { kind: 'import-settings-file'; file: string; hash: string; name: SettingsFileName; dest: string }
  /** The recipe's file left the partition and the machine's copy is still the one imported. */
  | { kind: 'remove-recipe'; file: string; dest: string }
  /** The recipe's file left the partition, but the machine's copy changed or went: keep it, stop tracking. */
  | { kind: 'forget-recipe'; file: string; dest: string; reason: string }
  /** No password was ever set: a random one for the console only, to be changed at first login. */
  | { kind: 'one-time-password' }
  | { kind: 'retire-one-time-password' };

export type SettingsStepKind = SettingsStep['kind'];

/** What a password file held: a password that was taken, one that was not, or only comments. */
export type PasswordFound = 'taken' | 'not-taken' | 'comments-only';

const ERASED: Record<PasswordFound, string> = {
  taken: 'the plain-text password was erased from this partition',
  'not-taken':
    'its password was not taken (see below), and was erased from this partition all the same: write it again',
  'comments-only':
    'held no password line (a line starting with # is a comment), and was overwritten all the same',
};

/** One line per step, for REPORT.txt and the console. */
export function describeSettingsStep(s: SettingsStep, recipesDir: string): string {
  switch (s.kind) {
    case 'set-hostname':
      return `${s.file}: the machine is now called ${s.name} (${s.name}.local on the network)`;
    case 'set-timezone':
      return `${s.file}: the time zone is now ${s.zone}`;
    case 'set-password':
      return `${s.file}: root's password was set`;
    case 'erase-password':
      return `${s.file}: ${ERASED[s.found]}`;
    case 'write-keys':
      return `${s.file}: ${s.keys.length} SSH key${s.keys.length === 1 ? '' : 's'} may log in as root`;
    case 'ssh-password-login':
      return `password login over SSH is now ${s.on ? 'on' : 'off'}`;
    case 'import-recipe':
      return `${s.file}: imported as ${recipesDir}/${s.dest}`;
    case 'import-settings-file':
      return `${s.file}: taken as ${s.dest}`;
    case 'remove-recipe':
      return `${s.file} is gone from this partition: ${recipesDir}/${s.dest} was removed (the app stops; its data stays)`;
    case 'forget-recipe':
      return `${s.file} is gone from this partition; ${recipesDir}/${s.dest} ${s.reason}`;
    case 'one-time-password':
      return 'no password or key was given: a one-time root password is shown on the console';
    case 'retire-one-time-password':
      return 'the one-time password was replaced; the console no longer shows it';
  }
}
