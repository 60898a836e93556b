// Compose's variables in every string value of a parsed document, in place: values from the
// .env, --env-file and the environment; a required variable with no value becomes a generated
// berth secret when its name says it is one (every use of it: Compose gives one value to every
// use), and any other is asked for, all in one message. A value from the command's own
// environment is named, never shown.
import { type Document, visit } from 'yaml';
import { interpolate } from './interpolate.js';
import type { ComposeMessage } from './message.js';
import { namesSecret, secretMark } from './secret-mark.js';

export interface DocumentVars {
  vars: ReadonlyMap<string, string>;
  /** The names whose values came from this command's environment. */
  fromEnv: ReadonlySet<string>;
  file: string;
  at(offset: number): { line: number; col: number };
}

export function interpolateDocument(
  doc: Document,
  { vars, fromEnv, file, at }: DocumentVars,
): { messages: ComposeMessage[]; generated: string[] } {
  const messages: ComposeMessage[] = [];
  const unset = new Set<string>();
  const generated = new Set<string>();
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && node.value.includes('$'))
        interpolate(node.value, vars, 0, (name) => {
          if (namesSecret(name)) generated.add(name);
          return '';
        });
    },
  });
  const withSecrets = new Map(vars);
  for (const g of generated) withSecrets.set(g, secretMark(g));
  const asked = new Map<string, { message: string; line?: number; col?: number }>();
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      const where = node.range ? at(node.range[0]) : {};
      const r = interpolate(node.value, withSecrets, 0, (name, message) => {
        if (!asked.has(name)) asked.set(name, { message, ...where });
        return '';
      });
      for (const u of r.unset) unset.add(u);
      if (r.error) messages.push({ level: 'error', file, ...where, text: r.error });
      else node.value = r.value;
      // A value from this command's environment (a shell's secret, say) lands in the recipe:
      // named, never shown.
      const named = [...new Set(r.used.filter((u) => fromEnv.has(u)))];
      if (named.length && !r.error)
        messages.push({
          level: 'warning',
          file,
          ...where,
          text: `the value of ${named.join(', ')} was taken from the environment of this command (not shown here) into the recipe: check that it belongs there`,
        });
    },
  });
  if (asked.size) {
    const names = [...asked.keys()];
    const first = asked.values().next().value!;
    messages.push({
      level: 'error',
      file,
      ...(first.line ? { line: first.line, col: first.col } : {}),
      text: `required variables have no value: ${[...asked].map(([n, a]) => (a.message ? `${n} (${a.message})` : n)).join(', ')}; write them in a file (${names.map((n) => `${n}=…`).join(' ')}, one per line) and import again with --env-file FILE, or in .env beside the compose file`,
    });
  }
  for (const g of generated)
    messages.push({
      level: 'info',
      file,
      text: `${g} is required and has no value: berth generates it as the secret ${g} (\${secret:${g}}), the same for every app that uses it`,
    });
  for (const u of unset)
    messages.push({
      level: 'warning',
      file,
      text: `variable ${u} is not set: it was replaced by an empty string`,
    });

  return { messages, generated: [...generated] };
}
