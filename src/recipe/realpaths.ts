// The allowed-roots rules again on the paths as the file system resolves them: checkRecipe
// compares names, and /srv/x may be a symlink to /. Run each time recipes are read for an
// apply, so a link made after a recipe was written is seen before the app is (re)started.
import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type CheckContext, hostPathProblem, under } from './check.js';
import type { ParsedRecipe } from './parse.js';

/** The path with every symlink in its existing part resolved (a part that does not exist yet is kept). */
export async function resolveExisting(path: string): Promise<string> {
  const rest: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      return join(await realpath(p), ...rest.reverse());
    } catch {
      if (p === dirname(p)) return resolve(path);
      rest.push(basename(p));
    }
  }
}

async function resolvedContext(ctx: CheckContext): Promise<CheckContext> {
  return {
    allowedRoots: await Promise.all(ctx.allowedRoots.map(resolveExisting)),
    dataDir: await resolveExisting(ctx.dataDir),
  };
}

const through = (path: string, real: string) =>
  `host path ${path} resolves to ${real} (through a symlink), which`;

/** Adds a diagnostic (and drops the app) for each host path or build path whose real place breaks the rules. */
export async function checkResolvedPaths(r: ParsedRecipe, ctx: CheckContext): Promise<void> {
  const app = r.app;
  if (!app) return;
  const real = await resolvedContext(ctx);
  const problems: { path: PropertyKey[]; message: string }[] = [];
  for (const v of app.volumes) {
    if (v.host === undefined) continue;
    const resolved = await resolveExisting(v.host);
    const problem = resolved === v.host ? undefined : hostPathProblem(resolved, real);
    if (problem)
      problems.push({
        path: ['volumes', v.name, 'host'],
        message: `${through(v.host, resolved)} ${problem}`,
      });
  }
  if (app.build) {
    const inRoots = (p: string) => real.allowedRoots.some((root) => under(p, root));
    const recipeDir = await resolveExisting(dirname(resolve(app.file)));
    const context = await resolveExisting(app.build.context);
    if (!inRoots(context) && !under(context, recipeDir))
      problems.push({
        path: ['build', 'context'],
        message: `the build context ${app.build.context} resolves to ${context} (through a symlink), outside the allowed roots and the recipe's directory`,
      });
    const file = app.build.file && (await resolveExisting(app.build.file));
    if (file && !inRoots(file) && !under(file, context))
      problems.push({
        path: ['build', 'file'],
        message: `the Containerfile ${app.build.file} resolves to ${file} (through a symlink), outside the build context and the allowed roots`,
      });
  }
  if (problems.length === 0) return;
  for (const p of problems) r.diagnostics.push(r.locator.at(p.path, p.message));
  delete r.app;
}
