// What a compose bind mount means, when its source is not a folder under the allowed roots:
// a relative bind (`./data`) is this project's data, a placeholder (`/path/to/config`) is
// "your data goes here": both are what a berth volume is. A small text file beside the
// compose file (`./init.sql`) becomes a recipe file. Pure: the file system comes in by a
// reader, and the answer is data the converter writes into the recipe and the summary.
import { isAbsolute, join, normalize, posix } from 'node:path';
import { under } from '../recipe/check.js';

export interface PathFacts {
  kind: 'dir' | 'file' | 'other';
  size: number;
  /** Permission bits. */
  mode: number;
  /** Entries of a dir (0 for others). */
  entries: number;
}

export interface BindContext {
  /** The compose file's folder, and the same as a real path (links resolved). */
  dir: string;
  realDir: string;
  allowedRoots: readonly string[];
  /** berth's data dir, real path: never read into a recipe. */
  dataDir: string;
  /** --bind SRC=DEST: a source as written in the compose file → a folder of the person's. */
  binds: ReadonlyMap<string, string>;
  /** --move-data / --copy-data: what to do with a relative bind's folder that holds files. */
  data?: 'move' | 'copy' | undefined;
  stat(path: string): PathFacts | undefined;
  realPath(path: string): string | undefined;
  readFile(path: string): string | undefined;
}

export type BindOutcome =
  | { kind: 'host'; host: string; note?: string }
  | { kind: 'system'; path: string; note: string }
  | { kind: 'volume'; name: string; level: 'info' | 'warning'; note: string; take?: string }
  | { kind: 'file'; content: string; mode: string; note: string }
  | { kind: 'error'; text: string };

/** Recipe file content is limited (schema's MAX_FILE_CONTENT); a bigger file stays a volume. */
const MAX_BIND_FILE = 64 * 1024;

/** A path written as a template for the person to fill in. */
export function looksPlaceholder(source: string): boolean {
  return (
    /^~/.test(source) ||
    /\/path\/to\b|\/PATH[_/-]|\/your[_-]?|<[^>]*>|\/DATA\/AppData\/|\/wherever\b|\/some\/|\/change[_-]?me/i.test(
      source,
    )
  );
}

const volumeName = (path: string) =>
  posix
    .basename(path.replace(/\/+$/, ''))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** A bind's meaning; undefined when it is an ordinary bind under the allowed roots. */
export function bindOutcome(source: string, target: string, ctx: BindContext): BindOutcome | undefined {
  const mapped = ctx.binds.get(source) ?? ctx.binds.get(source.replace(/\/+$/, ''));
  if (mapped !== undefined) {
    const dest = normalize(mapped);
    if (!isAbsolute(dest) || !ctx.allowedRoots.some((r) => under(dest, r)))
      return {
        kind: 'error',
        text: `--bind ${source}=${mapped}: ${mapped} is not under the allowed roots (${ctx.allowedRoots.join(', ')})`,
      };
    return { kind: 'host', host: dest, note: `${source} is ${dest} (--bind)` };
  }
  if (source.startsWith('~') || isAbsolute(source)) return elsewhere(source, target, ctx);
  return relative(source, target, ctx);
}

/** `./data`, `data/`, `./init.sql`: this project's own data, beside the compose file. */
function relative(source: string, target: string, ctx: BindContext): BindOutcome {
  const path = normalize(join(ctx.dir, source));
  const facts = ctx.stat(path);
  const real = facts ? ctx.realPath(path) : undefined;
  if (facts && real && (!under(real, ctx.realDir) || under(real, ctx.dataDir)))
    return {
      kind: 'error',
      text: `${source} leads out of the compose file's folder (to ${real}): copy the data beside the compose file, or name a folder with --bind ${source}=/srv/…`,
    };
  if (facts?.kind === 'file') {
    const content = facts.size <= MAX_BIND_FILE ? ctx.readFile(path) : undefined;
    if (content !== undefined && !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(content))
      return {
        kind: 'file',
        content,
        mode: `0${(facts.mode & 0o777).toString(8)}`,
        note: `the file ${source} was copied into the recipe (files:, read-only in the container); edit it there`,
      };
    return {
      kind: 'error',
      text: `${source} is a file berth cannot copy into a recipe (binary or over ${MAX_BIND_FILE / 1024} KB): put it in a folder under ${ctx.allowedRoots[0]} and bind that folder`,
    };
  }
  const name = volumeName(source) || volumeName(target) || 'data';
  const held = facts?.kind === 'dir' ? facts.entries : 0;
  if (held === 0)
    return {
      kind: 'volume',
      name,
      level: 'info',
      note: `${source} (this project's data) became the app's volume ${name}, kept in berth's data dir`,
    };
  if (ctx.data)
    return {
      kind: 'volume',
      name,
      level: 'info',
      take: path,
      note: `${source} became the app's volume ${name}; its ${held} entries are ${ctx.data === 'move' ? 'moved' : 'copied'} there (--${ctx.data}-data)`,
    };
  return {
    kind: 'volume',
    name,
    level: 'warning',
    note: `${source} became the app's volume ${name}, which starts empty: ${source} holds ${held} entries, left where they are; import again with --move-data (or --copy-data) to take them`,
  };
}

/** The host's own system paths: never a placeholder, even where this machine lacks one. */
const SYSTEM_PATH =
  /^\/(?:bin|boot|dev|etc|lib|lib32|lib64|proc|root|run|sbin|sys|usr|var\/(?:run|lib|log|cache))(?:\/|$)/;

/** An absolute or ~ path outside the allowed roots. */
function elsewhere(source: string, target: string, ctx: BindContext): BindOutcome {
  if (SYSTEM_PATH.test(normalize(source)))
    return {
      kind: 'system',
      path: normalize(source),
      note: `gets the host's own ${normalize(source)} (host_paths)`,
    };
  const exists = !source.startsWith('~') && ctx.stat(source) !== undefined;
  const name = volumeName(target) || volumeName(source) || 'data';
  if (!exists || looksPlaceholder(source))
    return {
      kind: 'volume',
      name,
      level: 'warning',
      note: `${source} ${looksPlaceholder(source) ? 'is a placeholder' : 'does not exist on this machine'}: it became the app's volume ${name}, kept in berth's data dir; to use a folder of yours instead, import again with --bind ${source}=${ctx.allowedRoots[0]}/…`,
    };
  return {
    kind: 'error',
    text: `bind mount ${source} is a host path outside the allowed roots (${ctx.allowedRoots.join(', ')}): for the app's data, name a folder with --bind ${source}=${ctx.allowedRoots[0]}/…`,
  };
}
