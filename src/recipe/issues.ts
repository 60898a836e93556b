// Turns zod's issues into sentences a person can act on, placed at the right spot.
import type { z } from 'zod';
import { type Diagnostic, fieldPath } from './diagnostics.js';
import type { Locator } from './locate.js';
import { DURATION_RE, SIZE_RE } from './schema.js';
import { keysAt, schemaAt } from './schema-walk.js';
import { closest } from './suggest.js';

type Issue = z.core.$ZodIssue;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return `the text '${value.length > 40 ? `${value.slice(0, 37)}...` : value}'`;
  return `${typeof value === 'number' ? 'the number' : typeof value} ${String(value)}`;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** "target" for ['volumes','data','target'], "ports[0]" for ['ports', 0]. */
function subject(path: readonly PropertyKey[]): string {
  const last = path[path.length - 1];
  if (typeof last === 'number') return `${String(path[path.length - 2] ?? 'item')}[${last}]`;
  return last === undefined ? 'the recipe' : String(last);
}

function sentence(path: readonly PropertyKey[], message: string): string {
  return /^(must|is|has|does) /.test(message) ? `${subject(path)} ${message}` : message;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

export function issuesToDiagnostics(issues: readonly Issue[], data: unknown, loc: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  const visit = (issue: Issue, prefix: readonly PropertyKey[]): void => {
    const path = [...prefix, ...issue.path];
    const input = valueAt(data, path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const hint = closest(key, keysAt(path));
          const msg = `unknown key '${key}'${hint ? `, did you mean '${hint}'?` : ''}`;
          out.push(loc.at([...path, key], msg, { key: true }));
        }
        return;
      case 'invalid_type': {
        if (input === undefined) {
          out.push(loc.at(path.slice(0, -1), `missing required key '${subject(path)}'`));
          // The field path names the missing key even though the caret is on its parent.
          out[out.length - 1]!.field = fieldPath(path);
          return;
        }
        const want = EXPECTED[issue.expected] ?? issue.expected;
        let hint = '';
        if (issue.expected === 'boolean' && typeof input === 'string')
          hint = '; write true or false without quotes';
        if (issue.expected === 'array' && typeof input === 'string')
          hint = `; write it as a list: [${input}]`;
        if (issue.expected === 'number' && typeof input === 'string')
          hint = '; write the number without quotes';
        const patterns = schemaAt(path)
          .flatMap((s) => [s, ...(s.allOf ?? [])])
          .map((s) => s.pattern);
        if (typeof input === 'number' && patterns.includes(DURATION_RE.source))
          hint = `; write a unit too, e.g. '${input}s'`;
        if (typeof input === 'number' && patterns.includes(SIZE_RE.source))
          hint = `; write a unit too, e.g. '${input}M'`;
        out.push(loc.at(path, `${subject(path)} must be ${want}, not ${describe(input)}${hint}`));
        return;
      }
      case 'invalid_value': {
        const options = issue.values.map(String);
        const hint = typeof input === 'string' ? closest(input, options) : undefined;
        const extra =
          input === false && options.includes('no')
            ? "; write 'no' in quotes or without quotes (not false)"
            : hint
              ? `; did you mean '${hint}'?`
              : '';
        out.push(
          loc.at(
            path,
            `${subject(path)} must be ${options.length === 1 ? options[0] : `one of ${options.join(', ')}`}, not ${describe(input)}${extra}`,
          ),
        );
        return;
      }
      case 'invalid_union': {
        // Report the branch that got furthest: the one whose issues are not a type mismatch at the top.
        const branches = issue.errors.filter(
          (errs) => !errs.every((e) => e.code === 'invalid_type' && e.path.length === 0),
        );
        if (branches.length > 0) {
          for (const e of branches[0]!) visit(e, path);
          return;
        }
        const wants = [
          ...new Set(
            issue.errors
              .flat()
              .map((e) => (e.code === 'invalid_type' ? (EXPECTED[e.expected] ?? e.expected) : '')),
          ),
        ].filter(Boolean);
        out.push(loc.at(path, `${subject(path)} must be ${wants.join(' or ')}, not ${describe(input)}`));
        return;
      }
      case 'invalid_key': {
        const key = issue.path.length > 0 ? path[path.length - 1] : undefined;
        for (const e of issue.issues) {
          const msg =
            e.message.startsWith('must') || e.message.startsWith('is ')
              ? `key '${String(key)}': ${e.message}`
              : e.message;
          out.push(loc.at(path, sentence(path, msg), { key: true }));
        }
        return;
      }
      case 'invalid_element':
        for (const e of issue.issues) visit(e, path);
        return;
      case 'too_small': {
        const what =
          issue.origin === 'array'
            ? 'must not be empty'
            : issue.origin === 'string'
              ? 'must not be empty'
              : `must be at least ${String(issue.minimum)}`;
        out.push(loc.at(path, sentence(path, what)));
        return;
      }
      case 'too_big': {
        const what =
          issue.origin === 'string'
            ? issue.message
            : issue.origin === 'array'
              ? `has too many items`
              : `must be at most ${String(issue.maximum)}`;
        out.push(loc.at(path, sentence(path, what)));
        return;
      }
      default:
        out.push(loc.at(path, sentence(path, issue.message)));
    }
  };
  for (const issue of issues) visit(issue, []);
  return out;
}
