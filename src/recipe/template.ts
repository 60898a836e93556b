// ${…} substitution in env values, file contents and advertised names.
// Only known forms are accepted, so a typo is an error instead of a silent literal.

export type TemplatePart =
  { kind: 'text'; text: string } | { kind: 'hostname' } | { kind: 'app' } | { kind: 'secret'; name: string };

export interface TemplateError {
  /** Character offset of the bad `${` within the value. */
  offset: number;
  message: string;
}

export const SECRET_NAME_RE = /^[A-Za-z0-9_]{1,64}$/;

/** Splits a value into literal text and substitutions; `$${` stands for a literal `${`. */
export function parseTemplate(value: string): TemplatePart[] | TemplateError {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < value.length) {
    if (value.startsWith('$${', i)) {
      text += '${';
      i += 3;
      continue;
    }
    if (!value.startsWith('${', i)) {
      text += value[i];
      i++;
      continue;
    }
    const end = value.indexOf('}', i + 2);
    if (end < 0) return { offset: i, message: "unclosed '${'; write $${ for a literal ${" };
    const inner = value.slice(i + 2, end);
    if (text) parts.push({ kind: 'text', text });
    text = '';
    if (inner === 'hostname' || inner === 'app') parts.push({ kind: inner });
    else if (inner.startsWith('secret:') && SECRET_NAME_RE.test(inner.slice(7)))
      parts.push({ kind: 'secret', name: inner.slice(7) });
    else
      return {
        offset: i,
        message: `unknown substitution '\${${inner}}': use \${hostname}, \${app} or \${secret:NAME} (letters, digits, _), or $\${ for a literal \${`,
      };
    i = end + 1;
  }
  if (text) parts.push({ kind: 'text', text });
  return parts;
}

export interface TemplateVars {
  hostname: string;
  app: string;
  /** Returns a secret's value; absent when the caller must not see secrets (e.g. in a unit). */
  secret?: (name: string) => string;
}

export function expandTemplate(parts: readonly TemplatePart[], vars: TemplateVars): string {
  const one = (p: TemplatePart): string => {
    if (p.kind === 'text') return p.text;
    if (p.kind === 'hostname') return vars.hostname;
    if (p.kind === 'app') return vars.app;
    if (!vars.secret) throw new Error(`secret ${p.name} requested where secrets are not available`);
    return vars.secret(p.name);
  };
  return parts.map(one).join('');
}

export function secretNames(parts: readonly TemplatePart[]): string[] {
  return parts.flatMap((p) => (p.kind === 'secret' ? [p.name] : []));
}
