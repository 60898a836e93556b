// Image loads and pulls check podman's store for room first (fault injection: the free
// space is given; the archive is a real file).
import { mkdtemp, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureImage, loadNeeds } from '../../src/exec/images.js';
import { MiB } from '../../src/exec/space.js';
import type { Podman } from '../../src/podman/podman.js';

function fakePodman(log: string[]): Podman {
  return {
    imageExists: async () => false,
    loadArchive: async (f: string) => void log.push(`load ${f}`),
    pull: async (r: string) => void log.push(`pull ${r}`),
  } as unknown as Podman;
}

async function preloadDir(size: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-img-'));
  await writeFile(join(dir, 'apps.tar'), '');
  await truncate(join(dir, 'apps.tar'), size);
  return dir;
}

const deps = (dir: string, log: string[], free: number) => ({
  podman: fakePodman(log),
  preloadDir: dir,
  onProgress: () => {},
  loadOnce: (_a: string, load: () => Promise<void>) => load(),
  storePath: async () => '/var/lib/containers/storage',
  free: async () => free,
});

describe('room for images', () => {
  it.each([
    ['apps.tar', 100 * MiB, 214 * MiB],
    ['apps.tar.zst', 100 * MiB, 464 * MiB],
  ])('%s of %d bytes needs %d', (name, size, need) => {
    expect(loadNeeds(name, size)).toBe(need);
  });

  it('refuses to load an archive the store has no room for, saying how much is needed and free', async () => {
    const log: string[] = [];
    const dir = await preloadDir(400 * MiB);
    await expect(ensureImage('localhost/x:1', deps(dir, log, 500 * MiB))).rejects.toThrow(
      `not enough free space to load ${join(dir, 'apps.tar')}: needs about 664 MiB in /var/lib/containers/storage, 500 MiB free; free some space there or use a larger disk`,
    );
    expect(log).toEqual([]);
  });

  it('loads when there is room', async () => {
    const log: string[] = [];
    const dir = await preloadDir(MiB);
    await ensureImage('localhost/x:1', deps(dir, log, 4096 * MiB));
    // The fake store never has the image, so after the load berth pulls: both had room.
    expect(log).toEqual([`load ${join(dir, 'apps.tar')}`, 'pull localhost/x:1']);
  });

  it('refuses to pull with less than the floor free', async () => {
    const log: string[] = [];
    const dir = await mkdtemp(join(tmpdir(), 'berth-img-'));
    await expect(ensureImage('docker.io/library/x:1', deps(dir, log, 100 * MiB))).rejects.toThrow(
      /not enough free space to pull docker.io\/library\/x:1: needs about 512 MiB in \/var\/lib\/containers\/storage, 100 MiB free/,
    );
    expect(log).toEqual([]);
  });
});
