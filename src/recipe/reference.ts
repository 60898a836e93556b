// The recipe reference in README, generated from the JSON Schema (and so from the zod schema).
import { recipeJsonSchema } from './schema.js';
import type { JsonSchema } from './schema-walk.js';

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(', ');
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return [...new Set(alts.map(typeOf))].join(' or ');
  switch (s.type) {
    case 'array':
      return `list of ${s.items ? typeOf(s.items) : 'any'}`;
    case 'object':
      if (s.properties) return 'mapping';
      return typeof s.additionalProperties === 'object'
        ? `map of name → ${typeOf(s.additionalProperties)}`
        : 'mapping';
    case 'integer':
      return 'integer';
    case undefined:
      return 'any';
    default:
      return String(s.type);
  }
}

const cell = (t: string) => t.replaceAll('|', '\\|').replaceAll('\n', ' ');

function rows(s: JsonSchema, prefix: string, out: string[]): void {
  const required = new Set(s.required ?? []);
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const name = `${prefix}${key}`;
    const def =
      prop.default !== undefined
        ? `\`${JSON.stringify(prop.default)}\``
        : required.has(key)
          ? '**required**'
          : '';
    out.push(`| \`${name}\` | ${cell(typeOf(prop))} | ${def} | ${cell(prop.description ?? '')} |`);
    const nested = [prop, ...(prop.anyOf ?? [])].flatMap((p) => {
      if (p.properties) return [[p, `${name}.`] as const];
      if (p.type === 'array' && p.items)
        return [p.items, ...(p.items.anyOf ?? [])]
          .filter((i) => i.properties)
          .map((i) => [i, `${name}[].`] as const);
      if (typeof p.additionalProperties === 'object' && p.additionalProperties.properties)
        return [[p.additionalProperties, `${name}.<name>.`] as const];
      return [];
    });
    for (const [n, pre] of nested) rows(n, pre, out);
  }
}

export function recipeReference(): string {
  const schema = recipeJsonSchema() as JsonSchema;
  const out = ['| key | type | default | meaning |', '| --- | --- | --- | --- |'];
  rows(schema, '', out);
  return out.join('\n');
}
