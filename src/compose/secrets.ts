// Secrets in a compose file, as berth secrets: a compose `secrets:` entry backed by a file
// beside the compose file (its content is taken) or by a variable, mounted where Compose
// mounts it (/run/secrets/NAME, so `X_FILE=/run/secrets/x` keeps working); and required
// variables the loader marked (generated). Pure: files come in by the converter's reader.
import { isAbsolute, join, normalize, posix } from 'node:path';
import { under } from '../recipe/check.js';
import { addRecipeFile } from './recipe-files.js';
import { SECRET_MARK_RE, unmark } from './secret-mark.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A secret the import puts in the app's secret store: a value taken, or one generated for all apps that share it. */
export interface SeedSecret {
  name: string;
  value?: string;
}

export interface SecretSink {
  recipe: Obj;
  seeds: SeedSecret[];
  say(level: 'error' | 'warning' | 'info', key: (string | number)[], text: string): void;
}

export interface SecretPlaces {
  dir: string;
  realDir: string;
  dataDir: string;
  vars: ReadonlyMap<string, string>;
  realPath(path: string): string | undefined;
  readFile(path: string): string | undefined;
}

/** A berth secret name (letters, digits, _) from a compose secret's name. */
const secretName = (n: string) => n.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 64) || 'secret';

/** Where the value of a top-level secret comes from, or why it cannot be taken. */
function secretValue(name: string, def: unknown, at: SecretPlaces): { value?: string; why?: string } {
  if (!isObj(def))
    return { why: `secret ${name} is not defined at the top level (secrets: ${name}: file: …)` };
  if (def.external)
    return {
      why: `secret ${name} is external (made with docker secret create): write its value in a file beside the compose file and name it in secrets: ${name}: file:`,
    };
  if (typeof def.environment === 'string') {
    const v = at.vars.get(def.environment);
    return v === undefined ? {} : { value: v };
  }
  if (typeof def.file !== 'string') return { why: `secret ${name} has neither file: nor environment:` };
  const got = fileBeside('secret', name, def.file, at);
  return got.why ? { why: got.why } : { value: got.text!.replace(/\r?\n$/, '') };
}

/** A secret's or config's file, only from the compose file's folder (links resolved), as text. */
function fileBeside(
  what: string,
  name: string,
  file: string,
  at: SecretPlaces,
): { text?: string; why?: string } {
  const path = normalize(isAbsolute(file) ? file : join(at.dir, file));
  const real = at.realPath(path);
  if (real === undefined)
    return {
      why: `the file of ${what} ${name} (${file}) is not there: make it${what === 'secret' ? " (the secret's value, one line)" : ''} and import again`,
    };
  if (!under(real, at.realDir) || under(real, at.dataDir))
    return {
      why: `the file of ${what} ${name} (${file}) is outside the compose file's folder: copy it beside the compose file`,
    };
  const text = at.readFile(real);
  if (text === undefined || text.length > 64 * 1024 || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text))
    return { why: `the file of ${what} ${name} (${file}) is not text berth can keep (at most 64 KB)` };
  return { text };
}

/** A service's `secrets:` as recipe files holding ${secret:NAME}, their values seeded. */
export function serviceSecrets(s: SecretSink, v: unknown, top: unknown, at: SecretPlaces): void {
  const defs = isObj(top) ? top : {};
  (Array.isArray(v) ? v : []).forEach((entry, i) => {
    const source = String(isObj(entry) ? entry.source : entry);
    const target = isObj(entry) && entry.target !== undefined ? String(entry.target) : source;
    const got = secretValue(source, defs[source], at);
    if (got.why) return s.say('error', ['secrets', i], got.why);
    const name = secretName(source);
    s.seeds.push({ name, ...(got.value !== undefined ? { value: got.value } : {}) });
    const mountAt = posix.isAbsolute(target) ? target : `/run/secrets/${target}`;
    addRecipeFile(s.recipe, { target: mountAt, content: `\${secret:${name}}`, mode: '0444' });
    s.say(
      'info',
      ['secrets', i],
      `secret ${source} became the berth secret ${name} (${got.value !== undefined ? 'its value taken' : 'generated'}), at ${mountAt} as in Compose`,
    );
  });
}

/** The secret names marked anywhere in a value (strings in lists and mappings). */
function marksIn(v: unknown): string[] {
  if (typeof v === 'string') return [...v.matchAll(new RegExp(SECRET_MARK_RE.source, 'g'))].map((m) => m[1]!);
  if (Array.isArray(v)) return v.flatMap(marksIn);
  return isObj(v) ? Object.values(v).flatMap(marksIn) : [];
}

/**
 * A service's `configs:` as recipe files: a config from a file beside the compose file, or
 * written inline (`content:`), mounted where Compose mounts it (/NAME, or its target).
 */
export function serviceConfigs(s: SecretSink, v: unknown, top: unknown, at: SecretPlaces): void {
  const defs = isObj(top) ? top : {};
  (Array.isArray(v) ? v : []).forEach((entry, i) => {
    const source = String(isObj(entry) ? entry.source : entry);
    const target = isObj(entry) && entry.target !== undefined ? String(entry.target) : `/${source}`;
    const def = defs[source];
    let content: string | undefined;
    let why: string | undefined;
    if (isObj(def) && typeof def.content === 'string') content = def.content;
    else if (isObj(def) && typeof def.file === 'string') {
      const got = fileBeside('config', source, def.file, at);
      content = got.text;
      why = got.why;
    } else why = `config ${source} has neither file: nor content: at the top level`;
    if (why || content === undefined)
      return s.say('error', ['configs', i], why ?? `config ${source} is empty`);
    const mountAt = posix.isAbsolute(target) ? target : `/${target}`;
    addRecipeFile(s.recipe, {
      target: mountAt,
      content: content.replaceAll('${', () => '$${'),
      mode: '0444',
    });
    s.say('info', ['configs', i], `config ${source} became a recipe file at ${mountAt}, as in Compose`);
  });
}

/**
 * Marked required variables: ${secret:NAME} in env and files; anywhere else (a command
 * line, a label) a secret would be shown, so it is an error there.
 */
export function placeMarkedSecrets(s: SecretSink): void {
  const env = isObj(s.recipe.env) ? s.recipe.env : {};
  for (const [k, v] of Object.entries(env))
    if (typeof v === 'string') {
      const u = unmark(v);
      env[k] = u.text;
      s.seeds.push(...u.names.map((name) => ({ name })));
    }
  for (const f of Object.values(isObj(s.recipe.files) ? s.recipe.files : {}))
    if (isObj(f) && typeof f.content === 'string') {
      const u = unmark(f.content);
      f.content = u.text;
      s.seeds.push(...u.names.map((name) => ({ name })));
    }
  for (const [k, v] of Object.entries(s.recipe)) {
    if (k === 'env' || k === 'files') continue;
    const names = marksIn(v);
    if (names.length === 0) continue;
    s.say(
      'error',
      [k],
      `${[...new Set(names)].join(', ')} must be given a value: berth generates secrets for environment variables and files only, and here it would be shown (set it in .env or with --env-file)`,
    );
    delete s.recipe[k];
  }
}
