// Files inside a root directory (this host's / or a debootstrapped tree), with symlinks
// followed inside that root: an absolute link in /ROOT/bin points into /ROOT, not the host.
import { lstat, readlink, stat } from 'node:fs/promises';
import { posix } from 'node:path';

const MAX_LINKS = 40;

/** The path inside `root` that `path` leads to (symlinks followed within the root), or undefined. */
export async function resolveInRoot(root: string, path: string): Promise<string | undefined> {
  let rest = path.split('/').filter(Boolean);
  let cur = '/';
  let links = 0;
  while (rest.length > 0) {
    const part = rest.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      cur = posix.dirname(cur);
      continue;
    }
    const next = posix.join(cur, part);
    const host = posix.join(root, next);
    try {
      if ((await lstat(host)).isSymbolicLink()) {
        if (++links > MAX_LINKS) return undefined;
        const target = await readlink(host);
        if (target.startsWith('/')) cur = '/';
        rest = [...target.split('/').filter(Boolean), ...rest];
        continue;
      }
    } catch {
      return undefined;
    }
    cur = next;
  }
  return cur;
}

/** The first of `candidates` that is an executable file under `root`, as the path inside the root. */
export async function findExecutable(
  root: string,
  candidates: readonly string[],
): Promise<string | undefined> {
  for (const c of candidates) {
    const inside = await resolveInRoot(root, c);
    if (!inside) continue;
    const st = await stat(posix.join(root, inside)).catch(() => undefined);
    if (st?.isFile() && (st.mode & 0o111) !== 0) return c;
  }
  return undefined;
}

/** A host path as the user should read it: relative to the root (absolute inside it). */
export function inRoot(root: string, hostPath: string): string {
  if (root === '/') return hostPath;
  const rel = posix.relative(root, hostPath);
  return rel.startsWith('..') ? hostPath : `/${rel}`;
}
