// The recipes: read once per doctor run (other checks ask what they need), summarized in one line.
import { stat } from 'node:fs/promises';
import { checkContext } from '../context.js';
import { loadRecipes } from '../recipe/load.js';
import { inRoot } from './rootfs.js';
import type { CheckResult, DoctorDeps, RecipeFacts } from './types.js';

const MAX_LISTED = 5;

export async function loadRecipeFacts(deps: DoctorDeps): Promise<RecipeFacts> {
  const dir = deps.recipesDir;
  if (!dir) return { apps: [] };
  if (!(await stat(dir).catch(() => undefined))?.isDirectory())
    return { dir, error: `${inRoot(deps.root, dir)} is not a directory`, apps: [] };
  try {
    const set = await loadRecipes([dir], checkContext(deps.config));
    return { dir, set, apps: set.apps.filter((a) => a.enabled) };
  } catch (err) {
    return { dir, error: (err as Error).message, apps: [] };
  }
}

export function recipesResult(deps: DoctorDeps, facts: RecipeFacts): CheckResult {
  if (!facts.dir)
    return {
      id: 'recipes',
      status: 'warn',
      summary:
        'no recipes: the root has no /etc/berth/recipes and --recipes was not given, so what they need was not checked',
      fix: 'Pass --recipes DIR with the recipes this root will run.',
    };
  const shown = inRoot(deps.root, facts.dir);
  if (!facts.set)
    return {
      id: 'recipes',
      status: 'warn',
      summary: `recipes dir ${facts.error ?? shown}`,
      fix: `Create ${shown} and put recipes in it (see /usr/share/berth/recipes or the repository's recipes/).`,
    };
  const { results } = facts.set;
  const invalid = results.filter((r) => !r.app);
  const counts = `${results.length} recipe${results.length === 1 ? '' : 's'}, ${results.length - invalid.length} valid, ${invalid.length} invalid`;
  if (invalid.length === 0) return { id: 'recipes', status: 'ok', summary: `${shown}: ${counts}` };
  const where = invalid.slice(0, MAX_LISTED).map((r) => {
    const d = r.diagnostics[0];
    return `${inRoot(deps.root, r.file)}${d ? `:${d.line}` : ''}`;
  });
  return {
    id: 'recipes',
    status: 'warn',
    summary: `${shown}: ${counts}: ${where.join(' ')}${invalid.length > MAX_LISTED ? ' …' : ''}`,
    fix: "Run 'berth validate' to see each problem; the other apps are unaffected.",
  };
}
