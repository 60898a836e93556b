// Compose's variable interpolation: ${VAR}, $VAR, ${VAR:-default}, ${VAR-default},
// ${VAR:?message}, ${VAR?message}, ${VAR:+alt}, ${VAR+alt}, and $$ for a literal $. Pure:
// the variables come in as a map.
export type Vars = ReadonlyMap<string, string>;

export interface Interpolated {
  value: string;
  /** Variables used that are not set (Compose warns and uses ''). */
  unset: string[];
  /** Variables whose values went into the result. */
  used: string[];
  error?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Defaults nest (${A:-${B:-…}}); deeper than this is refused, not recursed into. */
const MAX_DEPTH = 16;

/**
 * What a required variable with no value (`${X:?message}`) becomes when the caller can
 * supply it (a generated secret, say): its text, or undefined for Compose's error.
 */
export type OnRequired = (name: string, message: string) => string | undefined;

export function interpolate(text: string, vars: Vars, depth = 0, onRequired?: OnRequired): Interpolated {
  if (depth > MAX_DEPTH)
    return { value: '', unset: [], used: [], error: `variables nest deeper than ${MAX_DEPTH} levels` };
  let out = '';
  const unset: string[] = [];
  const used: string[] = [];
  const take = (name: string) => {
    used.push(name);
    return vars.get(name)!;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '$') {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '{') {
      const end = closing(text, i + 2);
      if (end < 0)
        return { value: out, unset, used, error: `'\${' is not closed in ${JSON.stringify(text)}` };
      const inner = text.slice(i + 2, end);
      const name = NAME.exec(inner)?.[0];
      if (!name)
        return {
          value: out,
          unset,
          used,
          error: `'\${${inner}}' is not a variable (use $$ for a literal $)`,
        };
      const rest = inner.slice(name.length);
      const set = vars.has(name);
      const val = vars.get(name) ?? '';
      const op = /^(:?[-?+])/.exec(rest)?.[1];
      if (rest !== '' && !op)
        return { value: out, unset, used, error: `'\${${inner}}' has an unknown modifier` };
      const arg = op ? rest.slice(op.length) : '';
      const sub = op ? interpolate(arg, vars, depth + 1, onRequired) : undefined;
      if (sub?.error) return { value: out, unset, used, error: sub.error };
      const empty = op?.startsWith(':') ? !set || val === '' : !set;
      const from = (r: Interpolated) => {
        used.push(...r.used);
        return r.value;
      };
      if (op === ':-' || op === '-') out += empty ? from(sub!) : take(name);
      else if (op === ':+' || op === '+') out += empty ? '' : from(sub!);
      else if (op === ':?' || op === '?') {
        const supplied = empty ? onRequired?.(name, sub!.value) : undefined;
        if (empty && supplied === undefined)
          return { value: out, unset, used, error: `${name} is required: ${sub!.value || 'it is not set'}` };
        out += empty ? supplied! : take(name);
      } else if (set) out += take(name);
      else unset.push(name);
      i = end;
      continue;
    }
    const name = NAME.exec(text.slice(i + 1))?.[0];
    if (!name) {
      out += '$';
      continue;
    }
    if (vars.has(name)) out += take(name);
    else unset.push(name);
    i += name.length;
  }
  return { value: out, unset, used };
}

/** The index of the } that closes a ${ opened before start, counting nested ${…}. */
function closing(text: string, start: number): number {
  let depth = 1;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** A .env file: KEY=VALUE lines, # comments, optional quotes; later keys win. */
export function parseEnvFile(text: string): {
  vars: Map<string, string>;
  errors: { line: number; message: string }[];
} {
  const vars = new Map<string, string>();
  const errors: { line: number; message: string }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(l);
    if (!m) {
      errors.push({ line: i + 1, message: 'not a KEY=VALUE line' });
      return;
    }
    let v = m[2]!;
    const q = /^(['"])(.*)\1$/.exec(v);
    if (q) v = q[1] === '"' ? q[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1') : q[2]!;
    else v = v.replace(/\s+#.*$/, '');
    vars.set(m[1]!, v);
  });
  return { vars, errors };
}
