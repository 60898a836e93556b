// Reads the recipe's JSON Schema (derived from the zod schema) to answer "which keys are
// allowed here?", for hints and for the generated reference.
import { recipeJsonSchema } from './schema.js';

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  pattern?: string;
  required?: string[];
  minimum?: number;
  maximum?: number;
};

let cached: JsonSchema | undefined;
function root(): JsonSchema {
  cached ??= recipeJsonSchema() as JsonSchema;
  return cached;
}

function step(schemas: JsonSchema[], seg: PropertyKey): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const s of schemas) {
    for (const alt of [s, ...(s.anyOf ?? []), ...(s.oneOf ?? [])]) {
      if (typeof seg === 'number') {
        if (alt.items) out.push(alt.items);
      } else if (alt.properties?.[String(seg)]) {
        out.push(alt.properties[String(seg)]!);
      } else if (typeof alt.additionalProperties === 'object') {
        out.push(alt.additionalProperties);
      }
    }
  }
  return out;
}

/** The schemas that may apply at `path` (several where a union allows several shapes). */
export function schemaAt(path: readonly PropertyKey[]): JsonSchema[] {
  let here = [root()];
  for (const seg of path) here = step(here, seg);
  return here.flatMap((s) => [s, ...(s.anyOf ?? [])]);
}

/** The keys an object at `path` may have (union of all alternatives). */
export function keysAt(path: readonly PropertyKey[]): string[] {
  const here = schemaAt(path);
  const keys = new Set<string>();
  for (const s of here)
    for (const alt of [s, ...(s.anyOf ?? [])]) for (const k of Object.keys(alt.properties ?? {})) keys.add(k);
  return [...keys];
}
