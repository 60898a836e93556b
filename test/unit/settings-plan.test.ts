// The pure planner of a BERTH partition import, as a table: what the partition has, what was
// taken before and what the machine has, against the steps planned.
import { describe, expect, it } from 'vitest';
import { EMPTY_RECORD, planSettings, type SettingsInput } from '../../src/settings/plan.js';
import type { SettingsStepKind } from '../../src/settings/steps.js';

const base: SettingsInput = {
  recipes: [],
  present: [],
  last: EMPTY_RECORD,
  local: { recipes: {}, keys: 0, sshPasswordLogin: false, rootPassword: 'set', oneTimeShown: false },
};
type Case = Omit<Partial<SettingsInput>, 'local'> & { local?: Partial<SettingsInput['local']> };
const src = <T>(file: string, hash: string, value: T) => ({ file: `berth/${file}`, hash, value });
const kinds = (i: Case): string[] =>
  planSettings({ ...base, ...i, local: { ...base.local, ...i.local } }).steps.map((s) =>
    'dest' in s ? `${s.kind} ${s.dest}` : s.kind,
  );

const cases: [string, Case, (SettingsStepKind | string)[]][] = [
  ['an empty partition on a machine with a password: nothing', {}, []],
  ['a new host name is set', { hostname: src('hostname', 'h1', 'nas') }, ['set-hostname']],
  [
    'a host name taken before is not set again (it may have been changed on the machine)',
    { hostname: src('hostname', 'h1', 'nas'), last: { files: { 'berth/hostname': 'h1' }, recipes: {} } },
    [],
  ],
  [
    'an edited host name file is taken again',
    { hostname: src('hostname', 'h2', 'nas2'), last: { files: { 'berth/hostname': 'h1' }, recipes: {} } },
    ['set-hostname'],
  ],
  ['a time zone', { timezone: src('timezone', 't', 'Europe/Berlin') }, ['set-timezone']],
  [
    'a password is set, then erased from the partition',
    { password: src('password', 'p', true as const) },
    ['set-password', 'erase-password'],
  ],
  [
    'every password file is erased, taken or not; a file still as berth left it is not',
    {
      password: src('password', 'p', true as const),
      passwordFiles: [
        { file: 'berth/password', hash: 'p', found: 'taken' },
        { file: 'berth/password.txt', hash: 'q', found: 'not-taken' },
        { file: 'berth/PASSWORD', found: 'not-taken' },
        { file: 'berth/Password.txt', hash: 'left', found: 'comments-only' },
      ],
      last: { files: { 'berth/Password.txt': 'left' }, recipes: {} },
    },
    ['set-password', 'erase-password', 'erase-password', 'erase-password'],
  ],
  [
    'a password not taken (too short, given twice, starting with #) is erased all the same',
    { passwordFiles: [{ file: 'berth/password', hash: 'x', found: 'not-taken' }] },
    ['erase-password'],
  ],
  [
    'no password anywhere: a one-time password for the console',
    { local: { recipes: {}, rootPassword: 'none', oneTimeShown: false } },
    ['one-time-password'],
  ],
  [
    'keys but no password: no console password (the person logs in with the key)',
    {
      keys: src('authorized_keys', 'k', ['ssh-ed25519 AAAA']),
      local: { recipes: {}, rootPassword: 'none', oneTimeShown: false },
    },
    ['write-keys'],
  ],
  [
    'the one-time password was given once: a root locked since stays locked',
    { last: { files: {}, recipes: {}, oneTimeIssued: true }, local: { rootPassword: 'none' } },
    [],
  ],
  [
    'a recipe file that could not be read (UTF-16, too big) is not taken as deleted',
    {
      present: ['berth/recipes/a.yaml'],
      last: {
        files: { 'berth/recipes/a.yaml': 'a' },
        recipes: { 'a.yaml': { file: 'berth/recipes/a.yaml', hash: 'a' } },
      },
      local: { recipes: { 'a.yaml': 'a' } },
    },
    [],
  ],
  [
    'no berth/ folder (or the partition not mounted): nothing is removed',
    {
      folderMissing: true,
      last: {
        files: { 'berth/recipes/a.yaml': 'a' },
        recipes: { 'a.yaml': { file: 'berth/recipes/a.yaml', hash: 'a' } },
      },
      local: { recipes: { 'a.yaml': 'a' } },
    },
    [],
  ],
  [
    'the one-time password still unchanged: shown as before, nothing new',
    { local: { recipes: {}, rootPassword: 'one-time', oneTimeShown: true } },
    [],
  ],
  [
    'the person changed the one-time password: the console stops showing it',
    { local: { recipes: {}, rootPassword: 'set', oneTimeShown: true } },
    ['retire-one-time-password'],
  ],
  [
    'a password given while the one-time one is shown: set, erased, one-time retired',
    {
      password: src('password', 'p', true as const),
      local: { recipes: {}, rootPassword: 'one-time', oneTimeShown: true },
    },
    ['set-password', 'erase-password', 'retire-one-time-password'],
  ],
  [
    'password login over SSH with a password set: on',
    { sshPasswordLogin: src('ssh-password-login', 's', true) },
    ['ssh-password-login'],
  ],
  [
    'password login over SSH wanted, but only the one-time password: stays off',
    {
      sshPasswordLogin: src('ssh-password-login', 's', true),
      local: { recipes: {}, rootPassword: 'one-time', oneTimeShown: true },
    },
    [],
  ],
  [
    'password login over SSH was on and the file now says no: off',
    { sshPasswordLogin: src('ssh-password-login', 's2', false), local: { sshPasswordLogin: true } },
    ['ssh-password-login'],
  ],
  [
    'a good new recipe is imported; a bad one is not',
    {
      recipes: [
        { file: 'berth/recipes/a.yaml', hash: 'a', dest: 'a.yaml', ok: true },
        { file: 'berth/recipes/b.yaml', hash: 'b', dest: 'b.yaml', ok: false },
      ],
    },
    ['import-recipe a.yaml'],
  ],
  [
    'a recipe taken before and unchanged on the partition is not imported again',
    {
      recipes: [{ file: 'berth/recipes/a.yaml', hash: 'a', dest: 'a.yaml', ok: true }],
      last: {
        files: { 'berth/recipes/a.yaml': 'a' },
        recipes: { 'a.yaml': { file: 'berth/recipes/a.yaml', hash: 'a' } },
      },
    },
    [],
  ],
  [
    'a recipe deleted from the partition, unchanged on the machine: removed',
    {
      last: {
        files: { 'berth/recipes/a.yaml': 'a' },
        recipes: { 'a.yaml': { file: 'berth/recipes/a.yaml', hash: 'a' } },
      },
      local: { recipes: { 'a.yaml': 'a' }, rootPassword: 'set', oneTimeShown: false },
    },
    ['remove-recipe a.yaml'],
  ],
  [
    'a recipe deleted from the partition but edited on the machine since: kept, no longer tracked',
    {
      last: {
        files: { 'berth/recipes/a.yaml': 'a' },
        recipes: { 'a.yaml': { file: 'berth/recipes/a.yaml', hash: 'a' } },
      },
      local: { recipes: { 'a.yaml': 'edited' }, rootPassword: 'set', oneTimeShown: false },
    },
    ['forget-recipe a.yaml'],
  ],
  [
    'a recipe made bad on the partition: the machine keeps its last good copy',
    {
      recipes: [{ file: 'berth/recipes/a.yaml', hash: 'a2', dest: 'a.yaml', ok: false }],
      last: {
        files: { 'berth/recipes/a.yaml': 'a' },
        recipes: { 'a.yaml': { file: 'berth/recipes/a.yaml', hash: 'a' } },
      },
      local: { recipes: { 'a.yaml': 'a' }, rootPassword: 'set', oneTimeShown: false },
    },
    [],
  ],
];

describe('planSettings', () => {
  it.each(cases)('%s', (_name, input, want) => expect(kinds(input)).toEqual(want));

  it('says why password login over SSH stays off', () => {
    const p = planSettings({
      ...base,
      sshPasswordLogin: src('ssh-password-login', 's', true),
      local: { ...base.local, rootPassword: 'none' },
    });
    expect(p.notes.join('\n')).toMatch(/stays off until a password is set/);
  });

  it('says that keys given earlier still log in when authorized_keys is gone', () => {
    const p = planSettings({ ...base, keysFileAbsent: true, local: { ...base.local, keys: 2 } });
    expect(p.notes.join('\n')).toMatch(/the 2 keys it gave earlier still log in/);
  });

  it('names the files that are unchanged', () => {
    const p = planSettings({
      ...base,
      hostname: src('hostname', 'h1', 'nas'),
      last: { files: { 'berth/hostname': 'h1' }, recipes: {} },
    });
    expect(p.unchanged).toEqual(['berth/hostname']);
  });

  it('never carries the password in a step', () => {
    const p = planSettings({ ...base, password: src('password', 'p', true as const) });
    expect(JSON.stringify(p.steps)).not.toMatch(/"value"/);
  });
});
