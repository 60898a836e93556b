// The root password on the BERTH partition never stays there in clear text: every password
// file is overwritten and erased at every import, taken or not (one starting with #, too
// short, given twice, or in a second file), and REPORT.txt says so. A scratch folder and
// root; a fake runner stands in for chpasswd, so no host tool runs.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import type { SettingsHandlers, SettingsSystem } from '../../src/settings/execute.js';
import { importSettings } from '../../src/settings/import.js';
import type { ImportOutcome } from '../../src/settings/record.js';
import { renderReport } from '../../src/settings/report.js';

let dir: string;
let part: string;
let calls: { argv: readonly string[]; input?: string }[];
let chpasswdFails: boolean;

const system = (): SettingsSystem => ({
  root: join(dir, 'root'),
  live: false,
  randomPassword: () => 'one-time-pw',
  runner: async (argv, opts) => {
    calls.push({ argv, ...(opts.input !== undefined ? { input: opts.input } : {}) });
    const fail = chpasswdFails && argv[0] === 'chpasswd';
    return { code: fail ? 1 : 0, stdout: '', stderr: fail ? 'chpasswd: cannot lock /etc/shadow' : '' };
  },
});

async function importNow(): Promise<{ outcome: ImportOutcome; report: string }> {
  const config = resolveConfig(
    {},
    { BERTH_RECIPES_DIR: join(dir, 'recipes'), BERTH_DATA_DIR: join(dir, 'data') },
  );
  const outcome = await importSettings({
    folderDir: part,
    config,
    system: system(),
    now: new Date('2026-12-07T10:00:00Z'),
  });
  return { outcome, report: renderReport(outcome, { name: 'nas', addresses: [], version: 'test' }) };
}

/** Every file on the partition, and everything berth keeps, as one text. */
function everything(): string {
  const texts: string[] = [];
  for (const top of [part, join(dir, 'data')])
    for (const e of readdirSync(top, { recursive: true, withFileTypes: true }))
      if (e.isFile()) texts.push(readFileSync(join(e.parentPath, e.name), 'utf8'));
  return texts.join('\n');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-password-'));
  part = join(dir, 'BERTH', 'berth');
  mkdirSync(part, { recursive: true });
  mkdirSync(join(dir, 'recipes'));
  mkdirSync(join(dir, 'root', 'etc'), { recursive: true });
  writeFileSync(join(dir, 'root/etc/shadow'), 'root:*:20000:0:99999:7:::\n');
  calls = [];
  chpasswdFails = false;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('password files on the BERTH partition', () => {
  it.each([
    [
      'starts with # (a comment, so it is never taken)',
      { password: '#secret-hash-pw\n' },
      /held no password line/,
    ],
    ['is too short', { password: 'sEcr3t7\n' }, /password was not taken .* erased .* all the same/],
    ['is given twice', { password: 'secret-twice-1\nsecret-twice-1\n' }, /password was not taken/],
  ])('one that %s is erased, and REPORT.txt says so', async (_what, files, said) => {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(part, name), text);
    const { report } = await importNow();
    expect(calls.filter((c) => c.argv[0] === 'chpasswd' && c.input !== 'root:one-time-pw\n')).toEqual([]);
    expect(everything()).not.toMatch(/secret|sEcr3t/i);
    expect(report).toMatch(/^ {2}berth\/password: /m);
    expect(report).toMatch(said);
    expect(readFileSync(join(part, 'password'), 'utf8')).toMatch(/^# What was written here was not taken/);
  });

  it('a password in a second file is erased with the one taken', async () => {
    writeFileSync(join(part, 'password'), 'correct horse battery\n');
    writeFileSync(join(part, 'password.txt'), 'second-file-secret\n');
    const { outcome, report } = await importNow();
    expect(calls.find((c) => c.argv[0] === 'chpasswd')?.input).toBe('root:correct horse battery\n');
    expect(everything()).not.toMatch(/correct horse|second-file-secret/);
    expect(outcome.done).toContain('berth/password: the plain-text password was erased from this partition');
    expect(report).toMatch(/berth\/password\.txt: its password was not taken .* erased/);
    expect(readFileSync(join(part, 'password'), 'utf8')).toMatch(/^# root's password was set from this file/);
  });

  it('a password that could not be set is erased all the same, and the file says it was not taken', async () => {
    chpasswdFails = true;
    writeFileSync(join(part, 'password'), 'correct horse battery\n');
    const { outcome } = await importNow();
    expect(outcome.failed.map((f) => f.error)).toContain(
      'chpasswd failed: chpasswd: cannot lock /etc/shadow',
    );
    expect(everything()).not.toContain('correct horse');
    expect(readFileSync(join(part, 'password'), 'utf8')).toMatch(/^# What was written here was not taken/);
  });

  it('a file holding what berth left there is left alone at the next boot; a new line in it is erased', async () => {
    writeFileSync(join(part, 'password'), 'hunter2\n');
    await importNow();
    const erased = readFileSync(join(part, 'password'), 'utf8');
    let { outcome } = await importNow();
    expect(outcome.done).toEqual([]);
    expect(readFileSync(join(part, 'password'), 'utf8')).toBe(erased);
    writeFileSync(join(part, 'password'), `${erased}#another-secret\n`);
    ({ outcome } = await importNow());
    expect(outcome.done.join('\n')).toMatch(/berth\/password: held no password line/);
    expect(everything()).not.toContain('another-secret');
  });
});

describe('the settings executor', () => {
  it('dispatches through a map with a handler for every step kind (one missing does not compile)', () => {
    const complete = (h: Omit<SettingsHandlers, 'erase-password'>): SettingsHandlers =>
      // @ts-expect-error: a map without the handler of one step kind is not a SettingsHandlers
      h;
    expect(complete).toBeTypeOf('function');
  });
});
