// An app's update candidate: a registry reference is pulled again, a localhost/ reference
// is read again (someone built or loaded a new image under it). Nothing here touches the
// running app: the candidate only lands in podman's store.
import { buildImage, PULL_FLOOR } from '../exec/images.js';
import { requireSpace } from '../exec/space.js';
import { pullWithProgress } from '../exec/pull-progress.js';
import type { Podman } from '../podman/podman.js';
import type { App } from '../recipe/app.js';
import type { Pin } from './record.js';

export class CandidateError extends Error {}

export const isLocalRef = (ref: string) => ref.startsWith('localhost/');

export async function resolveCandidate(
  app: App,
  podman: Podman,
  onProgress: (line: string) => void,
  now: () => Date = () => new Date(),
): Promise<Pin> {
  const ref = app.image;
  if (app.build) {
    // A rebuild: the layer cache makes it quick, and the same ID when nothing changed.
    onProgress(`building ${ref} from ${app.build.context}`);
    await buildImage(podman, ref, app.build, onProgress).catch((err: Error) => {
      throw new CandidateError(`${err.message}; ${app.name} keeps running its pinned image`);
    });
  } else if (!isLocalRef(ref)) {
    await requireSpace(`pull ${ref}`, await podman.storePath(), PULL_FLOOR).catch((err: Error) => {
      throw new CandidateError(`${err.message}; ${app.name} keeps running its pinned image`);
    });
    onProgress(`pulling ${ref}`);
    await pullWithProgress(podman, ref, onProgress).catch((err: Error) => {
      throw new CandidateError(`${err.message}; ${app.name} keeps running its pinned image`);
    });
  }
  const id = await podman.imageId(ref);
  if (!id)
    throw new CandidateError(
      isLocalRef(ref)
        ? `no image named ${ref} in podman's store (build or load it first); ${app.name} keeps running its pinned image`
        : `${ref} is not in podman's store after the pull`,
    );
  return { ref, id, at: now().toISOString() };
}
