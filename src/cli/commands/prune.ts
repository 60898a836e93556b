import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execute } from '../../exec/executor.js';
import { withLock } from '../../exec/lock.js';
import { formatBytes } from '../../exec/space.js';
import { describeStep } from '../../plan/steps.js';
import { applyLockPath, computePlan, executorDeps } from '../../runtime.js';
import { instanceOf } from '../../render/paths.js';
import { planPrune } from '../../updates/prune.js';
import { readHistory, readRecord } from '../../updates/record.js';
import { listAside, listSnapshots } from '../../updates/snapshot.js';
import { type Command, EXIT_FAILED, EXIT_OK } from '../command.js';
import { withRuntime } from '../connect.js';

export const pruneCommand: Command = {
  name: 'prune',
  summary:
    'remove the images, networks, snapshots and set-aside data berth made and no longer needs; say the space freed',
  usage: 'berth prune [--json]',
  help: "Never touches images, containers or networks berth did not make, nor a removed app's data.",
  options: { json: { type: 'boolean' } },
  async run({ config, options, io }) {
    const report = await withRuntime(config, (rt) =>
      withLock(applyLockPath(config), async () => {
        const p = await computePlan(rt);
        const appsDir = join(config.dataDir, 'apps');
        const names = (await readdir(appsDir).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
        const records = new Map(
          names.map((n) => [
            n,
            { record: readRecord(config.dataDir, n), history: readHistory(config.dataDir, n) },
          ]),
        );
        const [images, inUse, networks] = await Promise.all([
          rt.podman.listImages(),
          rt.podman.imagesInUse(),
          rt.podman.listBerthNetworks(instanceOf(config.dataDir)),
        ]);
        // Snapshots and the data rollbacks set aside, both kept per app by update.keep.
        const kept = async () => {
          const per = await Promise.all(
            p.desired.map(async (d) => [
              ...(await listSnapshots(config.dataDir, d.app.name)),
              ...(await listAside(config.dataDir, d.app.name)),
            ]),
          );
          return { count: per.flat().length, bytes: per.flat().reduce((a, s) => a + s.bytes, 0) };
        };
        const keptBefore = await kept();
        const steps = planPrune({
          dataDir: config.dataDir,
          desired: p.desired,
          records,
          images,
          inUse,
          networks,
        });
        const result = await execute(steps, executorDeps(rt, p.desired));
        const left = new Set((await rt.podman.listImages()).map((i) => i.id));
        const imageBytes = images.filter((i) => !left.has(i.id)).reduce((a, i) => a + i.size, 0);
        return {
          removedImages: images.filter((i) => !left.has(i.id)).map((i) => i.id),
          steps: result.done.map(describeStep),
          failed: result.failed.map((f) => `${describeStep(f.step)}: ${f.error}`),
          ...(await kept().then((after) => ({
            removedCopies: keptBefore.count - after.count,
            freedBytes: imageBytes + (keptBefore.bytes - after.bytes),
          }))),
        };
      }),
    );
    if (options.json) io.out(JSON.stringify(report, null, 2));
    else {
      for (const s of report.steps) if (!s.startsWith('keep the newest')) io.out(s);
      for (const f of report.failed) io.out(`FAILED ${f}`);
      io.out(
        `freed ${formatBytes(report.freedBytes)} (${report.removedImages.length} images, ${report.removedCopies} snapshots and set-aside copies)`,
      );
    }
    return report.failed.length > 0 ? EXIT_FAILED : EXIT_OK;
  },
};
