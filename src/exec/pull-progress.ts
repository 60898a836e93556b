// Progress of an image pull, for a person at a terminal: bytes, rate and time left. podman
// draws bars only on its own terminal, so berth measures for itself: the total from the
// registry's manifest (the layers' and config's sizes, asked anonymously, best effort), and
// the bytes so far from the blobs podman writes into its big-files temp dir while it pulls.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Podman } from '../podman/podman.js';
import { parseImageRef } from '../recipe/values.js';
import { formatBytes } from './space.js';

export interface PullProgress {
  /** Bytes to download, when the registry said. */
  total?: number;
  done: number;
  elapsedMs: number;
}

/** One line: a bar when the total is known, bytes, rate and time left. Pure, for tests. */
export function progressLine(ref: string, p: PullProgress, width = 20): string {
  const secs = p.elapsedMs / 1000;
  const rate = secs > 0.5 ? p.done / secs : 0;
  const parts = [`pulling ${ref}`];
  if (p.total && p.total > 0) {
    const frac = Math.min(1, p.done / p.total);
    const full = Math.round(frac * width);
    parts.push(
      `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`,
      `${formatBytes(p.done)} / ${formatBytes(p.total)}`,
    );
  } else parts.push(formatBytes(p.done));
  if (rate > 0) parts.push(`${formatBytes(rate)}/s`);
  if (p.total && rate > 0 && p.done < p.total) parts.push(`${Math.ceil((p.total - p.done) / rate)} s left`);
  return parts.join('  ');
}

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

interface Manifest {
  manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[];
  layers?: { size: number }[];
  config?: { size: number };
}

type Fetch = typeof fetch;

/** GET with the registry's anonymous bearer token when it asks for one. */
async function registryGet(url: string, f: Fetch): Promise<Response> {
  const headers = { accept: ACCEPT };
  const r = await f(url, { headers, signal: AbortSignal.timeout(5000) });
  if (r.status !== 401) return r;
  const auth = r.headers.get('www-authenticate') ?? '';
  const field = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(auth)?.[1];
  const realm = field('realm');
  if (!/^bearer/i.test(auth) || !realm) return r;
  const q = new URLSearchParams();
  for (const k of ['service', 'scope']) if (field(k)) q.set(k, field(k)!);
  const tok = (await (await f(`${realm}?${q}`, { signal: AbortSignal.timeout(5000) })).json()) as {
    token?: string;
    access_token?: string;
  };
  return f(url, {
    headers: { ...headers, authorization: `Bearer ${tok.token ?? tok.access_token ?? ''}` },
    signal: AbortSignal.timeout(5000),
  });
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm' };

/** Bytes a pull of ref downloads (compressed layers and config), or undefined when the registry does not say. */
export async function pullSize(ref: string, f: Fetch = fetch): Promise<number | undefined> {
  const parsed = parseImageRef(ref);
  if (typeof parsed === 'string') return undefined;
  const host = parsed.registry === 'docker.io' ? 'registry-1.docker.io' : parsed.registry;
  const repo =
    parsed.registry === 'docker.io' && !parsed.repository.includes('/')
      ? `library/${parsed.repository}`
      : parsed.repository;
  const wanted = parsed.digest ?? parsed.tag ?? 'latest';
  for (const scheme of ['https', 'http']) {
    try {
      const get = async (r: string) =>
        (await registryGet(`${scheme}://${host}/v2/${repo}/manifests/${r}`, f)).json() as Promise<Manifest>;
      let m = await get(wanted);
      if (m.manifests) {
        const arch = ARCH[process.arch] ?? process.arch;
        const pick = m.manifests.find((x) => x.platform?.os === 'linux' && x.platform.architecture === arch);
        if (!pick) return undefined;
        m = await get(pick.digest);
      }
      if (!m.layers) return undefined;
      return m.layers.reduce((a, l) => a + l.size, 0) + (m.config?.size ?? 0);
    } catch {
      // Next scheme (an insecure registry speaks plain HTTP), or no total.
    }
  }
  return undefined;
}

/**
 * Bytes podman has downloaded so far: the blob files in the `storage*` dirs it makes in its
 * big-files temp dir ($TMPDIR, else /var/tmp) for this pull (those that were not there when
 * it started).
 */
export async function downloadWatcher(
  dir = process.env.TMPDIR || '/var/tmp',
): Promise<() => Promise<number>> {
  const list = async () =>
    (await readdir(dir).catch(() => [] as string[])).filter((n) => /^storage\d+$/.test(n));
  const before = new Set(await list());
  // A blob's file is deleted once its layer is stored: each keeps the largest size seen.
  const seen = new Map<string, number>();
  return async () => {
    for (const d of (await list()).filter((n) => !before.has(n)))
      for (const f of await readdir(join(dir, d)).catch(() => [] as string[])) {
        const size = (await stat(join(dir, d, f)).catch(() => undefined))?.size ?? 0;
        const key = join(d, f);
        seen.set(key, Math.max(seen.get(key) ?? 0, size));
      }
    return [...seen.values()].reduce((a, b) => a + b, 0);
  };
}

/** Pulls ref, reporting podman's lines and, every second, a progress line (see progressLine). */
export async function pullWithProgress(
  podman: Podman,
  ref: string,
  onLine: (line: string) => void,
  intervalMs = 1000,
): Promise<void> {
  const t0 = Date.now();
  const watch = await downloadWatcher();
  let total: number | undefined;
  pullSize(ref)
    .then((t) => (total = t))
    .catch(() => undefined);
  const tick = async () =>
    onLine(
      progressLine(ref, { ...(total ? { total } : {}), done: await watch(), elapsedMs: Date.now() - t0 }),
    );
  const timer = setInterval(() => void tick(), intervalMs);
  try {
    await podman.pull(ref, onLine);
  } finally {
    clearInterval(timer);
  }
  onLine(`pulled ${ref}: ${formatBytes(await watch())} in ${Math.round((Date.now() - t0) / 100) / 10} s`);
}
