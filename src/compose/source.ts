// Where `berth import compose` reads from: a file, a folder holding a compose file (with its
// .env beside it), or an https URL (a file from an app's repository; a GitHub page's address
// is read as its raw file). A download is bounded in size and time and kept in a private
// temporary folder, removed after the import.
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_COMPOSE_BYTES } from './load.js';

/** A source that cannot be read: the CLI shows it as one message. */
export class ComposeSourceError extends Error {}

/** The names Compose looks for in a folder, in its order. */
export const COMPOSE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export function findComposeFile(path: string): string {
  if (!existsSync(path) || !statSync(path).isDirectory()) return path;
  const found = COMPOSE_NAMES.map((n) => join(path, n)).find((f) => existsSync(f));
  if (!found)
    throw new ComposeSourceError(
      `${path}: no compose file in this folder (looked for ${COMPOSE_NAMES.join(', ')})`,
    );
  return found;
}

/** https, or http to this machine only (a file served locally); a GitHub page as its raw file. */
export function composeUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ComposeSourceError(`${text}: not a URL`);
  }
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local))
    throw new ComposeSourceError(`${text}: only https URLs are read (http only from this machine)`);
  const blob = /^\/([^/]+)\/([^/]+)\/blob\/(.+)$/.exec(url.pathname);
  if (url.hostname === 'github.com' && blob)
    return new URL(`https://raw.githubusercontent.com/${blob[1]}/${blob[2]}/${blob[3]}`);
  return url;
}

export async function fetchComposeUrl(
  text: string,
  get: typeof fetch = fetch,
): Promise<{ file: string; cleanup(): Promise<void> }> {
  const url = composeUrl(text);
  const res = await get(url, { signal: AbortSignal.timeout(20_000), redirect: 'follow' }).catch(
    (err: unknown) => {
      throw new ComposeSourceError(`${url.href}: could not be fetched: ${(err as Error).message}`);
    },
  );
  if (!res.ok)
    throw new ComposeSourceError(`${url.href}: the server answered ${res.status} ${res.statusText}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > MAX_COMPOSE_BYTES) {
      await res.body?.cancel().catch(() => undefined);
      throw new ComposeSourceError(
        `${url.href}: larger than ${MAX_COMPOSE_BYTES} bytes; compose files are limited to that`,
      );
    }
    chunks.push(chunk as Uint8Array);
  }
  const dir = await mkdtemp(join(tmpdir(), 'berth-import-'));
  const name = /\.ya?ml$/.test(url.pathname) ? url.pathname.split('/').pop()! : 'compose.yaml';
  const file = join(dir, name);
  await writeFile(file, Buffer.concat(chunks), { mode: 0o600 });
  return { file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
