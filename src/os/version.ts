// OS versions: what os-release says this root is, and how two versions compare.
import { readFile } from 'node:fs/promises';

/**
 * A version berth's OS images carry: what sysupdate takes for @v, with no '+' (sd-boot's
 * counter) and short enough that `berth-root_<v>` fits a GPT partition name (36 characters).
 */
export const VERSION_RE = /^[0-9][0-9A-Za-z._-]{0,24}$/;

export interface OsRelease {
  imageId?: string;
  imageVersion?: string;
  prettyName?: string;
}

/** os-release(5): KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): OsRelease {
  const v: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let val = m[2]!;
    if (/^(["']).*\1$/.test(val)) val = val.slice(1, -1).replace(/\\(.)/g, '$1');
    v[m[1]!] = val;
  }
  return {
    ...(v.IMAGE_ID ? { imageId: v.IMAGE_ID } : {}),
    ...(v.IMAGE_VERSION ? { imageVersion: v.IMAGE_VERSION } : {}),
    ...(v.PRETTY_NAME ? { prettyName: v.PRETTY_NAME } : {}),
  };
}

export async function readOsRelease(path: string): Promise<OsRelease> {
  return parseOsRelease(await readFile(path, 'utf8'));
}

/**
 * Orders versions as systemd does for plain dotted versions (strverscmp_improved): numeric
 * runs compare as numbers, other runs as text, '~' sorts before everything, and a version
 * that goes on (1.2.1) is newer than its prefix (1.2).
 */
export function compareVersions(a: string, b: string): number {
  const parts = (s: string) => s.match(/~|[0-9]+|[A-Za-z]+|[^0-9A-Za-z~]+/g) ?? [];
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    if (x === '~') return -1;
    if (y === '~') return 1;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^[0-9]/.test(x);
    const ny = /^[0-9]/.test(y);
    if (nx && ny) {
      const d = BigInt(x) - BigInt(y);
      if (d !== 0n) return d < 0n ? -1 : 1;
      continue;
    }
    if (nx !== ny) return nx ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return 0;
}
