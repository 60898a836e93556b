// How big a YAML document becomes once its aliases are expanded, counted without expanding
// it: each node's size is counted once and an alias adds its anchor's size. A real compose
// file with hundreds of aliases (shared environment blocks, `<<: *defaults`) stays small; a
// "billion laughs" document is found to be huge in time linear in its text.
import { isAlias, isCollection, isPair, type Document, type Node } from 'yaml';

/** The expanded node count, or Infinity once it passes the limit or an alias loops. */
export function expandedSize(doc: Document, limit: number): number {
  const sizes = new Map<unknown, number>();
  const open = new Set<unknown>();
  const size = (node: unknown): number => {
    if (node === null || node === undefined) return 0;
    const target = isAlias(node) ? (node.resolve(doc) as Node | undefined) : node;
    if (target === undefined) return 1;
    const known = sizes.get(target);
    if (known !== undefined) return known;
    if (open.has(target)) return Infinity; // an alias inside its own anchor
    open.add(target);
    let n = 1;
    if (isCollection(target))
      for (const item of target.items) {
        n += isPair(item) ? size(item.key) + size(item.value) : size(item);
        if (n > limit) break;
      }
    open.delete(target);
    const total = n > limit ? Infinity : n;
    sizes.set(target, total);
    return total;
  };
  return size(doc.contents);
}
