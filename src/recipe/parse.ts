// One recipe file: YAML → data → schema → semantic checks → App. Every problem found is
// reported with its position; parsing never throws for bad input.
import { LineCounter, parseAllDocuments, type YAMLError } from 'yaml';
import type { App } from './app.js';
import { toApp } from './app.js';
import { type CheckContext, checkRecipe } from './check.js';
import type { Diagnostic } from './diagnostics.js';
import { issuesToDiagnostics } from './issues.js';
import { Locator } from './locate.js';
import { type Recipe, RecipeSchema } from './schema.js';

/** Recipes are small; anything bigger is a mistake (or an attempt to exhaust memory). */
export const MAX_RECIPE_BYTES = 256 * 1024;
/** YAML aliases allowed when resolving a document: enough for reuse, too few for a "billion laughs". */
export const MAX_ALIASES = 64;

export interface ParsedRecipe {
  file: string;
  /** Present when the file passed every per-file check. */
  app?: App;
  /** The `name` the file declares, when it could be read, even if other fields are wrong. */
  declaredName?: string;
  diagnostics: Diagnostic[];
  locator: Locator;
}

export function parseRecipeText(file: string, text: string, ctx: CheckContext): ParsedRecipe {
  const lineCounter = new LineCounter();
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_RECIPE_BYTES) {
    const loc = new Locator(file, text.slice(0, 200), lineCounter);
    return fail(file, loc, [
      loc.diagnostic(
        { start: 0, end: 0 },
        `the file is ${bytes} bytes; recipes are limited to ${MAX_RECIPE_BYTES} bytes (put large content in a volume, not in files:)`,
      ),
    ]);
  }
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const first = Array.isArray(docs) ? docs[0] : undefined;
  const loc = new Locator(file, text, lineCounter, first);
  if (!Array.isArray(docs) || docs.length === 0 || !first || first.contents === null) {
    return fail(file, loc, [
      loc.diagnostic({ start: 0, end: 0 }, 'the file is empty; a recipe needs at least name and image'),
    ]);
  }
  if (docs.length > 1) {
    const second = docs[1]!;
    return fail(file, loc, [
      loc.diagnostic(
        { start: second.range[0], end: second.range[0] + 3 },
        "one recipe per file: found a second YAML document ('---')",
      ),
    ]);
  }
  // Only the first syntax error: the ones after it are mostly its echoes.
  const yamlErrors = first.errors.slice(0, 1).map((e) => yamlDiagnostic(loc, e));
  if (yamlErrors.length > 0) return fail(file, loc, yamlErrors);

  let data: unknown;
  try {
    data = first.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const message =
      err instanceof ReferenceError && /alias/i.test(err.message)
        ? `too many YAML alias expansions (more than ${MAX_ALIASES}); write the values out instead of nesting aliases`
        : `the YAML could not be read: ${(err as Error).message}`;
    const alias = /\*[A-Za-z0-9_-]+/.exec(text);
    return fail(file, loc, [
      loc.diagnostic({ start: alias?.index ?? 0, end: (alias?.index ?? 0) + 1 }, message),
    ]);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return fail(file, loc, [
      loc.diagnostic(
        { start: first.contents.range[0], end: first.contents.range[1] },
        'a recipe must be a mapping of keys (name: ..., image: ...)',
      ),
    ]);
  }
  const rawName = (data as Record<string, unknown>).name;
  const result = RecipeSchema.safeParse(data, { reportInput: true });
  const declaredName = result.success ? result.data.name : typeof rawName === 'string' ? rawName : undefined;
  const named = declaredName !== undefined ? { declaredName } : {};
  if (!result.success) {
    return { file, diagnostics: issuesToDiagnostics(result.error.issues, data, loc), locator: loc, ...named };
  }
  const recipe: Recipe = result.data;
  const problems = checkRecipe(recipe, ctx);
  if (problems.length > 0) {
    return {
      file,
      ...named,
      locator: loc,
      diagnostics: problems.map((p) =>
        loc.at(p.path, p.message, {
          ...(p.key ? { key: true } : {}),
          ...(p.needle ? { needle: p.needle } : {}),
        }),
      ),
    };
  }
  return { file, app: toApp(recipe, file, ctx.dataDir), diagnostics: [], locator: loc, ...named };
}

function fail(file: string, locator: Locator, diagnostics: Diagnostic[]): ParsedRecipe {
  return { file, diagnostics, locator };
}

const YAML_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'this key appears twice in the same mapping; keep one',
  TAB_AS_INDENT: 'YAML indentation must use spaces, not tabs',
  BAD_INDENT: 'the indentation does not line up with the lines above',
  MISSING_CHAR: 'a closing quote or bracket is missing',
  MULTIPLE_DOCS: "one recipe per file: found a second YAML document ('---')",
};

function yamlDiagnostic(loc: Locator, e: YAMLError): Diagnostic {
  const base = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const hint = YAML_HINTS[e.code];
  const message = `YAML syntax: ${hint ?? base}${hint && !base.toLowerCase().includes('duplicate') ? ` (${base})` : ''}`;
  return loc.diagnostic({ start: e.pos[0], end: e.pos[1] }, message);
}
