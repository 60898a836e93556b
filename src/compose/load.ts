// Reading a compose file: size-limited, parsed with positions (every message is
// FILE:LINE:COL), variables interpolated in every string value from the .env beside it,
// --env-file and the environment, then checked against the official compose-spec schema.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { expandedSize } from './expansion.js';
import schema from './schema/compose-spec.json' with { type: 'json' };
import { interpolateDocument } from './interpolate-doc.js';
import type { ComposeMessage } from './message.js';
import { parseEnvFile } from './interpolate.js';

export const MAX_COMPOSE_BYTES = 1024 * 1024;
/** Nodes a document may grow to once its aliases are expanded (a real 40 KB file: a few thousand). */
export const MAX_EXPANDED_NODES = 200_000;

export type { ComposeMessage } from './message.js';

export interface LoadedCompose {
  file: string;
  data: Record<string, unknown>;
  /** Where a key path is in the file. */
  locate(path: readonly (string | number)[]): { line: number; col: number } | undefined;
  messages: ComposeMessage[];
  vars: Map<string, string>;
  /** Required variables without a value that became generated secrets. */
  generated: string[];
}

export const pathText = (path: readonly (string | number)[]) =>
  path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : String(p)), '');

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(data: unknown) {
  // The schema's $schema line names draft-07 by a URL Ajv does not hold: its meta check is off.
  validator ??= new Ajv({ validateSchema: false, strict: false, allErrors: true }).compile(schema);
  return validator(data) ? [] : (validator.errors ?? []);
}

function schemaMessage(e: ErrorObject): { path: (string | number)[]; text: string } {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    const key = String(p.additionalProperty);
    return { path: [...path, key], text: `unknown key '${key}' (not in the Compose Specification)` };
  }
  if (e.keyword === 'enum')
    return { path, text: `must be one of ${(p.allowedValues as unknown[]).join(', ')}` };
  if (e.keyword === 'required') return { path, text: `needs '${String(p.missingProperty)}'` };
  return { path, text: e.message ?? e.keyword };
}

/**
 * Variables: the environment, then .env beside the file, then --env-file (later wins, as
 * Compose reads --env-file instead of .env; the environment still wins over both).
 */
async function readVariables(
  file: string,
  opts: { envFiles?: string[]; env?: NodeJS.ProcessEnv },
): Promise<{ vars: Map<string, string>; fromEnv: Set<string>; messages: ComposeMessage[] }> {
  const vars = new Map<string, string>();
  const messages: ComposeMessage[] = [];
  for (const f of opts.envFiles ?? [join(dirname(file), '.env')]) {
    const t = await readFile(f, 'utf8').catch(() => undefined);
    if (t === undefined) {
      if (opts.envFiles) messages.push({ level: 'error', file: f, text: 'the env file cannot be read' });
      continue;
    }
    const parsed = parseEnvFile(t);
    for (const e of parsed.errors) messages.push({ level: 'error', file: f, line: e.line, text: e.message });
    for (const [k, v] of parsed.vars) vars.set(k, v);
  }
  const fromEnv = new Set<string>();
  for (const [k, v] of Object.entries(opts.env ?? process.env))
    if (v !== undefined) {
      vars.set(k, v);
      fromEnv.add(k);
    }
  return { vars, fromEnv, messages };
}

type Locate = (path: readonly (string | number)[]) => { line: number; col: number } | undefined;

/** Where a key path is in the document: its value, or for a key (locateKey) the key itself. */
function locators(doc: Document, at: (offset: number) => { line: number; col: number }) {
  const locate: Locate = (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true);
      const range =
        isScalar(node) || (node && typeof node === 'object' && 'range' in node)
          ? (node as { range?: [number, number, number] }).range
          : undefined;
      if (range) return at(range[0]);
      // A missing key: the nearest node above it.
    }
    return undefined;
  };
  // Keys: a mapping key's own position is better than its value's for "unknown key".
  const locateKey: Locate = (path) => {
    const parent = doc.getIn(path.slice(0, -1), true) as
      { items?: { key: { value?: unknown; range?: [number, number, number] } }[] } | undefined;
    const item = parent?.items?.find((i) => i.key?.value === path[path.length - 1]);
    return item?.key?.range ? at(item.key.range[0]) : locate(path);
  };
  return { locate, locateKey };
}

/** The schema's complaints, one per place (oneOf/anyOf branches' types joined), at their keys. */
function schemaMessages(file: string, data: unknown, locate: Locate, locateKey: Locate): ComposeMessage[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of validate(data)) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  return [...byPath.values()].map((group) => {
    const types = group.flatMap((e) =>
      e.keyword === 'type' ? [String((e.params as { type: unknown }).type)] : [],
    );
    const e =
      group.some((x) => x.keyword === 'oneOf' || x.keyword === 'anyOf') && types.length
        ? { ...group[0]!, keyword: 'type', message: `must be ${[...new Set(types)].join(' or ')}` }
        : group[0]!;
    const m = schemaMessage(e);
    const pos = e.keyword === 'additionalProperties' ? locateKey(m.path) : locate(m.path);
    return { level: 'error' as const, file, ...(pos ?? {}), path: pathText(m.path), text: m.text };
  });
}

export async function loadCompose(
  file: string,
  opts: { envFiles?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<LoadedCompose | { messages: ComposeMessage[] }> {
  const fail = (text: string, line?: number) => ({
    messages: [{ level: 'error' as const, file, ...(line ? { line } : {}), text }],
  });
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) return fail('no such file');
  if (st.size > MAX_COMPOSE_BYTES)
    return fail(`the file is ${st.size} bytes; compose files are limited to ${MAX_COMPOSE_BYTES}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(file));
  } catch {
    return fail('the file is not UTF-8 text');
  }

  const { vars, fromEnv, messages } = await readVariables(file, opts);

  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    uniqueKeys: true,
    prettyErrors: false,
    // `<<: *defaults` merges as Compose (YAML 1.1 merge keys) reads it.
    merge: true,
  });
  const at = (offset: number) => {
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  for (const e of doc.errors)
    messages.push({ level: 'error', file, ...at(e.pos[0]), text: e.message.split('\n')[0]! });
  if (doc.errors.length) return { messages };

  const interpolated = interpolateDocument(doc, { vars, fromEnv, file, at });
  messages.push(...interpolated.messages);
  const generated = interpolated.generated;

  // The budget is the expanded size, not the number of aliases: a "billion laughs" document
  // is refused before it grows, a large real file with many aliases is read.
  let data: unknown;
  try {
    const nodes = expandedSize(doc, MAX_EXPANDED_NODES);
    if (nodes > MAX_EXPANDED_NODES)
      return fail(
        `the document's aliases (*name) expand to more than ${MAX_EXPANDED_NODES} values (or refer to themselves): write the repeated parts out, or use fewer nested aliases`,
      );
    data = doc.toJS({ maxAliasCount: -1 });
  } catch (err) {
    return fail(`cannot read the document: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return fail('a compose file is a mapping with services:');
  // A key left empty (every line under it commented out) is no key, as Compose reads it.
  const services = (data as Record<string, unknown>).services;
  if (services && typeof services === 'object')
    for (const svc of Object.values(services))
      if (svc && typeof svc === 'object')
        for (const [k, v] of Object.entries(svc)) if (v === null) delete (svc as Record<string, unknown>)[k];
  const { locate, locateKey } = locators(doc, at);
  messages.push(...schemaMessages(file, data, locate, locateKey));
  return {
    file,
    data: data as Record<string, unknown>,
    locate: (p) => locateKey(p),
    messages,
    vars,
    generated,
  };
}
