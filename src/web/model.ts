// What the status page shows, read from the same places `berth status` reads, plus the
// host: its name, addresses, OS and free space. Secrets, env values and files: content
// never enter the model (AppStatus carries none of them).
import { readFile, statfs } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { readOsFactsQuick } from '../os/facts.js';
import { osStatus, osStatusLine } from '../os/status.js';
import { parseOsRelease } from '../os/version.js';
import { computePlan, type Runtime } from '../runtime.js';
import { shownSource } from '../recipe/diagnostics.js';
import { readOutcome } from '../settings/record.js';
import { appStatuses } from '../status.js';
import type { HostInfo, PageModel, Samples } from './page.js';

async function osName(release: string): Promise<string> {
  const r = parseOsRelease(await readFile(release, 'utf8').catch(() => ''));
  const name = r.prettyName ?? 'Linux';
  return r.imageId === 'berth' && r.imageVersion ? `berth OS ${r.imageVersion} (${name})` : name;
}

/** A rollback of the OS (or a version on trial), said where the apps are. */
async function osNotice(rt: Runtime): Promise<string | undefined> {
  const facts = await readOsFactsQuick({
    release: rt.config.os.release,
    espDir: rt.config.os.espDir,
    stateDir: join(rt.config.dataDir, 'os'),
  });
  return facts && osStatusLine(osStatus(facts));
}

/** The machine's LAN addresses: IPv4, and IPv6 other than link-local. */
export function addresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && (a.family === 'IPv4' || !a.address.startsWith('fe80')))
    .map((a) => a!.address);
}

export async function hostInfo(rt: Runtime): Promise<HostInfo> {
  const fs = await statfs(rt.config.dataDir).catch(() => undefined);
  return {
    name: rt.config.hostname,
    addresses: addresses(),
    os: await osName(rt.config.os.release),
    ...(fs ? { freeBytes: fs.bavail * fs.bsize } : {}),
    dataDir: rt.config.dataDir,
  };
}

export async function readModel(
  rt: Runtime,
  advertised: (app: string) => string[],
  samples: ReadonlyMap<string, Samples>,
): Promise<PageModel> {
  const [plan, host, imported, os] = await Promise.all([
    computePlan(rt),
    hostInfo(rt),
    readOutcome(rt.config.dataDir),
    osNotice(rt).catch(() => undefined),
  ]);
  const apps = await appStatuses(rt, Date.now(), plan);
  return {
    host,
    apps: apps.map((a) => ({ ...a, advertised: advertised(a.app) })),
    errors: plan.recipes.diagnostics.map((d) => ({
      file: d.file,
      line: d.line,
      col: d.col,
      message: d.message,
      // An env value or a file's content is never shown, even on a line with an error.
      ...(shownSource(d) !== undefined ? { source: shownSource(d)! } : {}),
    })),
    ...(imported
      ? {
          settings: [
            ...imported.problems,
            ...imported.failed.map((f) => ({ file: 'berth', message: `${f.what}: ${f.error}` })),
          ],
        }
      : {}),
    ...(os ? { osNotice: os } : {}),
    samples,
    at: new Date().toISOString(),
  };
}
