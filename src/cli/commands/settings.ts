import { hostname } from 'node:os';
import { join } from 'node:path';
import { computePlan } from '../../runtime.js';
import { atomicWrite } from '../../exec/files.js';
import { LockedError, withLock } from '../../exec/lock.js';
import { hostSystem } from '../../settings/execute.js';
import { importSettings } from '../../settings/import.js';
import type { ImportOutcome } from '../../settings/record.js';
import { readOutcome } from '../../settings/record.js';
import { printable, type ReportApp, renderReport } from '../../settings/report.js';
import { appStatuses } from '../../status.js';
import { VERSION } from '../../version.js';
import { addresses } from '../../web/model.js';
import type { Config } from '../../config.js';
import { type Command, EXIT_FAILED, EXIT_OK, type Io, UsageError, UserError } from '../command.js';
import { withRuntime } from '../connect.js';

/** What `berth settings` and the import print: the same facts as REPORT.txt, shorter. */
function printOutcome(o: ImportOutcome, io: Io): void {
  const out = (line: string) => io.out(printable(line));
  io.out(`Last import of ${o.folder}: ${o.at.replace('T', ' ').slice(0, 19)} UTC`);
  for (const d of o.done) out(`  done: ${d}`);
  for (const f of o.failed) out(`  FAILED: ${f.what}: ${f.error}`);
  for (const p of o.problems) out(`  not taken: ${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`);
  for (const n of o.notes) out(`  note: ${n}`);
  if (o.done.length + o.failed.length + o.problems.length === 0) out('  nothing new');
}

async function appsNow(config: Config): Promise<ReportApp[] | undefined> {
  try {
    return await withRuntime(config, async (rt) => {
      const apps = await appStatuses(rt, Date.now(), await computePlan(rt));
      return apps.map((a) => ({
        app: a.app,
        state: a.state === 'active' ? 'running' : a.state,
        ports: a.ports,
        ...(a.lastError ? { lastError: a.lastError } : {}),
      }));
    });
  } catch {
    return undefined; // no service manager: the report says nothing of apps rather than fail
  }
}

async function writeReport(config: Config, o: ImportOutcome, apps?: ReportApp[], live = true): Promise<void> {
  // On the machine itself, the name the import may just have given it (config read it before).
  const host = { name: live ? hostname() : config.hostname, addresses: addresses(), version: VERSION };
  await atomicWrite(join(config.settingsDir, 'REPORT.txt'), renderReport(o, host, apps), 0o644);
}

export const settingsCommand: Command = {
  name: 'settings',
  summary: 'import settings and recipes from the BERTH partition, and report what was done',
  usage: 'berth settings [import [--root DIR] | report]',
  help: [
    'The BERTH partition of the flashed disk has a berth/ folder (BERTH_SETTINGS_DIR, default',
    '/boot/berth/berth): authorized_keys, hostname, timezone, password, ssh-password-login and',
    'recipes/. At boot, berth-settings.service runs `berth settings import`: what changed since',
    'the last import is taken (recipes only if they pass `berth validate`), and berth/REPORT.txt',
    'says what was done; once the apps run, `berth settings report` adds addresses and apps.',
    'With no subcommand: show what the last import did.',
    'Exit status of import: 0 all taken, 1 something was not (see REPORT.txt).',
  ].join('\n'),
  options: { root: { type: 'string' } },
  async run({ config, positionals, options, io }) {
    const [sub, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    if (sub === 'import') {
      const root = typeof options.root === 'string' ? options.root : '/';
      // One import at a time: two would each write imported.json from what they read.
      const o = await withLock(
        join(config.dataDir, 'settings', 'import.lock'),
        () => importSettings({ folderDir: config.settingsDir, config, system: hostSystem(root) }),
        { waitSec: 30 },
      ).catch((err: unknown) => {
        if (err instanceof LockedError)
          throw new UserError('another berth settings import is running; try again');
        throw err;
      });
      await writeReport(config, o, undefined, root === '/').catch((err: Error) =>
        io.err(`berth: could not write REPORT.txt: ${err.message}`),
      );
      printOutcome(o, io);
      return o.problems.length + o.failed.length > 0 ? EXIT_FAILED : EXIT_OK;
    }
    const o = await readOutcome(config.dataDir);
    if (!o)
      throw new UserError(
        `no import of the BERTH partition yet (berth settings import reads ${config.settingsDir})`,
      );
    if (sub === 'report') {
      await writeReport(config, o, await appsNow(config));
      io.err(`wrote ${join(config.settingsDir, 'REPORT.txt')}`);
      return EXIT_OK;
    }
    if (sub !== undefined) throw new UsageError(`unknown subcommand '${sub}' (import or report)`);
    printOutcome(o, io);
    return EXIT_OK;
  },
};
