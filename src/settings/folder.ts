// Reading the `berth/` folder of the BERTH partition: a FAT file system anyone can write
// to from any computer, so everything in it is untrusted. Files are read whole only after
// their size and name pass; nothing here is ever executed.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_RECIPE_BYTES } from '../recipe/parse.js';

/** The settings berth reads, each a file of its own (a `.txt` ending, as Notepad adds, is fine). */
export const SETTING_NAMES = [
  'hostname',
  'timezone',
  'authorized_keys',
  'password',
  'ssh-password-login',
] as const;
export type SettingName = (typeof SETTING_NAMES)[number];

/** Settings files in YAML, each checked by its own schema and copied beside the recipes dir. */
export const SETTINGS_FILES = ['notify.yaml', 'disks.yaml'] as const;
export type SettingsFileName = (typeof SETTINGS_FILES)[number];

export const MAX_SETTING_BYTES = 64 * 1024;
export const MAX_RECIPES = 100;
/** Files berth writes or ships in the folder, and the litter other systems leave there. */
const KNOWN_OTHERS = /^(readme(\.txt|\.md)?|report\.txt|recipes)$/i;
const RECIPE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}\.ya?ml$/;

export interface FolderFile {
  /** The path people see, relative to the partition: `berth/hostname`, `berth/recipes/x.yaml`. */
  shown: string;
  path: string;
  text: string;
  hash: string;
}

/** Something wrong with a file on the partition, in the words the report prints. */
export interface FolderProblem {
  file: string;
  line?: number;
  message: string;
  /** The offending line, when there is one. */
  source?: string;
}

export interface SettingsFolder {
  dir: string;
  settings: Partial<Record<SettingName, FolderFile>>;
  files: Partial<Record<SettingsFileName, FolderFile>>;
  recipes: FolderFile[];
  problems: FolderProblem[];
  /** Files berth does not know, named in the report so a misspelt setting is noticed. */
  ignored: string[];
  /** Every recipe file there, read or not: one that could not be read is still not deleted. */
  seen: string[];
  /** No berth/ folder (or the partition is not mounted): nothing may be taken as deleted. */
  missing: boolean;
  /** Every regular password file, the one read and any other (all are erased); hash: of its text, when small enough. */
  passwordFiles: { shown: string; path: string; hash?: string }[];
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Names a person can type and every OS can show; nothing that could trick a terminal or a path. */
function badName(name: string): string | undefined {
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'its name has control characters';
  if (name.length > 128) return 'its name is longer than 128 characters';
  return undefined;
}

async function readText(path: string, shown: string, limit: number): Promise<FolderFile | FolderProblem> {
  const st = await lstat(path);
  if (!st.isFile()) return { file: shown, message: 'not a regular file; ignored' };
  if (st.size > limit)
    return { file: shown, message: `the file is ${st.size} bytes; the limit is ${limit} bytes` };
  const buf = await readFile(path);
  if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)))
    return {
      file: shown,
      message: 'the file is UTF-16 text; save it as UTF-8 (Notepad: Save as → Encoding UTF-8)',
    };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return { file: shown, message: 'the file is not UTF-8 text; save it as UTF-8' };
  }
  return { shown, path, text, hash: sha256(text) };
}

/** notify.yaml, also as Notepad saves it (notify.yaml.txt). */
const settingsFile = (name: string): SettingsFileName | undefined =>
  SETTINGS_FILES.find((n) => name.toLowerCase() === n || name.toLowerCase() === `${n}.txt`);

const isProblem = (x: FolderFile | FolderProblem): x is FolderProblem => 'message' in x;

/** Reads `dir` (the partition's `berth/` folder); a missing folder reads as empty. */
export async function readFolder(dir: string, shownDir = 'berth'): Promise<SettingsFolder> {
  const out: SettingsFolder = {
    dir,
    settings: {},
    files: {},
    recipes: [],
    problems: [],
    ignored: [],
    seen: [],
    missing: false,
    passwordFiles: [],
  };
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    out.missing = true;
    out.problems.push({
      file: shownDir,
      message: `there is no ${shownDir}/ folder on the BERTH partition (or it is not mounted): nothing was taken or removed; copy the folder back from the image (/usr/share/berth/settings)`,
    });
    return [];
  });
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const shown = `${shownDir}/${e.name}`;
    if (e.name.startsWith('.')) continue; // macOS ._ files, .Trashes, .DS_Store
    const bad = badName(e.name);
    if (bad) {
      out.problems.push({ file: JSON.stringify(shown).slice(1, -1), message: `${bad}; rename or remove it` });
      continue;
    }
    const setting = SETTING_NAMES.find(
      (n) => e.name.toLowerCase() === n || e.name.toLowerCase() === `${n}.txt`,
    );
    if (setting) {
      if (setting === 'password') await notePasswordFile(join(dir, e.name), shown, out);
      if (out.settings[setting]) {
        out.problems.push({
          file: shown,
          message: `${out.settings[setting].shown} is also there; keep one of them`,
        });
        continue;
      }
      const f = await readText(join(dir, e.name), shown, MAX_SETTING_BYTES);
      if (isProblem(f)) out.problems.push(f);
      else out.settings[setting] = f;
    } else if (settingsFile(e.name)) {
      const f = await readText(join(dir, e.name), shown, MAX_SETTING_BYTES);
      if (isProblem(f)) out.problems.push(f);
      else out.files[settingsFile(e.name)!] = f;
    } else if (e.name.toLowerCase() === 'recipes' && e.isDirectory()) {
      await readRecipes(join(dir, e.name), `${shownDir}/${e.name}`, out);
    } else if (!KNOWN_OTHERS.test(e.name) && !/\.example$/i.test(e.name)) {
      out.ignored.push(shown);
    }
  }
  return out;
}

async function notePasswordFile(path: string, shown: string, out: SettingsFolder): Promise<void> {
  const st = await lstat(path);
  if (!st.isFile()) return;
  const small = st.size <= MAX_SETTING_BYTES;
  out.passwordFiles.push({
    shown,
    path,
    ...(small ? { hash: sha256((await readFile(path)).toString('utf8')) } : {}),
  });
}

async function readRecipes(dir: string, shownDir: string, out: SettingsFolder): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  let count = 0;
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const shown = `${shownDir}/${e.name}`;
    if (!/\.ya?ml$/i.test(e.name)) {
      // Windows hides known endings: "app.yaml" saved by Notepad is "app.yaml.txt".
      if (/\.ya?ml\.txt$/i.test(e.name)) out.ignored.push(`${shown} (rename it to end in .yaml)`);
      else if (!/^readme(\.txt|\.md)?$/i.test(e.name)) out.ignored.push(shown);
      continue;
    }
    out.seen.push(shown);
    const bad = badName(e.name);
    if (bad || !RECIPE_NAME.test(e.name)) {
      out.problems.push({
        file: JSON.stringify(shown).slice(1, -1),
        message: `${bad ?? 'a recipe file name is letters, digits, dots, dashes and underscores, ending in .yaml'}; rename it`,
      });
      continue;
    }
    if (++count > MAX_RECIPES) {
      out.problems.push({
        file: shown,
        message: `more than ${MAX_RECIPES} recipes; this one and later ones were not read`,
      });
      break;
    }
    const f = await readText(join(dir, e.name), shown, MAX_RECIPE_BYTES);
    if (isProblem(f)) out.problems.push(f);
    else out.recipes.push(f);
  }
}
