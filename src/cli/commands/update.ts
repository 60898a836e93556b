// berth update / rollback / history / snapshots: the app lifecycle after day one.
import { openEventLog } from '../../events/log.js';
import { makeEvent } from '../../events/types.js';
import { describeStep } from '../../plan/steps.js';
import { formatBytes } from '../../exec/space.js';
import { readHistory, shortId } from '../../updates/record.js';
import { listSnapshots } from '../../updates/snapshot.js';
import { type AppUpdate, runRollback, runUpdates, UnknownAppError } from '../../updates/update.js';
import type { ExecEvent } from '../../exec/executor.js';
import { type Command, EXIT_FAILED, EXIT_OK, type Io, UsageError, UserError } from '../command.js';
import { appArg, withRuntime } from '../connect.js';
import { progressPrinter } from '../progress.js';

const pinText = (p: { ref: string; id: string } | undefined) => (p ? `${p.ref} (${shortId(p.id)})` : '-');

function line(u: AppUpdate): string {
  switch (u.status) {
    case 'up-to-date':
      return `${u.app}: up to date, ${pinText(u.from)}`;
    case 'available':
      return `${u.app}: update available ${shortId(u.from?.id ?? '')} → ${shortId(u.to?.id ?? '')} (${u.to?.ref})${u.rejectedBefore ? ', which failed its gate before' : ''}`;
    case 'updated':
      return `${u.app}: updated ${shortId(u.from?.id ?? '')} → ${shortId(u.to?.id ?? '')}`;
    case 'rolled-back':
      return `${u.app}: rolled back to ${shortId(u.to?.id ?? '')}: ${u.reason}`;
    case 'skipped':
      return `${u.app}: skipped: ${u.reason}`;
    default:
      return `${u.app}: ${u.status === 'failed' ? 'FAILED' : 'error'}: ${u.reason}`;
  }
}

/** Step lines while an update runs, on stderr (stdout keeps the results, or JSON). */
const stepPrinter = (io: Io) => (e: ExecEvent) => {
  if (e.type === 'step-start' && 'app' in e.step) io.err(`${e.step.app}: ${describeStep(e.step)}`);
  if (e.type === 'step-failed' && 'app' in e.step) io.err(`${e.step.app}: failed: ${e.error}`);
};

const bad = (u: AppUpdate) => u.status === 'failed' || u.status === 'error' || u.status === 'rolled-back';

export const updateCommand: Command = {
  name: 'update',
  summary:
    "update apps to their image's newest version, with a snapshot, a health gate and automatic rollback",
  usage: 'berth update [APP…] [--check] [--json]',
  help:
    'For each app (all when none is named), one at a time, dependencies first: pull its image again (a localhost/\n' +
    'image is read again), and when the image changed: stop, snapshot its data, switch, start, and keep the new\n' +
    'version only if it runs (and turns healthy) and does not restart for update.stable_for; otherwise roll back.\n' +
    '--check only reports what an update would do. Exit status 1 when an update was rolled back or failed.',
  options: { check: { type: 'boolean' }, json: { type: 'boolean' }, automatic: { type: 'boolean' } },
  async run({ config, options, positionals, io }) {
    const apps = positionals.map(appArg);
    const results = await withRuntime(config, (rt) =>
      runUpdates(rt, {
        apps,
        check: options.check === true,
        automatic: options.automatic === true,
        ...(options.json ? {} : { onEvent: stepPrinter(io), onProgress: progressPrinter(io) }),
      }),
    ).catch((err: unknown) => {
      if (err instanceof UnknownAppError) throw new UserError(err.message);
      throw err;
    });
    // A newly found version of an app whose policy is notify: the event log hears it once.
    const log = openEventLog(config.dataDir);
    for (const u of results)
      if (u.status === 'available' && u.fresh && options.automatic === true)
        await log.append(makeEvent('update-available', u.app, u.to?.ref)).catch(() => undefined);
    if (options.json) io.out(JSON.stringify(results, null, 2));
    else for (const u of results) io.out(line(u));
    return results.some(bad) ? EXIT_FAILED : EXIT_OK;
  },
};

export const rollbackCommand: Command = {
  name: 'rollback',
  summary: 'go back to the image an app ran before its last update (--data: and to its data then)',
  usage: 'berth rollback APP [--data] [--yes] [--json]',
  help:
    'Without --data the app keeps its data as it is now. With --data, the snapshot taken before the update is\n' +
    'restored: what the app wrote since then is moved aside (into <data-dir>/apps/APP/.aside), not deleted.',
  options: { data: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' }, json: { type: 'boolean' } },
  async run({ config, options, positionals, io }) {
    if (positionals.length !== 1) throw new UsageError('rollback takes one APP');
    const app = appArg(positionals[0]);
    if (options.data && !options.yes && !io.isTty)
      throw new UserError(
        `rollback --data puts back the data of ${app} as it was before its last update; what it wrote since is moved aside. Add --yes to go ahead`,
      );
    if (options.data && !options.yes)
      io.err(`the data ${app} wrote since its last update is moved aside into its .aside dir (not deleted)`);
    const u = await withRuntime(config, (rt) =>
      runRollback(rt, app, options.data === true, options.json ? {} : { onEvent: stepPrinter(io) }),
    ).catch((err: unknown) => {
      if (err instanceof UnknownAppError) throw new UserError(err.message);
      throw err;
    });
    if (options.json) io.out(JSON.stringify(u, null, 2));
    else io.out(u.status === 'rolled-back' ? `${app}: back on ${pinText(u.to)}` : line(u));
    return u.status === 'rolled-back' ? EXIT_OK : EXIT_FAILED;
  },
};

export const historyCommand: Command = {
  name: 'history',
  summary: "list an app's updates and rollbacks: time, old → new, result, reason",
  usage: 'berth history APP [--json]',
  options: { json: { type: 'boolean' } },
  async run({ config, options, positionals, io }) {
    if (positionals.length !== 1) throw new UsageError('history takes one APP');
    const app = appArg(positionals[0]);
    const h = readHistory(config.dataDir, app);
    if (options.json) io.out(JSON.stringify(h, null, 2));
    else if (h.length === 0) io.out(`${app}: no updates yet`);
    else
      for (const e of h)
        io.out(
          `${e.at}  ${shortId(e.from?.id ?? '') || '-'} → ${shortId(e.to.id)}  ${e.result}${e.reason ? `: ${e.reason}` : ''}`,
        );
    return EXIT_OK;
  },
};

export const snapshotsCommand: Command = {
  name: 'snapshots',
  summary: "list an app's data snapshots (taken before each update) with their sizes",
  usage: 'berth snapshots APP [--json]',
  options: { json: { type: 'boolean' } },
  async run({ config, options, positionals, io }) {
    if (positionals.length !== 1) throw new UsageError('snapshots takes one APP');
    const app = appArg(positionals[0]);
    const list = await listSnapshots(config.dataDir, app);
    if (options.json) io.out(JSON.stringify(list, null, 2));
    else if (list.length === 0) io.out(`${app}: no snapshots`);
    else
      for (const s of list)
        io.out(
          `${new Date(s.takenAt).toISOString()}  image ${s.image}  ${formatBytes(s.bytes).padStart(9)}  ${s.path}`,
        );
    return EXIT_OK;
  },
};
