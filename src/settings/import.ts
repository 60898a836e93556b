// An import of the BERTH partition, start to end: read the folder, parse each setting,
// check its recipes together with the machine's own (the same checks as `berth validate`),
// plan, carry out, remember. Recipes that pass land in the recipes dir, where the
// supervisor applies them like any other; one that fails never gets there.
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Config } from '../config.js';
import { checkContext } from '../context.js';
import { checkRecipeSet, readRecipe, recipeFiles } from '../recipe/load.js';
import { parseRecipeText } from '../recipe/parse.js';
import {
  executeSettings,
  KEYS_FILE,
  ONE_TIME_ISSUE,
  PASSWORD_LOGIN_CONF,
  type SettingsSystem,
} from './execute.js';
import { shownSource } from '../recipe/diagnostics.js';
import type { z } from 'zod';
import { DisksSettingsSchema } from '../disks/settings.js';
import { NotifySettingsSchema } from '../notify/settings.js';
import { parseSettingsYaml } from '../yamlfile/parse.js';
import {
  type FolderProblem,
  readFolder,
  SETTINGS_FILES,
  type SettingsFileName,
  type SettingsFolder,
  sha256,
} from './folder.js';
import {
  type Parsed,
  parseAuthorizedKeys,
  parseHostname,
  parsePassword,
  parseTimezone,
  parseYesNo,
} from './parse.js';
import { type ImportRecord, planSettings, type SettingsInput, type Sourced } from './plan.js';
import { type ImportOutcome, readImportRecord, saveImportRecord, saveOutcome } from './record.js';
import { describeSettingsStep } from './steps.js';

async function rootPasswordState(root: string, oneTimeShown: boolean): Promise<'none' | 'set' | 'one-time'> {
  const shadow = await readFile(join(root, 'etc/shadow'), 'utf8').catch(() => '');
  const f =
    shadow
      .split('\n')
      .find((l) => l.startsWith('root:'))
      ?.split(':') ?? [];
  const hash = f[1] ?? '';
  if (hash === '' || hash.startsWith('!') || hash.startsWith('*')) return 'none';
  return f[2] === '0' && oneTimeShown ? 'one-time' : 'set';
}

const exists = (path: string) =>
  readFile(path).then(
    () => true,
    () => false,
  );

async function localRecipes(dir: string): Promise<Record<string, string>> {
  const files = await recipeFiles([dir]).catch(() => []);
  const out: Record<string, string> = {};
  for (const f of files) out[basename(f)] = sha256(await readFile(f, 'utf8').catch(() => ''));
  return out;
}

const SETTINGS_SCHEMAS: Record<SettingsFileName, z.ZodType> = {
  'notify.yaml': NotifySettingsSchema,
  'disks.yaml': DisksSettingsSchema,
};

/** notify.yaml and disks.yaml from the partition: checked as the machine's own would be; one with a problem is not taken. */
function takeSettingsFiles(
  folder: SettingsFolder,
  config: Config,
  problems: FolderProblem[],
  texts: Map<string, string>,
): NonNullable<SettingsInput['files']> {
  const dest: Record<SettingsFileName, string> = {
    'notify.yaml': config.notifyFile,
    'disks.yaml': config.disksFile,
  };
  return SETTINGS_FILES.flatMap((name) => {
    const f = folder.files[name];
    if (!f) return [];
    const r = parseSettingsYaml(f.shown, f.text, SETTINGS_SCHEMAS[name]);
    for (const d of r.diagnostics)
      problems.push({
        file: d.file,
        line: d.line,
        message: d.field ? `${d.message} (${d.field})` : d.message,
      });
    if (r.diagnostics.length) return [];
    texts.set(f.shown, f.text);
    return [{ file: f.shown, hash: f.hash, name, dest: dest[name] }];
  });
}

const countKeys = (text: string) => text.split('\n').filter((l) => l.trim() && !l.startsWith('#')).length;

export async function importSettings(opts: {
  folderDir: string;
  config: Config;
  system: SettingsSystem;
  now?: Date;
}): Promise<ImportOutcome> {
  const { config, system } = opts;
  const now = opts.now ?? new Date();
  const folder = await readFolder(opts.folderDir);
  const problems = [...folder.problems];
  const texts = new Map<string, string>();
  type File = NonNullable<(typeof folder.settings)['hostname']>;
  const take = <T>(
    setting: keyof typeof folder.settings,
    parse: (f: File) => Parsed<T>,
  ): Sourced<T> | undefined => {
    const f = folder.settings[setting];
    if (!f) return undefined;
    const p = parse(f);
    problems.push(...p.problems);
    // A file with an error is not taken, except authorized_keys: its good lines are, so a key
    // deleted there stops working even while another line is wrong.
    return p.value !== undefined && (p.problems.length === 0 || setting === 'authorized_keys')
      ? { file: f.shown, hash: f.hash, value: p.value }
      : undefined;
  };
  const hostname = take('hostname', parseHostname);
  const timezone = take('timezone', parseTimezone);
  const password = take('password', parsePassword);
  const keys = take('authorized_keys', parseAuthorizedKeys);
  const sshPasswordLogin = take('ssh-password-login', parseYesNo);
  const files = takeSettingsFiles(folder, config, problems, texts);

  // The partition's recipes are checked beside the machine's, minus those they would replace
  // and those whose file left the partition (a renamed recipe must not clash with its old name).
  const ctx = checkContext(config);
  const last: ImportRecord = await readImportRecord(config.dataDir);
  const local = await localRecipes(config.recipesDir);
  const present = new Set(folder.seen);
  const leaving = new Set(
    folder.missing
      ? []
      : Object.entries(last.recipes).flatMap(([dest, was]) =>
          !present.has(was.file) && local[dest] === was.hash ? [dest] : [],
        ),
  );
  const dests = new Map(folder.recipes.map((r) => [basename(r.path), r]));
  const machine = (await recipeFiles([config.recipesDir]).catch(() => [])).filter(
    (f) => !dests.has(basename(f)) && !leaving.has(basename(f)),
  );
  const candidates = folder.recipes.map((r) => {
    texts.set(r.shown, r.text);
    return parseRecipeText(r.shown, r.text, ctx);
  });
  checkRecipeSet([...(await Promise.all(machine.map((f) => readRecipe(f, ctx)))), ...candidates]);
  const recipes = folder.recipes.map((r, i) => {
    const parsed = candidates[i]!;
    for (const d of parsed.diagnostics)
      problems.push({
        file: d.file,
        line: d.line,
        message: d.field ? `${d.message} (${d.field})` : d.message,
        // As on the status page: an env value or a file's content is never repeated.
        ...(shownSource(d) !== undefined ? { source: shownSource(d)! } : {}),
      });
    return {
      file: r.shown,
      hash: r.hash,
      dest: basename(r.path),
      ok: Boolean(parsed.app) && parsed.diagnostics.length === 0,
    };
  });

  const oneTimeShown = await exists(join(system.root, ONE_TIME_ISSUE));
  const installedKeys = countKeys(await readFile(join(system.root, KEYS_FILE), 'utf8').catch(() => ''));
  const input: SettingsInput = {
    ...(hostname ? { hostname } : {}),
    ...(timezone ? { timezone } : {}),
    ...(password ? { password: { ...password, value: true as const } } : {}),
    passwordFiles: folder.passwordFiles.map((f) => ({
      file: f.shown,
      ...(f.hash !== undefined ? { hash: f.hash } : {}),
      found:
        password?.file === f.shown
          ? 'taken'
          : problems.some((p) => p.file === f.shown)
            ? 'not-taken'
            : 'comments-only',
    })),
    ...(keys ? { keys } : {}),
    ...(sshPasswordLogin ? { sshPasswordLogin } : {}),
    recipes,
    files,
    present: folder.seen,
    ...(folder.missing ? { folderMissing: true } : {}),
    ...(folder.settings.authorized_keys || folder.missing ? {} : { keysFileAbsent: true }),
    last,
    local: {
      recipes: local,
      keys: installedKeys,
      sshPasswordLogin: await exists(join(system.root, PASSWORD_LOGIN_CONF)),
      rootPassword: await rootPasswordState(system.root, oneTimeShown),
      oneTimeShown,
    },
  };
  const plan = planSettings(input);
  const record: ImportRecord = structuredClone(last);
  const results = await executeSettings(plan.steps, {
    system,
    recipesDir: config.recipesDir,
    texts,
    ...(password ? { password: password.value } : {}),
    pathOf: (file) => join(opts.folderDir, file.slice(file.indexOf('/') + 1)),
    record,
    now,
  });
  await saveImportRecord(config.dataDir, record);

  const describe = (s: (typeof results)[number]['step']) => describeSettingsStep(s, config.recipesDir);
  const keyText = await readFile(join(system.root, KEYS_FILE), 'utf8').catch(() => '');
  const outcome: ImportOutcome = {
    at: now.toISOString(),
    folder: opts.folderDir,
    done: results.filter((r) => !r.error).map((r) => describe(r.step)),
    failed: results.flatMap((r) => (r.error ? [{ what: describe(r.step), error: r.error }] : [])),
    problems,
    unchanged: plan.unchanged,
    notes: plan.notes,
    ignored: folder.ignored,
    keys: countKeys(keyText),
    sshPasswordLogin: await exists(join(system.root, PASSWORD_LOGIN_CONF)),
    oneTimePassword: await exists(join(system.root, ONE_TIME_ISSUE)),
  };
  await saveOutcome(config.dataDir, outcome);
  return outcome;
}
