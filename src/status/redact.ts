// What berth shows of an app's own text (its last error, a health check's output, its last
// lines) goes to the LAN on the status page: values that may be secret are masked first.
// Every value of the app's `env:` (with substitutions done) and every secret it has, URL
// credentials (`scheme://user:pass@`) and `password=…`/`token=…` style pairs. Pure but for
// reading the app's secrets.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { App } from '../recipe/app.js';
import { expandTemplate } from '../recipe/template.js';
import { appPaths } from '../render/paths.js';

export const MASK = '***';

/**
 * Values shorter than this are not masked: one or two characters (`1`, `on`) are no secret,
 * and masking every occurrence would leave the line unreadable.
 */
export const MIN_MASKED = 3;

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi;
const SECRET_KEY =
  '[\\w.-]*(?:pass(?:word|wd|phrase)?|pwd|token|secret|api[_-]?key|access[_-]?key|auth|credentials?|private[_-]?key)[\\w.-]*';
/** `key=value`, and JSON's `"key": value`; not `key: text`, which is how errors read ("token: expired"). */
const SECRET_PAIR = new RegExp(`\\b(${SECRET_KEY}(?:=|"\\s*:\\s*))("[^"]*"|'[^']*'|[^\\s"'&;,]+)`, 'gi');
const BEARER = /\b(Bearer|Basic) [A-Za-z0-9._~+/=-]{8,}/g;

/** Masks `values` (longest first, so one that contains another goes whole) and secret-looking pairs. */
export function redact(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of [...new Set(values)]
    .filter((x) => x.length >= MIN_MASKED)
    .sort((a, b) => b.length - a.length))
    out = out.split(v).join(MASK);
  return out
    .replace(URL_CREDENTIALS, `$1${MASK}@`)
    .replace(SECRET_PAIR, `$1${MASK}`)
    .replace(BEARER, `$1 ${MASK}`);
}

/** The app's secrets (every file in its secrets dir) and its env values with them substituted. */
export async function sensitiveValues(
  app: Pick<App, 'name' | 'env'> | undefined,
  name: string,
  dataDir: string,
  hostname: string,
): Promise<string[]> {
  const dir = appPaths(dataDir, name).secretsDir;
  const secrets = new Map<string, string>();
  for (const f of await readdir(dir).catch(() => []))
    secrets.set(f, (await readFile(join(dir, f), 'utf8').catch(() => '')).trim());
  const vars = { hostname, app: name, secret: (n: string) => secrets.get(n) ?? '' };
  return [...secrets.values(), ...(app?.env ?? []).map((e) => expandTemplate(e.value, vars))];
}

/** A function that masks the app's sensitive values in a line of its text. */
export async function redactorFor(
  app: Pick<App, 'name' | 'env'> | undefined,
  name: string,
  dataDir: string,
  hostname: string,
): Promise<(text: string) => string> {
  const values = await sensitiveValues(app, name, dataDir, hostname);
  return (text) => redact(text, values);
}
