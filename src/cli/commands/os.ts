import { openEventLog } from '../../events/log.js';
import { makeEvent } from '../../events/types.js';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LockedError, withLock } from '../../exec/lock.js';
import { atomicWrite } from '../../exec/files.js';
import { type OsDeps, OsStepError, type OsRunState, runOsStep } from '../../os/execute.js';
import { OsFactsError, readOsFacts, rootDisk } from '../../os/facts.js';
import { type BootFact, OsPlanError, planOsRollback, planOsUpdate } from '../../os/plan.js';
import { runTool } from '../../os/run.js';
import { osStatus, renderOsStatus } from '../../os/status.js';
import { DEFAULT_TRIES, type OsSource, renderTransfers } from '../../os/transfers.js';
import type { Config } from '../../config.js';
import { checkContext } from '../../context.js';
import { loadRecipes } from '../../recipe/load.js';
import { type Command, EXIT_OK, type Io, UsageError, UserError } from '../command.js';

const DEFINITIONS_DIR = '/run/berth/os/sysupdate.d';
/** berth's OS state on /var (failures, the apps before an update, the staged update). */
const stateDir = (config: Config) => join(config.dataDir, 'os');

function parseSource(from: string): OsSource {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(from)) return { kind: 'url', url: from };
  if (!from.startsWith('/'))
    throw new UsageError(`--from needs an absolute directory or an http(s):// URL, not '${from}'`);
  if (!existsSync(from)) throw new UserError(`${from}: no such directory (is the USB stick mounted?)`);
  return { kind: 'dir', path: from };
}

async function defaultSource(config: Config): Promise<OsSource | undefined> {
  const url = (await readFile(config.os.urlFile, 'utf8').catch(() => '')).trim();
  return url ? { kind: 'url', url } : undefined;
}

function tries(options: Record<string, unknown>): number {
  if (options.tries === undefined) return DEFAULT_TRIES;
  const n = Number(options.tries);
  if (!Number.isInteger(n) || n < 1 || n > 9)
    throw new UsageError(`--tries takes a whole number from 1 to 9, not '${String(options.tries)}'`);
  return n;
}

function deps(config: Config, io: Io): OsDeps {
  const run = runTool((l) => io.err(`  ${l}`));
  return {
    run,
    sysupdate: config.os.sysupdate,
    definitionsDir: DEFINITIONS_DIR,
    espDir: config.os.espDir,
    stateDir: stateDir(config),
    apps: () => recipeApps(config),
    root: '/',
    mountDir: '/run/berth/os/other-slot',
    disk: () => rootDisk(runTool()),
    pubring: config.os.pubring,
    log: (l) => io.err(`berth: ${l}`),
  };
}

/** The apps berth runs, by name: what its own recipe loader takes (.yaml or .yml, by name:). */
async function recipeApps(config: Config): Promise<string[]> {
  const set = await loadRecipes([config.recipesDir], checkContext(config));
  return set.apps.map((a) => a.name).sort();
}

function status(config: Config) {
  const run = runTool();
  return readOsFacts({
    release: config.os.release,
    espDir: config.os.espDir,
    stateDir: stateDir(config),
    run,
    disk: () => rootDisk(run),
    pubring: config.os.pubring,
  }).then(osStatus);
}

/** How this version boots; a status that cannot be read is a fact too (it refuses an update). */
function bootFact(config: Config): Promise<BootFact> {
  return status(config).then(
    (s) => s.boot.state,
    (err: Error) => ({ unreadable: err.message }),
  );
}

async function locked<T>(config: Config, fn: () => Promise<T>): Promise<T> {
  return withLock(join(config.dataDir, 'os', 'os.lock'), fn, { waitSec: 5 }).catch((err: unknown) => {
    if (err instanceof LockedError)
      throw new UserError('another berth os update or rollback is running; try again later');
    throw err;
  });
}

function plainError<T>(p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    if (err instanceof OsPlanError || err instanceof OsStepError || err instanceof OsFactsError)
      throw new UserError(err.message);
    throw err;
  });
}

/** The event log hears of an installed version (the supervisor tells the channels). */
const tellInstalled = (config: Config, version: string) =>
  openEventLog(config.dataDir)
    .append(makeEvent('os-update-installed', version, 'it boots at the next restart, with its tries counted'))
    .catch(() => undefined);

/** `berth os update`: plan (refusals first), then the steps under the lock. */
async function update(config: Config, options: Record<string, unknown>, io: Io, from?: OsSource) {
  const source = from ?? (await defaultSource(config));
  const boot = await bootFact(config);
  const { steps, notes } = await plainError(
    Promise.resolve().then(() =>
      planOsUpdate({
        ...(source ? { source } : {}),
        checkOnly: options.check === true,
        reboot: options.reboot === true,
        verify: options['no-verify'] !== true,
        hasKey: existsSync(config.os.pubring),
        tries: tries(options),
        boot,
        stagingDir: join(stateDir(config), 'staging'),
      }),
    ),
  );
  for (const n of notes) io.err(`berth: ${n}`);
  const d = deps(config, io);
  const st: OsRunState = {};
  const staging = steps.find((s) => s.kind === 'clear-staging');
  await locked(config, async () => {
    try {
      for (const step of steps) {
        if (step.kind === 'reboot' && !st.found) break;
        if (step.kind === 'install' && step.part === 'root' && st.found)
          io.err(`berth: installing OS version ${st.found} into the other slot (this takes a few minutes)`);
        if (step.kind === 'reboot') {
          if (st.found) await tellInstalled(config, st.found);
          io.err(`berth: rebooting into ${st.found}`);
        }
        await plainError(runOsStep(d, step, st));
        if (step.kind === 'check-new')
          io.out(st.found ? `newer OS version: ${st.found}` : 'no newer OS version');
      }
    } finally {
      // A failed update leaves no copy of its folder behind on /var.
      if (staging) await runOsStep(d, staging, st);
    }
  });
  if (st.found && options.check !== true && options.reboot !== true) {
    await tellInstalled(config, st.found);
    io.out(`installed ${st.found}; it boots at the next restart (systemctl reboot), with its tries counted`);
  }
}

export const osCommand: Command = {
  name: 'os',
  summary: 'the appliance OS: its version and slots, updates (A/B, rolled back on failure), going back',
  usage:
    'berth os [status [--json] | update [--from DIR|URL] [--check] [--reboot] [--no-verify] [--tries N] | rollback [--reboot] | definitions --out DIR [--from DIR|URL] [--tries N] | apps]',
  help: [
    'The appliance has two root slots. `berth os update` writes the newest version from an',
    'update folder (a USB stick: --from /media/usb/os-update-1.2.0) or a URL into the slot',
    'that is not running, with systemd-sysupdate, and carries the settings kept in /etc',
    '(machine ID, host name, time zone, SSH host keys, root password, network files, the',
    "apps' units) into it; recipes, app data and images are on /var and shared. The new",
    'version gets --tries boots (default 3) to become healthy (berth ready, the apps that ran',
    'before running again); otherwise the previous version boots again by itself.',
    '`berth os status` says which version runs, what the other slot holds and any rollback;',
    '`berth os rollback` goes back to the other slot by hand.',
    'Signatures are checked with the key in the image; --no-verify checks SHA256SUMS only',
    '(a folder only: a URL is always checked). An update folder is copied to /var and only',
    'the checked copy is installed. An update waits until the running version is kept.',
    '`berth os apps` lists the apps berth runs (the health gate of a new version asks it).',
  ].join('\n'),
  options: {
    json: { type: 'boolean' },
    from: { type: 'string' },
    check: { type: 'boolean' },
    reboot: { type: 'boolean' },
    'no-verify': { type: 'boolean' },
    tries: { type: 'string' },
    out: { type: 'string' },
  },
  async run({ config, positionals, options, io }) {
    const [sub = 'status', ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    const from = typeof options.from === 'string' ? parseSource(options.from) : undefined;
    if (sub === 'definitions') {
      if (typeof options.out !== 'string') throw new UsageError('berth os definitions needs --out DIR');
      const source = from ?? (await defaultSource(config)) ?? { kind: 'dir', path: '/' };
      const n = tries(options);
      let files: Record<string, string>;
      try {
        files = renderTransfers({ source, tries: n, verify: !options['no-verify'] });
      } catch (err) {
        throw new UserError((err as Error).message); // a URL berth does not take, --no-verify for a URL
      }
      await mkdir(options.out, { recursive: true });
      for (const [name, text] of Object.entries(files))
        await atomicWrite(join(options.out, name), text, 0o644);
      io.out(
        Object.keys(files)
          .map((n) => join(options.out as string, n))
          .join('\n'),
      );
      return EXIT_OK;
    }
    if (sub === 'status') {
      const s = await plainError(status(config));
      if (options.json) io.out(JSON.stringify(s, null, 2));
      else for (const l of renderOsStatus(s)) io.out(l);
      return EXIT_OK;
    }
    if (sub === 'update') {
      await update(config, options, io, from);
      return EXIT_OK;
    }
    if (sub === 'rollback') {
      const d = deps(config, io);
      const s = await locked(config, async () => {
        const now = await plainError(status(config));
        const steps = await plainError(Promise.resolve().then(() => planOsRollback(now, false)));
        for (const step of steps) await plainError(runOsStep(d, step, {}));
        return now;
      });
      io.out(`version ${s.version} is set aside; ${s.otherSlot?.version} boots at the next restart`);
      if (options.reboot) await plainError(runOsStep(d, { kind: 'reboot' }, {}));
      return EXIT_OK;
    }
    if (sub === 'apps') {
      // For the health gate (image-build/os/boot-healthy): the same names berth runs.
      for (const app of await recipeApps(config)) io.out(app);
      return EXIT_OK;
    }
    throw new UsageError(`unknown subcommand '${sub}' (status, update, rollback, definitions or apps)`);
  },
};
