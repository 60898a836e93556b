import { rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { join } from 'node:path';
import { execute } from '../../exec/executor.js';
import { withLock } from '../../exec/lock.js';
import { planRemoval, releasableNames } from '../../plan/plan.js';
import { appPaths } from '../../render/paths.js';
import { computePlan } from '../../runtime.js';
import { type Command, EXIT_FAILED, EXIT_OK, UsageError, UserError } from '../command.js';
import { appArg, withRuntime } from '../connect.js';

export const removeCommand: Command = {
  name: 'remove',
  summary: 'remove an app: its unit and container go, its data stays (unless --purge)',
  usage: 'berth remove APP [--purge [--yes]]',
  help: 'The recipe is renamed to <file>.removed, so the app does not come back on the next apply.\n--purge also deletes the app data in <data-dir>/apps/APP; it asks first unless --yes.',
  options: { purge: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } },
  async run({ config, positionals, options, io }) {
    if (positionals.length !== 1) throw new UsageError('remove takes one APP');
    const app = appArg(positionals[0]);
    const dataDir = appPaths(config.dataDir, app).root;
    if (options.purge && !options.yes) {
      if (!io.isTty) throw new UserError(`refusing to delete ${dataDir} without confirmation; add --yes`);
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(
        `Delete ALL data of '${app}' in ${dataDir}? Type the app name to confirm: `,
      );
      rl.close();
      if (answer.trim() !== app) throw new UserError('not confirmed; nothing was deleted');
    }
    const failed = await withRuntime(config, (rt) =>
      withLock(join(config.dataDir, '.apply.lock'), async () => {
        const p = await computePlan(rt);
        for (const r of p.recipes.results.filter((x) => (x.app?.name ?? x.declaredName) === app)) {
          await rename(r.file, `${r.file}.removed`);
          io.err(`moved ${r.file} to ${r.file}.removed`);
        }
        const current = p.current.apps.get(app);
        const others = [...p.current.apps.values()].filter((o) => o.name !== app);
        const desired = p.desired.filter((d) => d.app.name !== app);
        const steps = current
          ? planRemoval(current, releasableNames(current, others, desired, config.dataDir))
          : [];
        if (steps.some((s) => s.kind === 'delete-unit')) steps.push({ kind: 'daemon-reload' });
        const res = await execute(steps, {
          systemd: rt.systemd,
          podman: rt.podman,
          unitDir: config.unitDir,
          dataDir: config.dataDir,
          hostname: config.hostname,
          preloadDir: join(config.dataDir, 'images'),
          desired: new Map(),
        });
        for (const f of res.failed) io.err(`berth: ${f.step.kind} failed: ${f.error}`);
        return res.failed.length;
      }),
    );
    if (failed > 0) return EXIT_FAILED;
    if (options.purge) {
      await rm(dataDir, { recursive: true, force: true });
      io.err(`deleted ${dataDir}`);
    } else {
      io.err(`removed ${app}; its data stays in ${dataDir} (berth remove ${app} --purge deletes it)`);
    }
    return EXIT_OK;
  },
};
