// What the executor and its step handlers share: their dependencies, the pass's memo, the
// events they report and the result. A module of its own, so neither imports the other's.
import type { Podman } from '../podman/podman.js';
import type { Step } from '../plan/steps.js';
import type { DesiredApp } from '../state/desired.js';
import type { ServiceManager, UnitState } from '../systemd/manager.js';
import type { ImageNames } from './names.js';
import type { FreeBytes } from './space.js';

export interface ExecDeps {
  systemd: ServiceManager;
  podman: Podman;
  unitDir: string;
  dataDir: string;
  hostname: string;
  preloadDir: string;
  desired: ReadonlyMap<string, DesiredApp>;
  /** How many apps are worked on at once (podman runs are mostly waiting, so more than the cores). */
  concurrency?: number;
  onEvent?: (e: ExecEvent) => void;
  /** One line of why an app's unit failed (its last error line), for the step's error. */
  explainFailure?: (app: string, st: UnitState) => Promise<string>;
  /** Free space, replaceable to inject a full disk. */
  free?: FreeBytes;
  /** An app's last output lines (kept when an update's gate fails). */
  lastOutput?: (app: string) => Promise<string[]>;
}

export type ExecEvent =
  | { type: 'step-start'; step: Step }
  | { type: 'step-done'; step: Step; ms: number }
  | { type: 'step-failed'; step: Step; ms: number; error: string }
  | { type: 'progress'; app: string; line: string };

export interface ExecResult {
  done: Step[];
  failed: { step: Step; error: string }[];
  skipped: Step[];
}

export interface PassMemo {
  loads: Map<string, Promise<void>>;
  storePath?: Promise<string>;
  /** Image names are changed one at a time, and batched (see names.ts). */
  names: ImageNames;
}
