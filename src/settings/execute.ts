// Carries out settings steps on a root tree ('/' on the appliance, a scratch tree in tests)
// with the system's own tools: chpasswd hashes passwords (read from stdin, never argv),
// chage expires the one-time one. Each step stands alone: one that fails is reported and
// the others still run. Files are written whole or not at all.
import { randomInt } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { atomicWrite } from '../exec/files.js';
import { type Runner, spawnRunner } from '../process/run.js';
import { type ImportRecord } from './plan.js';
import { sha256 } from './folder.js';
import type { SettingsStep, SettingsStepKind } from './steps.js';

export interface SettingsSystem {
  /** '/' on the appliance. */
  root: string;
  /** The running machine: also tell the kernel its new name and sshd its new configuration. */
  live: boolean;
  runner: Runner;
  randomPassword(): string;
}

/** 12 characters from an alphabet without look-alikes (no 0/o, 1/l/i): about 59 bits. */
export function oneTimePassword(): string {
  const abc = '23456789abcdefghjkmnpqrstuvwxyz';
  const chars = Array.from({ length: 12 }, () => abc[randomInt(abc.length)]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4, 8).join('')}-${chars.slice(8).join('')}`;
}

export function hostSystem(root = '/'): SettingsSystem {
  return { root, live: root === '/', runner: spawnRunner, randomPassword: oneTimePassword };
}

/** Where berth keeps the keys taken from the partition (sshd reads them beside ~/.ssh/authorized_keys). */
export const KEYS_FILE = 'etc/berth/ssh/authorized_keys';
export const PASSWORD_LOGIN_CONF = 'etc/ssh/sshd_config.d/10-berth-password-login.conf';
export const ONE_TIME_ISSUE = 'etc/issue.d/berth-one-time-password.issue';

export interface SettingsContext {
  system: SettingsSystem;
  recipesDir: string;
  /** The texts read (and checked) from the partition, by shown name: what was checked is what is written. */
  texts: ReadonlyMap<string, string>;
  /** The password read from the partition, when there is one. */
  password?: string;
  /** The partition file behind a shown name (`berth/password`). */
  pathOf(file: string): string;
  /** Updated as steps succeed. */
  record: ImportRecord;
  /** Set once root's password was set from the partition in this import. */
  passwordSet?: boolean;
  now: Date;
}

export interface SettingsResult {
  step: SettingsStep;
  error?: string;
}

async function run(sys: SettingsSystem, argv: string[], input?: string): Promise<void> {
  const r = await sys.runner(argv, { timeoutMs: 30_000, ...(input !== undefined ? { input } : {}) });
  if (r.code !== 0)
    throw new Error(
      `${argv[0]} failed: ${r.stderr.trim().split('\n').slice(-2).join(' | ') || `exit ${r.code}`}`,
    );
}

const setRootPassword = (sys: SettingsSystem, password: string) =>
  run(sys, ['chpasswd', '-R', sys.root, '-c', 'YESCRYPT'], `root:${password}\n`);

async function setHostname(ctx: SettingsContext, name: string): Promise<void> {
  const root = ctx.system.root;
  await atomicWrite(join(root, 'etc/hostname'), `${name}\n`, 0o644);
  const hosts = await readFile(join(root, 'etc/hosts'), 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
  const lines = hosts.split('\n').filter((l) => !/^127\.0\.1\.1\s/.test(l));
  const at = lines.findIndex((l) => /^127\.0\.0\.1\s/.test(l));
  lines.splice(at + 1, 0, `127.0.1.1\t${name}`);
  await atomicWrite(join(root, 'etc/hosts'), lines.join('\n'), 0o644);
  if (ctx.system.live) await writeFile('/proc/sys/kernel/hostname', name);
}

async function setTimezone(ctx: SettingsContext, zone: string): Promise<void> {
  const root = ctx.system.root;
  const file = `/usr/share/zoneinfo/${zone}`;
  const st = await stat(join(root, file)).catch(() => undefined);
  if (!st?.isFile())
    throw new Error(
      `${zone} is not a time zone this system knows (the names are those under /usr/share/zoneinfo)`,
    );
  const tmp = join(root, 'etc', `.localtime.${process.pid}.tmp`);
  await rm(tmp, { force: true });
  await symlink(file, tmp);
  await rename(tmp, join(root, 'etc/localtime'));
  await atomicWrite(join(root, 'etc/timezone'), `${zone}\n`, 0o644);
}

/**
 * Overwrites the clear text in place first, so it is not left in the FAT's free clusters; a
 * link is never followed. The comment left says whether the password was taken.
 */
async function erasePassword(ctx: SettingsContext, file: string): Promise<void> {
  const path = ctx.pathOf(file);
  const fh = await open(path, constants.O_RDWR | constants.O_NOFOLLOW);
  try {
    const { size } = await fh.stat();
    await fh.write(Buffer.alloc(size, 0x20), 0, size, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  const day = ctx.now.toISOString().slice(0, 10);
  const what = ctx.passwordSet
    ? `# root's password was set from this file on ${day}, and then erased from it.\r\n`
    : `# What was written here was not taken as root's password (REPORT.txt says why) and was erased on ${day}.\r\n`;
  const text = `${what}# To change it, write a new password on a line of its own below (8 characters or more, not starting with #).\r\n`;
  await atomicWrite(path, text, 0o644);
  ctx.record.files[file] = sha256(text);
}

async function writeKeys(ctx: SettingsContext, s: Step<'write-keys'>): Promise<void> {
  await atomicWrite(
    join(ctx.system.root, KEYS_FILE),
    `# Taken from the BERTH partition (${s.file}) by berth; change them there.\n${s.keys.map((k) => `${k}\n`).join('')}`,
    0o644,
  );
  ctx.record.files[s.file] = s.hash;
}

async function sshPasswordLogin(ctx: SettingsContext, on: boolean): Promise<void> {
  const sys = ctx.system;
  if (on)
    await atomicWrite(
      join(sys.root, PASSWORD_LOGIN_CONF),
      '# Written by berth: berth/ssh-password-login on the BERTH partition says yes.\nPasswordAuthentication yes\nPermitRootLogin yes\n',
      0o644,
    );
  else await rm(join(sys.root, PASSWORD_LOGIN_CONF), { force: true });
  if (sys.live) await run(sys, ['systemctl', 'try-reload-or-restart', 'ssh.service']);
}

async function importRecipe(ctx: SettingsContext, s: Step<'import-recipe'>): Promise<void> {
  const text = ctx.texts.get(s.file);
  if (text === undefined) throw new Error('the recipe was not read');
  await atomicWrite(join(ctx.recipesDir, s.dest), text, 0o644);
  ctx.record.files[s.file] = s.hash;
  ctx.record.recipes[s.dest] = { file: s.file, hash: s.hash };
}

/** A settings file may hold tokens and passwords: only root reads it. */
async function importSettingsFile(ctx: SettingsContext, s: Step<'import-settings-file'>): Promise<void> {
  const text = ctx.texts.get(s.file);
  if (text === undefined) throw new Error('the file was not read');
  await mkdir(dirname(s.dest), { recursive: true });
  await atomicWrite(s.dest, text, 0o600);
  ctx.record.files[s.file] = s.hash;
}

function forgetRecipe(ctx: SettingsContext, s: { file: string; dest: string }): void {
  delete ctx.record.recipes[s.dest];
  delete ctx.record.files[s.file];
}

async function oneTimePasswordStep(ctx: SettingsContext): Promise<void> {
  const sys = ctx.system;
  const pw = sys.randomPassword();
  await setRootPassword(sys, pw);
  await run(sys, ['chage', '-R', sys.root, '-d', '0', 'root']);
  await mkdir(dirname(join(sys.root, ONE_TIME_ISSUE)), { recursive: true });
  await atomicWrite(
    join(sys.root, ONE_TIME_ISSUE),
    `  First login: root, one-time password  ${pw}\n  (you choose your own password right after; SSH takes keys only)\n\n`,
    0o600,
  );
  ctx.record.oneTimeIssued = true;
}

type Step<K extends SettingsStepKind> = Extract<SettingsStep, { kind: K }>;
/** One handler per step kind: a new kind without one does not compile. */
export type SettingsHandlers = {
  [K in SettingsStepKind]: (ctx: SettingsContext, s: Step<K>) => Promise<void>;
};

const HANDLERS: SettingsHandlers = {
  'set-hostname': async (ctx, s) => {
    await setHostname(ctx, s.name);
    ctx.record.files[s.file] = s.hash;
  },
  'set-timezone': async (ctx, s) => {
    await setTimezone(ctx, s.zone);
    ctx.record.files[s.file] = s.hash;
  },
  'set-password': async (ctx) => {
    if (ctx.password === undefined) throw new Error('no password was read');
    // Nothing is recorded of the clear text, not even its hash: erase-password records the erased file.
    await setRootPassword(ctx.system, ctx.password);
    ctx.passwordSet = true;
  },
  'erase-password': (ctx, s) => erasePassword(ctx, s.file),
  'write-keys': writeKeys,
  'ssh-password-login': (ctx, s) => sshPasswordLogin(ctx, s.on),
  'import-recipe': importRecipe,
  'import-settings-file': importSettingsFile,
  'remove-recipe': async (ctx, s) => {
    await rm(join(ctx.recipesDir, s.dest), { force: true });
    forgetRecipe(ctx, s);
  },
  'forget-recipe': async (ctx, s) => forgetRecipe(ctx, s),
  'one-time-password': oneTimePasswordStep,
  'retire-one-time-password': (ctx) => rm(join(ctx.system.root, ONE_TIME_ISSUE), { force: true }),
};

const runStep = <K extends SettingsStepKind>(ctx: SettingsContext, s: Step<K>): Promise<void> =>
  (HANDLERS[s.kind] as (ctx: SettingsContext, s: Step<K>) => Promise<void>)(ctx, s);

/**
 * Steps that were planned on the password being set: not run when setting it failed. The
 * password files are erased all the same: a clear text never stays on the partition.
 */
const NEEDS_PASSWORD = (s: SettingsStep) =>
  s.kind === 'retire-one-time-password' || (s.kind === 'ssh-password-login' && s.on);

export async function executeSettings(
  steps: readonly SettingsStep[],
  ctx: SettingsContext,
): Promise<SettingsResult[]> {
  const results: SettingsResult[] = [];
  for (const step of steps) {
    if (NEEDS_PASSWORD(step) && results.some((r) => r.step.kind === 'set-password' && r.error)) {
      results.push({ step, error: 'not done, since setting the password failed' });
      continue;
    }
    try {
      await runStep(ctx, step);
      results.push({ step });
    } catch (err) {
      results.push({ step, error: (err as Error).message });
    }
  }
  return results;
}
