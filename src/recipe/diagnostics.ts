// A problem found in a recipe, located in its file, in the form compilers use
// (FILE:LINE:COL: error: what (field)), so editors and people can jump to it.

export interface Diagnostic {
  file: string;
  /** 1-based line and column. */
  line: number;
  col: number;
  /** How many characters the caret underline covers (at least 1). */
  length: number;
  message: string;
  /** Dotted field path such as `volumes.data.target` or `ports[0]`, when one applies. */
  field?: string;
  /** The source line the position is on, for the caret display. */
  source?: string;
}

export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (!/^[A-Za-z0-9_-]+$/.test(String(seg))) out += `[${JSON.stringify(String(seg))}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** One diagnostic as text: the header line, then the source line and a caret. */
export function formatDiagnostic(d: Diagnostic): string {
  const field = d.field ? ` (${d.field})` : '';
  const head = `${d.file}:${d.line}:${d.col}: error: ${d.message}${field}`;
  if (d.source === undefined) return head;
  const src = d.source.replace(/\t/g, ' ');
  const shown = src.length > 160 ? `${src.slice(0, 157)}...` : src;
  const col = Math.min(d.col - 1, shown.length);
  const len = Math.max(1, Math.min(d.length, Math.max(1, shown.length - col)));
  return `${head}\n  ${shown}\n  ${' '.repeat(col)}^${'~'.repeat(len - 1)}`;
}

/**
 * The source line to show beside a diagnostic outside the recipe's own file (the status
 * page, the BERTH partition's report): only for an error located at a field that is not an
 * env value or a file's content. A YAML syntax error names no field, and its line may be a
 * secret (a duplicated PASSWORD: key), so it is not shown.
 */
export function shownSource(d: Diagnostic): string | undefined {
  return d.field && !/^(env|files)\b/.test(d.field) ? d.source : undefined;
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.message.localeCompare(b.message)
  );
}
