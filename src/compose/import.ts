// berth import compose: load (parse, interpolate, schema), convert, then check the recipes
// as `berth validate` would beside the recipes already there; write all of them, or none.
import { readFileSync, realpathSync } from 'node:fs';
import { link, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { atomicWrite } from '../exec/files.js';
import type { CheckContext } from '../recipe/check.js';
import { shownSource } from '../recipe/diagnostics.js';
import { checkRecipeSet, readRecipe, recipeFiles } from '../recipe/load.js';
import { parseRecipeText } from '../recipe/parse.js';
import { appName, convertCompose } from './convert.js';
import { type ComposeMessage, loadCompose } from './load.js';

export interface ImportResult {
  written: string[];
  /** Apps converted, by service. */
  apps: { service: string; app: string; file: string }[];
  messages: ComposeMessage[];
}

export interface ImportOptions {
  outDir: string;
  envFiles?: string[];
  profiles: string[];
  ctx: CheckContext;
  env?: NodeJS.ProcessEnv;
}

export async function importCompose(file: string, opts: ImportOptions): Promise<ImportResult> {
  try {
    return await importUnguarded(file, opts);
  } catch (err) {
    // A document that still trips the converter is reported, never a stack trace.
    return {
      written: [],
      apps: [],
      messages: [{ level: 'error', file, text: `cannot convert this file: ${(err as Error).message}` }],
    };
  }
}

const tryOr = <T>(f: () => T): T | undefined => {
  try {
    return f();
  } catch {
    return undefined;
  }
};
/** A place's real path when it exists (a root reached by a link is where the link points). */
const realOr = (p: string) => tryOr(() => realpathSync(p)) ?? p;

async function importUnguarded(file: string, opts: ImportOptions): Promise<ImportResult> {
  const loaded = await loadCompose(file, {
    ...(opts.envFiles ? { envFiles: opts.envFiles } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  const none = (messages: ComposeMessage[]): ImportResult => ({ written: [], apps: [], messages });
  if (!('data' in loaded)) return none(loaded.messages);
  if (loaded.messages.some((m) => m.level === 'error')) return none(loaded.messages);
  const dir = dirname(resolve(file));
  const project =
    appName(typeof loaded.data.name === 'string' ? loaded.data.name : basename(dir)).replace(
      /^-+|-+$/g,
      '',
    ) || 'compose';
  const converted = convertCompose(loaded.data, {
    file,
    dir,
    profiles: opts.profiles,
    allowedRoots: opts.ctx.allowedRoots,
    project,
    locate: loaded.locate,
    envFilePlaces: {
      dir: realOr(dir),
      allowedRoots: opts.ctx.allowedRoots.map(realOr),
      dataDir: realOr(resolve(opts.ctx.dataDir)),
    },
    realPath: (p) => tryOr(() => realpathSync(p)),
    readFile: (p) => tryOr(() => readFileSync(p, 'utf8')),
  });
  const messages = [...loaded.messages, ...converted.messages];

  const existing: string[] = await recipeFiles([opts.outDir]).catch(() => []);
  const texts = converted.apps.map((a) => {
    const dest = join(opts.outDir, `${a.name}.yaml`);
    const head = [
      `# ${a.name}: imported by berth from ${file.replace(/[\r\n]/g, '')} (service ${a.service}).`,
      '# Read what the import said about it (berth import compose prints it), then edit freely.',
    ];
    return { ...a, dest, text: `${head.join('\n')}\n${stringify(a.recipe)}` };
  });
  for (const t of texts)
    if (existing.includes(t.dest))
      messages.push({
        level: 'error',
        file: t.dest,
        text: `${t.dest} exists already; remove it first, or import into another dir with --out`,
      });
  const machine = await Promise.all(existing.map((f) => readRecipe(f, opts.ctx)));
  const fresh = texts.map((t) => parseRecipeText(t.dest, t.text, opts.ctx));
  checkRecipeSet([...machine, ...fresh]);
  for (const r of fresh)
    for (const d of r.diagnostics) {
      const src = shownSource(d);
      messages.push({
        level: 'error',
        file: d.file,
        line: d.line,
        col: d.col,
        ...(d.field ? { path: d.field } : {}),
        text: `${d.message}${src ? ` (in: ${src.trim()})` : ''}`,
      });
    }
  const apps = texts.map((t) => ({ service: t.service, app: t.name, file: t.dest }));
  if (messages.some((m) => m.level === 'error') || texts.length === 0) {
    if (texts.length === 0)
      messages.push({ level: 'error', file, text: 'no service to import (check --profile)' });
    return { written: [], apps, messages };
  }
  // All or nothing: every recipe goes to a temp file first; only when all are there are
  // they linked into place (a link never replaces a recipe that appeared meanwhile).
  const temps: string[] = [];
  const placed: string[] = [];
  try {
    for (const t of texts) {
      const tmp = join(opts.outDir, `.${basename(t.dest)}.import-${process.pid}.tmp`);
      await atomicWrite(tmp, t.text, 0o600);
      temps.push(tmp);
    }
    for (const [k, t] of texts.entries()) {
      await link(temps[k]!, t.dest);
      placed.push(t.dest);
    }
  } catch (err) {
    await Promise.all(placed.map((f) => rm(f, { force: true })));
    messages.push({
      level: 'error',
      file: opts.outDir,
      text: `nothing was written: ${(err as Error).message}`,
    });
    return { written: [], apps, messages };
  } finally {
    await Promise.all(temps.map((f) => rm(f, { force: true })));
  }
  return { written: texts.map((t) => t.dest), apps, messages };
}

/** One message in the form compilers use; a message never holds a value from the file. */
export function formatComposeMessage(m: ComposeMessage): string {
  const at = `${m.file}${m.line ? `:${m.line}${m.col ? `:${m.col}` : ''}` : ''}`;
  const level = m.level === 'loud' ? 'POWER OVER THE HOST' : m.level;
  return `${at}: ${level}: ${m.path ? `${m.path}: ` : ''}${m.text}`.replace(/[\u0000-\u001f\u007f]/g, '?');
}
