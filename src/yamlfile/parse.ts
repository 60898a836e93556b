// A settings file in YAML (notify.yaml, later backup.yaml): read with positions, checked
// against a zod schema, every problem located at file:line:col like a recipe's. Never
// throws for bad input; a file that has problems yields no value, so nothing changes.
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { type Diagnostic, fieldPath } from '../recipe/diagnostics.js';
import { Locator } from '../recipe/locate.js';

/** Settings files are small; a larger one is a mistake. */
export const MAX_SETTINGS_BYTES = 64 * 1024;
const MAX_ALIASES = 32;

export type ParsedSettings<T> =
  { value: T; diagnostics: [] } | { value?: undefined; diagnostics: Diagnostic[] };

/** What a zod issue says, for a person. */
function issueText(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === 'invalid_type' && input === undefined)
    return `missing required key '${String(issue.path.at(-1))}'`;
  return issue.message;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const seg of path)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[seg] : undefined;
  return v;
}

export function parseSettingsYaml<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
): ParsedSettings<z.output<S>> {
  const lineCounter = new LineCounter();
  const head = new Locator(file, text.slice(0, 200), lineCounter);
  if (Buffer.byteLength(text) > MAX_SETTINGS_BYTES)
    return {
      diagnostics: [
        head.diagnostic({ start: 0, end: 0 }, `the file is larger than ${MAX_SETTINGS_BYTES} bytes`),
      ],
    };
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const loc = new Locator(file, text, lineCounter, doc);
  const syntax = doc.errors[0];
  if (syntax)
    return {
      diagnostics: [
        loc.diagnostic(
          { start: syntax.pos[0], end: syntax.pos[1] },
          `YAML syntax: ${syntax.message.split('\n')[0]}`,
        ),
      ],
    };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {};
  } catch (err) {
    return {
      diagnostics: [
        loc.diagnostic({ start: 0, end: 0 }, `the YAML could not be read: ${(err as Error).message}`),
      ],
    };
  }
  const r = schema.safeParse(data);
  if (r.success) return { value: r.data as z.output<S>, diagnostics: [] };
  const diagnostics = r.error.issues.flatMap((issue) => {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((k) => loc.at([...path, k], `unknown key '${k}'`, { key: true }));
    const input = valueAt(data, path);
    const d = loc.at(input === undefined ? path.slice(0, -1) : path, issueText(issue, input));
    d.field = fieldPath(path);
    return [d];
  });
  return { diagnostics };
}
