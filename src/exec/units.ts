// Unit files in the unit dir. berth writes and deletes only files that carry its mark.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { healthUnitNames } from '../render/paths.js';
import { isBerthUnit, type RenderedUnit } from '../render/unit.js';
import { atomicWrite } from './files.js';

export class NotOurUnitError extends Error {}

async function refuseForeign(path: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) =>
    e.code === 'ENOENT' ? undefined : '',
  );
  if (text !== undefined && !isBerthUnit(text))
    throw new NotOurUnitError(
      `${path} exists and was not written by berth; berth leaves it alone (rename the app or remove that file)`,
    );
}

export async function writeUnitFile(unitDir: string, name: string, text: string): Promise<void> {
  const path = join(unitDir, name);
  await refuseForeign(path);
  await atomicWrite(path, text, 0o644);
}

export async function deleteUnitFile(unitDir: string, name: string): Promise<void> {
  const path = join(unitDir, name);
  await refuseForeign(path);
  await rm(path, { force: true });
}

/** The app's unit and its companions (health check units); companions it no longer has are removed. */
export async function writeAppUnits(unitDir: string, app: string, unit: RenderedUnit): Promise<void> {
  await writeUnitFile(unitDir, unit.name, unit.text);
  for (const c of unit.companions) await writeUnitFile(unitDir, c.name, c.text);
  const wanted = new Set(unit.companions.map((c) => c.name));
  for (const name of Object.values(healthUnitNames(app)))
    if (!wanted.has(name)) await deleteUnitFile(unitDir, name);
}

/** The app's unit and every companion it may have had. */
export async function deleteAppUnits(unitDir: string, app: string, unit: string): Promise<void> {
  for (const name of Object.values(healthUnitNames(app))) await deleteUnitFile(unitDir, name);
  await deleteUnitFile(unitDir, unit);
}
