// Getting an app's image: present already, from a preloaded archive (offline first
// boot), or pulled from its registry.
import { type Podman, preloadArchives } from '../podman/podman.js';

export interface ImageDeps {
  podman: Podman;
  preloadDir: string;
  onProgress: (line: string) => void;
  /** Loads an archive once per pass: apps that need images from the same archive wait for one load. */
  loadOnce: (archive: string, load: () => Promise<void>) => Promise<void>;
}

export async function ensureImage(ref: string, deps: ImageDeps): Promise<void> {
  if (await deps.podman.imageExists(ref)) return;
  for (const archive of await preloadArchives(deps.preloadDir)) {
    await deps.loadOnce(archive, async () => {
      deps.onProgress(`loading ${archive}`);
      await deps.podman.loadArchive(archive);
    });
    if (await deps.podman.imageExists(ref)) return;
  }
  deps.onProgress(`pulling ${ref}`);
  await deps.podman.pull(ref, deps.onProgress);
}
