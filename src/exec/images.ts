// Getting an app's image: present already, from a preloaded archive (offline first
// boot), or pulled from its registry. Before filling podman's store, the free space there
// is checked, so a small disk says so instead of failing half-way through a load.
import { stat } from 'node:fs/promises';
import type { BuildSpec } from '../recipe/app.js';
import { type Podman, preloadArchives } from '../podman/podman.js';
import { pullWithProgress } from './pull-progress.js';
import { type FreeBytes, MiB, requireSpace } from './space.js';

export interface ImageDeps {
  podman: Podman;
  preloadDir: string;
  onProgress: (line: string) => void;
  /** Loads an archive once per pass: apps that need images from the same archive wait for one load. */
  loadOnce: (archive: string, load: () => Promise<void>) => Promise<void>;
  /** podman's image store, asked once per pass. */
  storePath: () => Promise<string>;
  free?: FreeBytes;
}

/** Room a pull needs at the least (its size is not known before it starts). */
export const PULL_FLOOR = 512 * MiB;

/** Room a load needs: layers unpacked from a plain tar take about its size, a compressed one several times it. */
export function loadNeeds(archive: string, size: number): number {
  return (/\.tar$/.test(archive) ? 1.5 : 4) * size + 64 * MiB;
}

export async function ensureImage(ref: string, deps: ImageDeps, build?: BuildSpec): Promise<void> {
  if (await deps.podman.imageExists(ref)) return;
  if (build) {
    deps.onProgress(`building ${ref} from ${build.context}`);
    return buildImage(deps.podman, ref, build, deps.onProgress);
  }
  for (const archive of await preloadArchives(deps.preloadDir)) {
    await deps.loadOnce(archive, async () => {
      const size = (await stat(archive)).size;
      await requireSpace(`load ${archive}`, await deps.storePath(), loadNeeds(archive, size), deps.free);
      deps.onProgress(`loading ${archive}`);
      await deps.podman.loadArchive(archive);
    });
    if (await deps.podman.imageExists(ref)) return;
  }
  await requireSpace(`pull ${ref}`, await deps.storePath(), PULL_FLOOR, deps.free);
  deps.onProgress(`pulling ${ref}`);
  await pullWithProgress(deps.podman, ref, deps.onProgress);
}

/** Removes names berth gave an app's images; an image left with none is deleted by podman, one a container uses stays. */
export async function releaseImages(podman: Podman, names: readonly string[]): Promise<void> {
  for (const n of names) if (await podman.imageExists(n)) await podman.removeImage(n);
}

export class BuildError extends Error {}

/** Builds a build: app's image under its tag, offline (--pull=never), in the docker format, which keeps a HEALTHCHECK. */
export async function buildImage(
  podman: Podman,
  ref: string,
  b: BuildSpec,
  onLine: (line: string) => void,
): Promise<void> {
  const args = [
    '--format=docker',
    '--pull=never',
    '--layers',
    `--tag=${ref}`,
    ...(b.file ? [`--file=${b.file}`] : []),
    ...Object.entries(b.args).map(([k, v]) => `--build-arg=${k}=${v}`),
    ...(b.target ? [`--target=${b.target}`] : []),
    // Absolute, so podman cannot read it as an option.
    b.context,
  ];
  const r = await podman.build(args, onLine);
  if (r.code !== 0) {
    const lines = `${r.stdout}\n${r.stderr}`.trim().split('\n').filter(Boolean);
    const step = [...lines].reverse().find((l) => /^STEP \d+\/\d+/.test(l));
    throw new BuildError(
      `building ${ref} from ${b.context} failed${step ? ` at ${step}` : ''}: ${lines.at(-1) ?? `exit ${r.code}`}`,
    );
  }
}
