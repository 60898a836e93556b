// Who holds a socket: socket inodes mapped to processes through /proc/*/fd, and whether a
// holder is berth's own (the app itself, already running, or berth's supervisor).
import { readdir, readFile, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { containerName, unitName } from '../render/paths.js';

export interface Holder {
  pid: number;
  /** The command name (/proc/PID/comm). */
  comm: string;
}

const MAX_ANCESTORS = 32;
const read = (file: string) => readFile(file, 'utf8').catch(() => '');

/** The processes holding each of `inodes` (pids in numeric order), by the sockets among their open files. */
export async function socketHolders(
  procRoot: string,
  inodes: ReadonlySet<number>,
): Promise<Map<number, Holder[]>> {
  const found = new Map<number, Holder[]>();
  if (inodes.size === 0) return found;
  const pids = (await readdir(procRoot).catch(() => []))
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
  for (const pid of pids) {
    const fdDir = posix.join(procRoot, String(pid), 'fd');
    const fds = await readdir(fdDir).catch(() => [] as string[]);
    let comm: string | undefined;
    for (const fd of fds) {
      const target = await readlink(posix.join(fdDir, fd)).catch(() => '');
      const inode = Number(/^socket:\[(\d+)\]$/.exec(target)?.[1]);
      if (!inodes.has(inode)) continue;
      comm ??= (await read(posix.join(procRoot, String(pid), 'comm'))).trim() || '?';
      const list = found.get(inode) ?? [];
      if (!list.some((h) => h.pid === pid)) list.push({ pid, comm });
      found.set(inode, list);
    }
  }
  return found;
}

interface ProcFacts {
  ppid: number;
  argv: string[];
  /** The cgroup paths the process is in, one per hierarchy. */
  cgroups: string[];
}

async function procFacts(procRoot: string, pid: number): Promise<ProcFacts> {
  const dir = posix.join(procRoot, String(pid));
  const [status, cmdline, cgroup] = await Promise.all(
    ['status', 'cmdline', 'cgroup'].map((f) => read(posix.join(dir, f))),
  );
  return {
    ppid: Number(/^PPid:\s*(\d+)/m.exec(status!)?.[1] ?? 0),
    argv: cmdline!.split('\0').filter(Boolean),
    cgroups: cgroup!
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(':').slice(2).join(':')),
  };
}

/** conmon's `-n NAME` / `--name NAME`: the container it monitors. */
function conmonContainer(argv: readonly string[]): string | undefined {
  if (posix.basename(argv[0] ?? '') !== 'conmon') return undefined;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-n' || a === '--name') return argv[i + 1];
    if (a.startsWith('--name=')) return a.slice('--name='.length);
  }
  return undefined;
}

const isBerthSupervisor = (argv: readonly string[]) =>
  argv.includes('supervise') && argv.some((a) => /(?:^|\/)berth$|\/dist\/cli\/main\.js$/.test(a));

/**
 * Whether `pid` is part of app `app` (or, for 'berth', berth's supervisor): it or an
 * ancestor is in the app's unit cgroup (berth-APP.service), or is the conmon of its container
 * (berth-APP): the container's processes descend from their conmon.
 */
export async function belongsTo(procRoot: string, pid: number, app: string): Promise<boolean> {
  const unit = app === 'berth' ? 'berth.service' : unitName(app);
  const container = containerName(app);
  for (let p = pid, i = 0; p > 1 && i < MAX_ANCESTORS; i++) {
    const f = await procFacts(procRoot, p);
    if (f.cgroups.some((c) => c.split('/').includes(unit))) return true;
    if (app === 'berth' ? isBerthSupervisor(f.argv) : conmonContainer(f.argv) === container) return true;
    if (f.ppid === p) break;
    p = f.ppid;
  }
  return false;
}

/** Which berth app a holder belongs to, when it is another app's container (for the message). */
export async function berthContainerOf(procRoot: string, pid: number): Promise<string | undefined> {
  for (let p = pid, i = 0; p > 1 && i < MAX_ANCESTORS; i++) {
    const f = await procFacts(procRoot, p);
    const name = conmonContainer(f.argv);
    if (name) return name;
    if (f.ppid === p) break;
    p = f.ppid;
  }
  return undefined;
}
