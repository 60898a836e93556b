// A recipe's `files:` are a mapping by name: an imported file gets a free name from its path.
import { posix } from 'node:path';

type Obj = Record<string, unknown>;

export function addRecipeFile(recipe: Obj, entry: { target: string; content: string; mode: string }): string {
  const files = (recipe.files ??= {}) as Obj;
  const base =
    posix
      .basename(entry.target)
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/^[^A-Za-z0-9_]+/, '')
      .slice(0, 56) || 'file';
  let name = base;
  for (let k = 2; name in files; k++) name = `${base}-${k}`;
  files[name] = entry;
  return name;
}
