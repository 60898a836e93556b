// The supervisor's events: an app failing and recovering (from the failure tracker), and
// what each pass has to tell (recipes, updates, the data disk); an OS rollback once, at start.
// They go to the notifier, which writes the event log and tells the channels.
import { mkdir, readFile, rename, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { readEvents } from '../events/log.js';
import type { EventKind } from '../events/types.js';
import type { Notifications } from '../notify/notifier.js';
import { readOsFactsQuick } from '../os/facts.js';
import { osStatus } from '../os/status.js';
import type { App } from '../recipe/app.js';
import type { Applied, Runtime } from '../runtime.js';
import { redactorFor } from '../status/redact.js';
import { FIRST_PASS, type PassMemory, passEvents } from './tell.js';

export interface SupervisorEvents {
  appChanged(app: string, change: 'failing' | 'recovered', reason?: string): void;
  afterPass(r: Applied): Promise<void>;
  /** At start: an OS rollback that has not been told yet. */
  atStart(): Promise<void>;
  /** What another watcher of the supervisor's noticed (a disk's SMART). */
  emit(kind: EventKind, subject: string, detail?: string): Promise<void>;
}

/**
 * The OS version berth last started on (kept in the data dir, on /var): returns the one
 * before when this is a new version, and remembers this one. A first start tells nothing.
 */
async function bootedVersionChange(stateDir: string, version: string): Promise<string | undefined> {
  const file = join(stateDir, 'booted-version');
  const before = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (before === version) return undefined;
  await mkdir(stateDir, { recursive: true });
  await writeFile(`${file}.new`, `${version}\n`);
  await rename(`${file}.new`, file);
  return before || undefined;
}

export function supervisorEvents(
  rt: Runtime,
  log: Logger,
  notifier: Notifications | undefined,
  appNamed: (name: string) => App | undefined,
): SupervisorEvents {
  let memory: PassMemory = FIRST_PASS;
  const emit = async (kind: EventKind, subject: string, detail?: string) => {
    await notifier
      ?.emit(kind, subject, detail)
      .catch((err: Error) => log.warn({ error: err.message, kind }, 'cannot record an event'));
  };

  return {
    emit,
    appChanged(app, change, reason) {
      // A reason is the app's own last line: its env values, secrets and credentials are masked.
      const masked = reason
        ? redactorFor(appNamed(app), app, rt.config.dataDir, rt.config.hostname).then((hide) => hide(reason))
        : Promise.resolve(undefined);
      void masked.then((detail) => emit(change === 'failing' ? 'app-failed' : 'app-recovered', app, detail));
    },
    async afterPass(r) {
      if (!notifier) return;
      const diagnostics = await notifier.reload();
      for (const d of diagnostics) log.error({ file: d.file, line: d.line }, `notify settings: ${d.message}`);
      const fs = await statfs(rt.config.dataDir).catch(() => undefined);
      const disk = fs && {
        path: rt.config.dataDir,
        freeBytes: fs.bavail * fs.bsize,
        totalBytes: fs.blocks * fs.bsize,
      };
      const { told, memory: next } = passEvents(memory, {
        recipes: r.recipes.results,
        done: r.result.done,
        ...(disk ? { disk } : {}),
      });
      memory = next;
      for (const t of told) await emit(t.kind, t.subject, t.detail);
    },
    async atStart() {
      if (!notifier) return;
      const os = await readOsFactsQuick({
        release: rt.config.os.release,
        espDir: rt.config.os.espDir,
        stateDir: join(rt.config.dataDir, 'os'),
      }).catch(() => undefined);
      if (!os) return;
      const back = osStatus(os).rolledBack;
      if (!back) {
        const from = await bootedVersionChange(join(rt.config.dataDir, 'os'), os.version);
        if (from) await emit('os-booted', os.version, `was ${from}`);
        return;
      }
      await bootedVersionChange(join(rt.config.dataDir, 'os'), os.version);
      const told = await readEvents(rt.config.dataDir);
      if (!told.some((e) => e.kind === 'os-rolled-back' && e.subject === back.from))
        await emit('os-rolled-back', back.from, back.reason);
    },
  };
}
