// Maps a field path (['volumes', 'data', 'target']) back to a place in the YAML source.
import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import { type Diagnostic, fieldPath } from './diagnostics.js';

export interface Span {
  start: number;
  end: number;
}

export class Locator {
  private readonly lines: string[];

  constructor(
    readonly file: string,
    readonly text: string,
    private readonly lineCounter: LineCounter,
    private readonly doc?: Document,
  ) {
    this.lines = text.split(/\r?\n/);
  }

  /** Source span of the value at `path` (or of its key with `key: true`); the deepest match if the path runs out. */
  span(path: readonly PropertyKey[], opts: { key?: boolean } = {}): Span {
    let node: Node | null | undefined = this.doc?.contents as Node | null | undefined;
    let keyNode: Node | undefined;
    let best: Span = this.rangeOf(node) ?? { start: 0, end: 0 };
    for (const seg of path) {
      if (node && isAlias(node) && this.doc) node = node.resolve(this.doc) as Node | undefined;
      keyNode = undefined;
      let next: Node | null | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair) {
          keyNode = pair.key as Node;
          next = (pair.value as Node | null) ?? undefined;
          if (!next) best = this.rangeOf(keyNode) ?? best;
        }
      } else if (isSeq(node) && typeof seg === 'number') {
        next = node.items[seg] as Node | undefined;
      }
      if (!next) {
        if (keyNode && opts.key) return this.rangeOf(keyNode) ?? best;
        return best;
      }
      node = next;
      best = this.rangeOf(node) ?? best;
    }
    if (opts.key && keyNode) return this.rangeOf(keyNode) ?? best;
    return best;
  }

  private rangeOf(node: Node | null | undefined): Span | undefined {
    const r = node?.range;
    return r ? { start: r[0], end: r[1] } : undefined;
  }

  /** Offset of `needle` inside a span's source text, for pointing into a long value. */
  find(span: Span, needle: string): Span | undefined {
    const at = this.text.slice(span.start, Math.max(span.end, span.start + needle.length)).indexOf(needle);
    return at < 0 ? undefined : { start: span.start + at, end: span.start + at + needle.length };
  }

  diagnostic(span: Span, message: string, path?: readonly PropertyKey[]): Diagnostic {
    const pos = this.lineCounter.linePos(Math.min(span.start, this.text.length));
    const line = Math.max(1, pos.line);
    const source = this.lines[line - 1] ?? '';
    const lineEnd = (this.lineCounter.lineStarts[line - 1] ?? 0) + source.length;
    const length = Math.max(1, Math.min(span.end, lineEnd) - span.start);
    return {
      file: this.file,
      line,
      col: Math.max(1, pos.col),
      length,
      message,
      ...(path && path.length > 0 ? { field: fieldPath(path) } : {}),
      source,
    };
  }

  at(
    path: readonly PropertyKey[],
    message: string,
    opts: { key?: boolean; needle?: string } = {},
  ): Diagnostic {
    let span = this.span(path, opts);
    if (opts.needle) span = this.find(span, opts.needle) ?? span;
    return this.diagnostic(span, message, path);
  }
}
