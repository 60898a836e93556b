// The programs berth and podman need on the host, where Debian 12's podman 4.3 and Debian
// 13's podman 5.4 look for them (containers.conf's conmon_path, helper_binaries_dir and
// init_path defaults), and the Debian package that ships each.
import type { App } from '../recipe/app.js';
import { findExecutable } from './rootfs.js';
import type { CheckResult } from './types.js';

/** podman's helper_binaries_dir default, Debian's own dir first. */
const HELPER_DIRS = [
  '/usr/lib/podman',
  '/usr/libexec/podman',
  '/usr/local/libexec/podman',
  '/usr/local/lib/podman',
];
const helpers = (name: string) => HELPER_DIRS.map((d) => `${d}/${name}`);

export interface Program {
  id: string;
  /** Paths tried in order; the first executable one counts. */
  paths: readonly string[];
  debianPackage: string;
  /** What the program is for, in the failure sentence. */
  role: string;
  /** When only some recipes need it: the apps that do (missing is then a fail only if any). */
  neededBy?: (apps: readonly App[]) => App[];
  /** Checked with --root only (the live checks run the real thing instead). */
  staticOnly?: boolean;
}

export const PROGRAMS: readonly Program[] = [
  {
    id: 'podman',
    paths: ['/usr/bin/podman'],
    debianPackage: 'podman',
    role: 'runs the containers',
    staticOnly: true,
  },
  {
    id: 'conmon',
    paths: [
      '/usr/bin/conmon',
      '/usr/libexec/podman/conmon',
      '/usr/local/libexec/podman/conmon',
      '/usr/local/lib/podman/conmon',
      '/usr/sbin/conmon',
      '/usr/local/bin/conmon',
    ],
    debianPackage: 'conmon',
    role: 'podman monitors every container with it',
  },
  {
    id: 'oci-runtime',
    paths: [
      '/usr/bin/runc',
      '/usr/sbin/runc',
      '/usr/bin/crun',
      '/usr/local/bin/crun',
      '/usr/local/sbin/runc',
    ],
    debianPackage: 'runc',
    role: 'the OCI runtime (runc or crun) that podman starts containers with',
  },
  {
    id: 'catatonit',
    // podman 4.3's init_path; podman 5 also finds it there (Debian ships this path in both).
    paths: ['/usr/libexec/podman/catatonit'],
    debianPackage: 'catatonit',
    role: "podman --init runs it as the container's PID 1",
    neededBy: (apps) => apps.filter((a) => a.init),
  },
  {
    id: 'netavark',
    paths: helpers('netavark'),
    debianPackage: 'netavark',
    role: "podman's bridge networking",
    neededBy: (apps) => apps.filter((a) => a.network === 'bridge'),
  },
  {
    id: 'aardvark-dns',
    paths: helpers('aardvark-dns'),
    debianPackage: 'aardvark-dns',
    role: 'names apps on shared networks (networks:)',
    neededBy: (apps) => apps.filter((a) => a.networks.length > 0),
  },
  {
    id: 'systemctl',
    paths: ['/usr/bin/systemctl', '/bin/systemctl'],
    debianPackage: 'systemd',
    role: 'systemd runs every app as a unit',
  },
  {
    id: 'nsenter',
    paths: ['/usr/bin/nsenter'],
    debianPackage: 'util-linux',
    role: 'reaching into namespaces',
  },
  {
    id: 'unshare',
    paths: ['/usr/bin/unshare'],
    debianPackage: 'util-linux',
    role: 'private namespaces',
  },
  {
    id: 'flock',
    paths: ['/usr/bin/flock'],
    debianPackage: 'util-linux',
    role: 'the apply lock',
  },
  {
    id: 'zstd',
    paths: ['/usr/bin/zstd'],
    debianPackage: 'zstd',
    role: 'tar --zstd compresses the data snapshot taken before each update',
    neededBy: (apps) => apps.filter((a) => a.volumes.some((v) => !v.readonly) && a.update.snapshot !== false),
  },
];

const names = (apps: readonly App[]) => {
  const shown = apps.slice(0, 3).map((a) => a.name);
  return `${shown.join(', ')}${apps.length > shown.length ? ` and ${apps.length - shown.length} more` : ''}`;
};

/** One program: present, missing and needed (fail), or missing and not needed by these recipes (warn). */
export async function checkProgram(root: string, p: Program, apps: readonly App[]): Promise<CheckResult> {
  const found = await findExecutable(root, p.paths);
  if (found) return { id: p.id, status: 'ok', summary: `${found}` };
  const install = `install the Debian package ${p.debianPackage} (apt-get install ${p.debianPackage})`;
  const where = p.paths.length === 1 ? p.paths[0]! : `${p.paths[0]} (nor ${p.paths.slice(1).join(', ')})`;
  const needers = p.neededBy?.(apps);
  if (needers && needers.length === 0)
    return {
      id: p.id,
      status: 'warn',
      summary: `${where} is missing; no recipe needs it now (${p.role})`,
      fix: `To use it later, ${install}.`,
    };
  const why = needers
    ? `; ${names(needers)} need${needers.length === 1 ? 's' : ''} it (${p.role})`
    : ` (${p.role})`;
  return {
    id: p.id,
    status: 'fail',
    summary: `${where} is missing${why}`,
    fix: `${install[0]!.toUpperCase()}${install.slice(1)}.`,
  };
}
