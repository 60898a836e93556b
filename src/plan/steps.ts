// A plan is a list of steps: plain data, so it can be printed, compared in tests and
// carried out by executors. Steps run phase by phase; see PHASE.
import type { BuildSpec } from '../recipe/app.js';
import type { DirSpec } from '../state/desired.js';
import { type HistoryEntry, type Pin, shortId, type Transition } from '../updates/record.js';

export type Step =
  | { kind: 'stop'; app: string; unit: string; reason: string }
  | { kind: 'disable'; app: string; unit: string }
  | { kind: 'delete-unit'; app: string; unit: string }
  | { kind: 'remove-container'; app: string; container: string; reason: string }
  | { kind: 'make-dirs'; app: string; dirs: DirSpec[] }
  | { kind: 'make-secrets'; app: string; names: string[] }
  | { kind: 'write-files'; app: string }
  | { kind: 'ensure-image'; app: string; image: string; build?: BuildSpec }
  | { kind: 'ensure-network'; app: string; network: string }
  | { kind: 'write-unit'; app: string; unit: string; hash: string }
  | { kind: 'daemon-reload' }
  | { kind: 'enable'; app: string; unit: string }
  | { kind: 'start'; app: string; unit: string }
  | { kind: 'restart'; app: string; unit: string; reason: string }
  // Images and updates (src/updates): pin, snapshot, switch, gate, and the record of it.
  | {
      kind: 'pin-image';
      app: string;
      ref: string;
      /** The image to pin; resolved from ref when it is run, if not known when planned. */
      id?: string;
      /** What `:previous` names afterwards (none: the tag is removed). */
      previous?: Pin;
      reason: string;
    }
  /** Names berth gave an app's images, removed with the app; podman deletes an image left with no name. */
  | { kind: 'release-images'; app: string; names: string[] }
  | { kind: 'remove-image'; id: string; bytes: number }
  | { kind: 'remove-network'; network: string }
  | { kind: 'prune-snapshots'; app: string; keep: number }
  | { kind: 'begin-update'; app: string; transition: Transition }
  | { kind: 'snapshot'; app: string; paths: string[]; image: string; keep: number }
  | { kind: 'restore-snapshot'; app: string; snapshot: string }
  | { kind: 'gate'; app: string; unit: string; windowMs: number; stableForMs: number; health: boolean }
  | { kind: 'end-update'; app: string; entry: Omit<HistoryEntry, 'at' | 'app'>; reject?: string };

export type StepKind = Step['kind'];

/** Execution order: everything of one phase finishes before the next begins. */
export const PHASE: Record<StepKind, number> = {
  'begin-update': 0,
  stop: 0,
  disable: 0,
  'remove-container': 0,
  'delete-unit': 1,
  'release-images': 2,
  'remove-image': 2,
  'remove-network': 2,
  'prune-snapshots': 2,
  'make-dirs': 1,
  snapshot: 1,
  'restore-snapshot': 1,
  'make-secrets': 2,
  'write-files': 3,
  'ensure-network': 3,
  'ensure-image': 3,
  // After ensure-image (same phase, the app's steps run in the order planned).
  'pin-image': 3,
  'write-unit': 4,
  // Enable before the reload: a unit's other WantedBy= (a data disk's mount) is a .wants link
  // the running manager learns only at a reload, so the app starts when its disk comes back.
  enable: 5,
  'daemon-reload': 6,
  start: 7,
  restart: 7,
  gate: 8,
  'end-update': 9,
};

/** One line per step, for people. */
export function describeStep(s: Step): string {
  switch (s.kind) {
    case 'stop':
      return `stop ${s.unit} (${s.reason})`;
    case 'remove-container':
      return `remove container ${s.container} (${s.reason})`;
    case 'make-dirs':
      return `make ${s.dirs.map((d) => d.path).join(', ')}`;
    case 'make-secrets':
      return `generate secret${s.names.length > 1 ? 's' : ''} ${s.names.join(', ')}`;
    case 'write-files':
      return `write config files of ${s.app}`;
    case 'ensure-image':
      return s.build ? `build image ${s.image} from ${s.build.context}` : `get image ${s.image}`;
    case 'ensure-network':
      return `create network ${s.network}`;
    case 'write-unit':
      return `write ${s.unit}`;
    case 'daemon-reload':
      return 'reload systemd';
    case 'restart':
      return `restart ${s.unit} (${s.reason})`;
    case 'pin-image':
      return `pin ${s.app} to ${s.ref}${s.id ? ` (${shortId(s.id)})` : ''} (${s.reason})`;
    case 'release-images':
      return `remove the images ${s.app} no longer needs (${s.names.join(', ')})`;
    case 'remove-image':
      return `remove image ${shortId(s.id)} (${Math.round(s.bytes / 1048576)} MiB)`;
    case 'remove-network':
      return `remove network ${s.network}`;
    case 'prune-snapshots':
      return `keep the newest ${s.keep} snapshots (and set-aside copies) of ${s.app}`;
    case 'begin-update':
      return `${s.transition.kind} ${s.app}: ${shortId(s.transition.from.id)} → ${shortId(s.transition.to.id)}`;
    case 'snapshot':
      return `snapshot the data of ${s.app}`;
    case 'restore-snapshot':
      return `restore the data of ${s.app} from ${s.snapshot.split('/').at(-1)}`;
    case 'gate':
      return `check that ${s.app} runs${s.health ? ' healthy' : ''} and stays up`;
    case 'end-update':
      return `record: ${s.app} ${s.entry.result}${s.entry.reason ? ` (${s.entry.reason})` : ''}`;
    default:
      return `${s.kind} ${s.unit}`;
  }
}
