// Node.js ≥ 20: the running one on this host; under --root, read statically (never run a
// binary from another root): the version header of an official build, the package.json of
// the npm build install-deps.sh puts in /usr/local/lib/berth-node, or dpkg's status for /usr/bin/node.
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { findExecutable, resolveInRoot } from './rootfs.js';
import type { CheckResult } from './types.js';

export const MIN_NODE_MAJOR = 20;
const NODE_PATHS = ['/usr/local/bin/node', '/usr/bin/node'];
const FIX = 'Install Node.js 20 or newer (image-build/install-deps.sh does; Debian 13 ships it as nodejs).';

export function nodeResult(version: string | undefined, where: string): CheckResult {
  if (!version)
    return {
      id: 'node',
      status: 'warn',
      summary: `${where}: its version could not be read without running it`,
      fix: `Make sure it is Node.js ${MIN_NODE_MAJOR} or newer (run '${where} --version' inside the root).`,
    };
  const major = Number(version.replace(/^v/, '').split('.')[0]);
  if (!(major >= MIN_NODE_MAJOR))
    return {
      id: 'node',
      status: 'fail',
      summary: `${where} is Node.js ${version}; berth needs ${MIN_NODE_MAJOR}+`,
      fix: FIX,
    };
  return { id: 'node', status: 'ok', summary: `Node.js ${version.replace(/^v/, '')} (${where})` };
}

const read = (file: string) => readFile(file, 'utf8').catch(() => undefined);

async function versionBeside(root: string, inside: string): Promise<string | undefined> {
  const prefix = posix.dirname(posix.dirname(inside));
  const header = await read(posix.join(root, prefix, 'include/node/node_version.h'));
  if (header) {
    const part = (n: string) => new RegExp(`#define NODE_${n}_VERSION (\\d+)`).exec(header)?.[1];
    if (part('MAJOR')) return `${part('MAJOR')}.${part('MINOR') ?? 0}.${part('PATCH') ?? 0}`;
  }
  const pkg = await read(posix.join(root, prefix, 'package.json'));
  if (pkg) {
    try {
      const v = (JSON.parse(pkg) as { version?: unknown }).version;
      if (typeof v === 'string') return v;
    } catch {
      // not a package.json we can read
    }
  }
  return undefined;
}

async function dpkgVersion(root: string, pkg: string): Promise<string | undefined> {
  const status = await read(posix.join(root, 'var/lib/dpkg/status'));
  const stanza = status?.split(/\n\n+/).find((s) => s.startsWith(`Package: ${pkg}\n`));
  if (!stanza || !/^Status: install ok installed$/m.test(stanza)) return undefined;
  return /^Version: (?:\d+:)?([0-9.]+)/m.exec(stanza)?.[1];
}

export async function checkNodeInRoot(root: string): Promise<CheckResult> {
  const found = await findExecutable(root, NODE_PATHS);
  if (!found)
    return {
      id: 'node',
      status: 'warn',
      summary: `no Node.js at ${NODE_PATHS.join(' or ')}; berth runs on Node.js ${MIN_NODE_MAJOR}+`,
      fix: FIX,
    };
  const inside = (await resolveInRoot(root, found))!;
  const version =
    (await versionBeside(root, inside)) ??
    (inside === '/usr/bin/nodejs' || inside === '/usr/bin/node'
      ? await dpkgVersion(root, 'nodejs')
      : undefined);
  return nodeResult(version, found);
}
