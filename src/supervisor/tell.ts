// What a pass has to tell a person, as events: recipes that stopped validating (and
// validate again), updates applied or rolled back, and the data disk running out of room.
// Pure: the pass's result and the disk's figures in, events and what to remember out.
import type { EventKind } from '../events/types.js';
import type { Step } from '../plan/steps.js';
import type { ParsedRecipe } from '../recipe/parse.js';

/** Below either bound the disk counts as nearly full. */
export const LOW_SPACE_RATIO = 0.1;
export const LOW_SPACE_BYTES = 2 * 1024 ** 3;

export interface PassMemory {
  /** Recipe files that did not validate at the last pass. */
  invalid: ReadonlySet<string>;
  /** Whether the data disk was nearly full at the last look. */
  lowSpace: boolean;
}
export const FIRST_PASS: PassMemory = { invalid: new Set(), lowSpace: false };

export interface Told {
  kind: EventKind;
  subject: string;
  detail?: string;
}

export interface PassFacts {
  recipes: readonly ParsedRecipe[];
  done: readonly Step[];
  /** The disk that holds the apps' data, when it could be read. */
  disk?: { path: string; freeBytes: number; totalBytes: number };
}

const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;

function recipeEvents(
  prev: PassMemory,
  recipes: readonly ParsedRecipe[],
): { told: Told[]; invalid: Set<string> } {
  const told: Told[] = [];
  const invalid = new Set<string>();
  for (const r of recipes) {
    if (r.app) continue;
    invalid.add(r.file);
    const d = r.diagnostics[0];
    if (!prev.invalid.has(r.file))
      told.push({
        kind: 'recipe-invalid',
        subject: r.file,
        ...(d ? { detail: `${d.line}:${d.col}: ${d.message}` } : {}),
      });
  }
  const files = new Set(recipes.map((r) => r.file));
  for (const f of prev.invalid)
    if (!invalid.has(f))
      told.push({ kind: 'recipe-valid', subject: f, ...(files.has(f) ? {} : { detail: 'removed' }) });
  return { told, invalid };
}

function updateEvents(done: readonly Step[]): Told[] {
  return done.flatMap((s): Told[] => {
    if (s.kind !== 'end-update') return [];
    const detail = s.entry.reason ? { detail: s.entry.reason } : {};
    if (s.entry.result === 'updated') return [{ kind: 'update-applied', subject: s.app }];
    if (s.entry.result === 'rolled-back' || s.entry.result === 'failed')
      return [{ kind: 'update-rolled-back', subject: s.app, ...detail }];
    return [];
  });
}

function diskEvents(prev: PassMemory, disk: PassFacts['disk']): { told: Told[]; lowSpace: boolean } {
  if (!disk) return { told: [], lowSpace: prev.lowSpace };
  const low = disk.freeBytes < LOW_SPACE_BYTES || disk.freeBytes < disk.totalBytes * LOW_SPACE_RATIO;
  if (low === prev.lowSpace) return { told: [], lowSpace: low };
  const detail = `${gib(disk.freeBytes)} free of ${gib(disk.totalBytes)}`;
  return {
    told: [{ kind: low ? 'disk-nearly-full' : 'disk-space-ok', subject: disk.path, detail }],
    lowSpace: low,
  };
}

export function passEvents(prev: PassMemory, facts: PassFacts): { told: Told[]; memory: PassMemory } {
  const recipes = recipeEvents(prev, facts.recipes);
  const disk = diskEvents(prev, facts.disk);
  return {
    told: [...recipes.told, ...updateEvents(facts.done), ...disk.told],
    memory: { invalid: recipes.invalid, lowSpace: disk.lowSpace },
  };
}
