// berth import compose: load (parse, interpolate, schema), convert, then check the recipes
// as `berth validate` would beside the recipes already there; write all of them, or none.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { link, mkdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { atomicWrite, newSecretValue, privateDir } from '../exec/files.js';
import type { CheckContext } from '../recipe/check.js';
import { shownSource } from '../recipe/diagnostics.js';
import { checkRecipeSet, readRecipe, recipeFiles } from '../recipe/load.js';
import { type ParsedRecipe, parseRecipeText } from '../recipe/parse.js';
import { appPaths } from '../render/paths.js';
import type { PathFacts } from './binds.js';
import { appName, type ConvertedApp, convertCompose } from './convert.js';
import { type ComposeMessage, loadCompose, type LoadedCompose, pathText } from './load.js';
import { takeData, takeRefusal, type TakeRequest } from './take-data.js';

export interface ImportResult {
  written: string[];
  /** Apps converted, by service. */
  apps: { service: string; app: string; file: string }[];
  messages: ComposeMessage[];
  /** The recipes as they are (or, with dryRun, would be) written. */
  recipes: { file: string; text: string }[];
  /** Folders whose contents went (or, with dryRun, would go) into apps' volumes. */
  taken: TakeRequest[];
}

export interface ImportOptions {
  outDir: string;
  envFiles?: string[];
  profiles: string[];
  ctx: CheckContext;
  env?: NodeJS.ProcessEnv;
  /** --bind SRC=DEST: a bind source as written in the compose file → a folder under the allowed roots. */
  binds?: ReadonlyMap<string, string>;
  /** --move-data / --copy-data: a relative bind's folder that holds files goes into the app's volume. */
  data?: 'move' | 'copy';
  /** --dry-run: everything but writing (recipes and data stay as they are). */
  dryRun?: boolean;
}

export async function importCompose(file: string, opts: ImportOptions): Promise<ImportResult> {
  try {
    return await importUnguarded(file, opts);
  } catch (err) {
    // A document that still trips the converter is reported, never a stack trace.
    return {
      written: [],
      apps: [],
      recipes: [],
      taken: [],
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
const factsOf = (p: string): PathFacts | undefined =>
  tryOr(() => {
    const st = statSync(p);
    const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    return { kind, size: st.size, mode: st.mode, entries: kind === 'dir' ? readdirSync(p).length : 0 };
  });

async function importUnguarded(file: string, opts: ImportOptions): Promise<ImportResult> {
  const loaded = await loadCompose(file, {
    ...(opts.envFiles ? { envFiles: opts.envFiles } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  const none = (messages: ComposeMessage[]): ImportResult => ({
    written: [],
    apps: [],
    messages,
    recipes: [],
    taken: [],
  });
  if (!('data' in loaded)) return none(loaded.messages);
  if (loaded.messages.some((m) => m.level === 'error')) return none(loaded.messages);
  const dir = dirname(resolve(file));
  const project =
    appName(typeof loaded.data.name === 'string' ? loaded.data.name : basename(dir)).replace(
      /^-+|-+$/g,
      '',
    ) || 'compose';
  const dataDir = realOr(resolve(opts.ctx.dataDir));
  const converted = convertCompose(loaded.data, {
    file,
    dir,
    realDir: realOr(dir),
    dataDir,
    binds: opts.binds ?? new Map(),
    vars: loaded.vars,
    data: opts.data,
    profiles: opts.profiles,
    allowedRoots: opts.ctx.allowedRoots,
    project,
    locate: loaded.locate,
    envFilePlaces: { dir: realOr(dir), allowedRoots: opts.ctx.allowedRoots.map(realOr), dataDir },
    stat: factsOf,
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
  messages.push(...recipeCheckMessages(fresh, texts, file, loaded.locate));
  const apps = texts.map((t) => ({ service: t.service, app: t.name, file: t.dest }));
  const recipes = texts.map((t) => ({ file: t.dest, text: t.text }));
  const taken = converted.apps.flatMap((a) =>
    a.takes.map((t) => ({
      from: t.from,
      to: appPaths(opts.ctx.dataDir, a.name).volume(t.volume),
      move: opts.data === 'move',
    })),
  );
  if (texts.length === 0)
    messages.push({ level: 'error', file, text: 'no service to import (check --profile)' });
  if (messages.some((m) => m.level === 'error')) return { written: [], apps, messages, recipes, taken };
  const written = await writeImport(converted.apps, texts, taken, opts, messages);
  return { written, apps, messages, recipes, taken };
}

/**
 * Everything the import puts on the machine, in the order a crash leaves safe: the data
 * (refused before anything moves if a volume holds data), the secrets and shared folders,
 * then the recipes (a recipe written first would start its app on an empty volume). Returns
 * the recipes written: none on any error (said in messages), and none with --dry-run.
 */
async function writeImport(
  apps: readonly ConvertedApp[],
  texts: { dest: string; text: string }[],
  taken: readonly TakeRequest[],
  opts: ImportOptions,
  messages: ComposeMessage[],
): Promise<string[]> {
  for (const t of taken) {
    const why = await takeRefusal(t);
    if (why) messages.push({ level: 'error', file: t.from, text: why });
  }
  if (messages.some((m) => m.level === 'error') || opts.dryRun) return [];
  const failed = (file: string, text: string) => {
    messages.push({ level: 'error', file, text: `${text}; no recipe was written` });
    return [];
  };
  for (const t of taken)
    try {
      await takeData(t);
    } catch (err) {
      return failed(t.from, (err as Error).message);
    }
  try {
    await seedSecrets(apps, opts.ctx.dataDir);
    for (const d of new Set(apps.flatMap((a) => a.dirs))) await mkdir(d, { recursive: true, mode: 0o755 });
  } catch (err) {
    return failed(
      opts.ctx.dataDir,
      `the apps' secrets and shared folders could not be made: ${(err as Error).message}`,
    );
  }
  return placeRecipes(texts, opts.outDir, messages);
}

/** A recipe's check speaks of the recipe (not written): said at the compose key it came from. */
function recipeCheckMessages(
  fresh: readonly ParsedRecipe[],
  texts: readonly { service: string }[],
  file: string,
  locate: LoadedCompose['locate'],
): ComposeMessage[] {
  return fresh.flatMap((r, k) =>
    r.diagnostics.map((d): ComposeMessage => {
      const key = composeKeyOf(d.field);
      const path = ['services', texts[k]!.service, ...(key ? [key] : [])];
      const src = shownSource(d);
      return {
        level: 'error',
        file,
        ...(locate(path) ?? {}),
        path: pathText(path),
        text: `${d.message}${d.field ? ` (the recipe's ${d.field}${src ? `: ${src.trim()}` : ''})` : ''}`,
      };
    }),
  );
}

/** The compose key a recipe key came from (the converter's table, read backwards). */
const FROM_COMPOSE: Record<string, string> = {
  workdir: 'working_dir',
  env: 'environment',
  files: 'volumes',
  host_paths: 'volumes',
  podman_socket: 'volumes',
  network: 'network_mode',
  network_aliases: 'networks',
  health: 'healthcheck',
  capabilities: 'cap_add',
  stop_timeout: 'stop_grace_period',
  resources: 'deploy',
};
function composeKeyOf(field: string | undefined): string | undefined {
  const top = /^[a-z_]+/.exec(field ?? '')?.[0];
  if (!top || top === 'name') return undefined;
  return FROM_COMPOSE[top] ?? top;
}

/**
 * Secrets the apps get before their first start: a compose secret's value from its file,
 * and a generated one that more than one app uses (one value for all of them; one app's
 * own is made by its first apply, as always). A secret already there is never replaced.
 */
async function seedSecrets(apps: readonly ConvertedApp[], dataDir: string): Promise<void> {
  const byName = new Map<string, { value?: string; apps: Set<string> }>();
  for (const a of apps)
    for (const s of a.seeds) {
      const e = byName.get(s.name) ?? { apps: new Set<string>() };
      if (s.value !== undefined) e.value ??= s.value;
      e.apps.add(a.name);
      byName.set(s.name, e);
    }
  for (const [name, e] of byName) {
    if (e.value === undefined && e.apps.size < 2) continue;
    const files = [...e.apps].map((app) => join(appPaths(dataDir, app).secretsDir, name));
    const held = await Promise.all(files.map((f) => readFile(f, 'utf8').catch(() => undefined)));
    const value = e.value ?? held.find((h) => h !== undefined) ?? newSecretValue();
    for (const [k, f] of files.entries()) {
      if (held[k] !== undefined) continue;
      await privateDir(dirname(f));
      await atomicWrite(f, value, 0o600);
    }
  }
}

/**
 * All or nothing: every recipe goes to a temp file first; only when all are there are they
 * linked into place (a link never replaces a recipe that appeared meanwhile).
 */
async function placeRecipes(
  texts: { dest: string; text: string }[],
  outDir: string,
  messages: ComposeMessage[],
): Promise<string[]> {
  const temps: string[] = [];
  const placed: string[] = [];
  try {
    for (const t of texts) {
      const tmp = join(outDir, `.${basename(t.dest)}.import-${process.pid}.tmp`);
      await atomicWrite(tmp, t.text, 0o600);
      temps.push(tmp);
    }
    for (const [k, t] of texts.entries()) {
      await link(temps[k]!, t.dest);
      placed.push(t.dest);
    }
  } catch (err) {
    await Promise.all(placed.map((f) => rm(f, { force: true })));
    messages.push({ level: 'error', file: outDir, text: `nothing was written: ${(err as Error).message}` });
    return [];
  } finally {
    await Promise.all(temps.map((f) => rm(f, { force: true })));
  }
  return texts.map((t) => t.dest);
}

/** One message in the form compilers use; a message never holds a value from the file. */
export function formatComposeMessage(m: ComposeMessage): string {
  const at = `${m.file}${m.line ? `:${m.line}${m.col ? `:${m.col}` : ''}` : ''}`;
  const level = m.level === 'loud' ? 'POWER OVER THE HOST' : m.level;
  return `${at}: ${level}: ${m.path ? `${m.path}: ` : ''}${m.text}`.replace(/[\u0000-\u001f\u007f]/g, '?');
}
