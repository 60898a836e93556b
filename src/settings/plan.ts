// The pure part of an import: what the partition holds now, what earlier imports took and
// what the machine has, in; the steps that bring the machine up to date, out. A file is
// imported only when it changed since it was last imported, so a setting changed on the
// machine itself is not undone at every boot.
import type { SettingsFileName } from './folder.js';
import type { PasswordFound, SettingsStep } from './steps.js';

export interface Sourced<T> {
  file: string;
  hash: string;
  value: T;
}

/** What earlier imports took (kept in the data dir). */
export interface ImportRecord {
  /** Partition file → hash of the text imported from it. */
  files: Record<string, string>;
  /** Recipe in the recipes dir → the partition file it came from and the hash of what was written. */
  recipes: Record<string, { file: string; hash: string }>;
  /** berth gave the console a one-time password once; it never makes another on its own. */
  oneTimeIssued?: boolean;
}

export const EMPTY_RECORD: ImportRecord = { files: {}, recipes: {} };

export interface SettingsInput {
  /** The valid settings on the partition; a file with an error is left out (and reported). */
  hostname?: Sourced<string>;
  timezone?: Sourced<string>;
  /** The password's value stays out of planning. */
  password?: Sourced<true>;
  /**
   * Every password file on the partition (`password`, `password.txt`, …), read or not, taken
   * or not; hash: of its text, when it could be read.
   */
  passwordFiles?: { file: string; hash?: string; found: PasswordFound }[];
  keys?: Sourced<string[]>;
  sshPasswordLogin?: Sourced<boolean>;
  /** Every recipe file read from the partition; ok: it passed the same checks as `berth validate`. */
  recipes: { file: string; hash: string; dest: string; ok: boolean }[];
  /** notify.yaml and disks.yaml that passed their checks, with where each goes. */
  files?: { file: string; hash: string; name: SettingsFileName; dest: string }[];
  /** Every recipe file on the partition, read or not (one that could not be read is not gone). */
  present: string[];
  /** No berth/ folder: nothing is taken as deleted. */
  folderMissing?: boolean;
  /** The partition has no authorized_keys file. */
  keysFileAbsent?: boolean;
  last: ImportRecord;
  local: {
    /** Keys berth installed from the partition earlier. */
    keys: number;
    /** Password login over SSH is on (berth's drop-in is there). */
    sshPasswordLogin: boolean;
    /** Recipe file name → hash of its text, for the recipes dir as it is. */
    recipes: Record<string, string>;
    /** root's password: none (locked), one the person chose, or the one-time one. */
    rootPassword: 'none' | 'set' | 'one-time';
    oneTimeShown: boolean;
  };
}

export interface SettingsPlan {
  steps: SettingsStep[];
  /** Partition files that are the same as when last imported. */
  unchanged: string[];
  /** Things the person should know that are not errors. */
  notes: string[];
}

/**
 * Every password file is overwritten, taken or not: one too short, given twice, starting with
 * # or in a second file would otherwise stay in clear text. Only a file still holding the
 * very text berth left in it last time is left alone.
 */
function erasePasswords(input: SettingsInput): SettingsStep[] {
  const files = [...(input.passwordFiles ?? [])];
  const taken = input.password?.file;
  if (taken !== undefined && !files.some((f) => f.file === taken))
    files.push({ file: taken, found: 'taken' });
  return files
    .filter((f) => f.file === taken || f.hash === undefined || input.last.files[f.file] !== f.hash)
    .map((f) => ({ kind: 'erase-password', file: f.file, found: f.file === taken ? 'taken' : f.found }));
}

export function planSettings(input: SettingsInput): SettingsPlan {
  const steps: SettingsStep[] = [];
  const unchanged: string[] = [];
  const notes: string[] = [];
  const changed = (s: { file: string; hash: string }) => {
    if (input.last.files[s.file] !== s.hash) return true;
    unchanged.push(s.file);
    return false;
  };

  if (input.hostname && changed(input.hostname))
    steps.push({
      kind: 'set-hostname',
      file: input.hostname.file,
      hash: input.hostname.hash,
      name: input.hostname.value,
    });
  if (input.timezone && changed(input.timezone))
    steps.push({
      kind: 'set-timezone',
      file: input.timezone.file,
      hash: input.timezone.hash,
      zone: input.timezone.value,
    });

  // A password on the partition is always new: once set, it is erased from there.
  const newPassword = Boolean(input.password);
  if (input.password) steps.push({ kind: 'set-password', file: input.password.file });
  steps.push(...erasePasswords(input));
  const hasPassword = newPassword || input.local.rootPassword === 'set';
  // A first login for a machine given neither a password nor a key: once, at the first
  // import; a root the administrator locked later stays locked.
  const keysAfter = input.keys ? input.keys.value.length : input.local.keys;
  if (!hasPassword && input.local.rootPassword === 'none' && keysAfter === 0 && !input.last.oneTimeIssued)
    steps.push({ kind: 'one-time-password' });
  if (hasPassword && input.local.oneTimeShown) steps.push({ kind: 'retire-one-time-password' });

  if (input.keys && changed(input.keys))
    steps.push({ kind: 'write-keys', file: input.keys.file, hash: input.keys.hash, keys: input.keys.value });
  if (input.keysFileAbsent && input.local.keys > 0)
    notes.push(
      `there is no authorized_keys file: the ${input.local.keys} key${input.local.keys === 1 ? '' : 's'} it gave earlier still log in (an authorized_keys with no key lines takes them away)`,
    );

  // Password login over SSH only with a password the person chose, never the one-time one.
  const wanted = input.sshPasswordLogin?.value ?? false;
  if (input.sshPasswordLogin) changed(input.sshPasswordLogin);
  if (wanted && !hasPassword)
    notes.push(
      `${input.sshPasswordLogin!.file}: password login over SSH stays off until a password is set (berth/password)`,
    );
  const on = wanted && Boolean(hasPassword);
  if (on !== input.local.sshPasswordLogin) steps.push({ kind: 'ssh-password-login', on });

  for (const f of input.files ?? []) if (changed(f)) steps.push({ kind: 'import-settings-file', ...f });

  const present = new Set([...input.present, ...input.recipes.map((r) => r.file)]);
  for (const r of input.recipes) {
    if (!r.ok) continue; // reported with its errors; the machine's copy, if any, stays as it is
    if (changed(r)) steps.push({ kind: 'import-recipe', file: r.file, hash: r.hash, dest: r.dest });
  }
  const importing = new Set(steps.flatMap((s) => (s.kind === 'import-recipe' ? [s.dest] : [])));
  for (const [dest, was] of Object.entries(input.last.recipes).sort(([a], [b]) => a.localeCompare(b))) {
    if (input.folderMissing || present.has(was.file) || importing.has(dest)) continue;
    const now = input.local.recipes[dest];
    if (now === was.hash) steps.push({ kind: 'remove-recipe', file: was.file, dest });
    else
      steps.push({
        kind: 'forget-recipe',
        file: was.file,
        dest,
        reason: now === undefined ? 'was already removed' : 'was changed on the machine since, so it stays',
      });
  }
  return { steps, unchanged, notes };
}
