// Reading recipe files from disk: a directory's *.yaml/*.yml, or named files.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter } from 'yaml';
import type { App } from './app.js';
import type { CheckContext } from './check.js';
import { crossCheck } from './crosscheck.js';
import { compareDiagnostics, type Diagnostic } from './diagnostics.js';
import { Locator } from './locate.js';
import { MAX_RECIPE_BYTES, type ParsedRecipe, parseRecipeText } from './parse.js';
import { checkResolvedPaths } from './realpaths.js';

export interface RecipeSet {
  /** Every file read, in path order, with its diagnostics (cross-file ones included). */
  results: ParsedRecipe[];
  /** The apps that passed every check. */
  apps: App[];
  diagnostics: Diagnostic[];
}

/** Editor leftovers and hidden files are not recipes. */
export function isRecipeFileName(name: string): boolean {
  return /\.ya?ml$/.test(name) && !name.startsWith('.') && !name.startsWith('#');
}

export class RecipePathError extends Error {}

export async function recipeFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(p);
    } catch {
      throw new RecipePathError(`${p}: no such file or directory`);
    }
    if (st.isDirectory()) {
      const names = (await readdir(p)).filter(isRecipeFileName).sort();
      files.push(...names.map((n) => join(p, n)));
    } else {
      files.push(p);
    }
  }
  return files;
}

function unreadable(file: string, message: string): ParsedRecipe {
  const loc = new Locator(file, '', new LineCounter());
  return { file, diagnostics: [loc.diagnostic({ start: 0, end: 0 }, message)], locator: loc };
}

export async function readRecipe(file: string, ctx: CheckContext): Promise<ParsedRecipe> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return unreadable(file, 'not a regular file');
    if (st.size > MAX_RECIPE_BYTES)
      return unreadable(
        file,
        `the file is ${st.size} bytes; recipes are limited to ${MAX_RECIPE_BYTES} bytes`,
      );
    const buf = await readFile(file);
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf);
    const parsed = parseRecipeText(file, text, ctx);
    await checkResolvedPaths(parsed, ctx);
    return parsed;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e instanceof TypeError) return unreadable(file, 'the file is not valid UTF-8 text');
    return unreadable(file, `cannot read the file: ${e.code ?? e.message}`);
  }
}

export function checkRecipeSet(results: ParsedRecipe[]): RecipeSet {
  crossCheck(results);
  const diagnostics = results.flatMap((r) => r.diagnostics).sort(compareDiagnostics);
  return { results, apps: results.flatMap((r) => (r.app ? [r.app] : [])), diagnostics };
}

export async function loadRecipes(paths: readonly string[], ctx: CheckContext): Promise<RecipeSet> {
  const files = await recipeFiles(paths);
  const results = await Promise.all(files.map((f) => readRecipe(f, ctx)));
  return checkRecipeSet(results);
}
