// Unit files in the unit dir. berth writes and deletes only files that carry its mark.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isBerthUnit } from '../render/unit.js';
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
