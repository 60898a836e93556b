// Per-recipe rules the schema's shapes cannot say: meaning, not form.
import { posix } from 'node:path';
import type { Recipe } from './schema.js';
import { closest } from './suggest.js';
import { parseTemplate } from './template.js';
import { type PortMapping, parseImageRef, parsePortString } from './values.js';

export interface CheckContext {
  /** Host directories that volumes may use with `host:`. */
  allowedRoots: readonly string[];
  /** berth's own data dir; never usable as a `host:` path. */
  dataDir: string;
}

export const DEFAULT_ALLOWED_ROOTS = ['/srv', '/mnt', '/media'] as const;

/** Host paths that no volume may use, whatever the allowed roots say. */
const FORBIDDEN_HOST_PATHS = [
  '/',
  '/etc',
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib64',
  '/boot',
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/var',
  '/root',
];

export interface Problem {
  path: PropertyKey[];
  message: string;
  key?: boolean;
  needle?: string;
}

const CAPABILITIES = [
  'AUDIT_CONTROL',
  'AUDIT_READ',
  'AUDIT_WRITE',
  'BLOCK_SUSPEND',
  'BPF',
  'CHECKPOINT_RESTORE',
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'LINUX_IMMUTABLE',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'MKNOD',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_RAW',
  'PERFMON',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYSLOG',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_CHROOT',
  'SYS_MODULE',
  'SYS_NICE',
  'SYS_PACCT',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'WAKE_ALARM',
];

export function portsOf(recipe: Recipe): PortMapping[] {
  return (recipe.ports ?? []).map((p) => (typeof p === 'string' ? parsePortString(p)! : { ...p }));
}

export const under = (path: string, root: string) =>
  root === '/' || path === root || path.startsWith(`${root.replace(/\/+$/, '')}/`);
const trimSlash = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/** Why a (normalized) host path cannot be given to an app, as the end of a sentence; undefined when it can. */
export function hostPathProblem(host: string, ctx: CheckContext): string | undefined {
  const dataDir = trimSlash(ctx.dataDir);
  if (FORBIDDEN_HOST_PATHS.includes(host) || under(host, dataDir) || under(dataDir, host))
    return `is a system or berth directory and cannot be given to an app; use a directory under ${ctx.allowedRoots.join(', ')}`;
  if (!ctx.allowedRoots.some((root) => under(host, trimSlash(root))))
    return `is outside the allowed roots (${ctx.allowedRoots.join(', ')}); move the data under one of them`;
  return undefined;
}

/** The host's secrets and berth's own: never given to an app, nor a folder that holds one. */
const SECRET_HOST_PATHS = [
  '/etc/shadow',
  '/etc/gshadow',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/ssh',
  '/root',
  '/etc/berth',
  '/var/lib/containers',
];

/** Why a host_paths entry cannot be given: secrets, berth's own data, an engine socket (podman_socket says that). */
function systemPathProblem(path: string, ctx: CheckContext): string | undefined {
  const dataDir = trimSlash(ctx.dataDir);
  if (under(path, dataDir) || under(dataDir, path))
    return `holds berth's data dir (${ctx.dataDir}): apps' data and secrets are not given to another app`;
  const secret = SECRET_HOST_PATHS.find((p) => under(path, p) || under(p, path));
  if (secret)
    return `${secret === path ? 'is' : `holds ${secret}, which is`} one of the host's secrets or berth's own settings: it is never given to an app`;
  if (/(?:^|\/)(?:docker|podman)\.sock$/.test(path))
    return "is a container engine's socket: write podman_socket: true instead (podman's API at /var/run/docker.sock)";
  return undefined;
}

export function checkRecipe(r: Recipe, ctx: CheckContext): Problem[] {
  const problems: Problem[] = [];
  const add = (path: PropertyKey[], message: string, extra: Partial<Problem> = {}) =>
    problems.push({ path, message, ...extra });

  if (r.image !== undefined && r.build !== undefined)
    add(['build'], 'give image or build, not both: build makes the image the app runs', { key: true });
  else if (r.image === undefined && r.build === undefined)
    add(['image'], "missing required key 'image' (or 'build', to build the image from a Containerfile)");
  if (r.image !== undefined) {
    const image = parseImageRef(r.image);
    if (typeof image === 'string') add(['image'], image);
  }
  (r.host_paths ?? []).forEach((h, i) => {
    const why = systemPathProblem(posix.normalize(h.path), ctx);
    if (why) add(['host_paths', i, 'path'], `${h.path} ${why}`);
  });
  const context = typeof r.build === 'string' ? r.build : r.build?.context;
  const outsideRoots = (p: string | undefined): p is string =>
    p?.startsWith('/') === true &&
    !ctx.allowedRoots.some((root) => under(posix.normalize(p), trimSlash(root)));
  if (outsideRoots(context))
    add(
      typeof r.build === 'string' ? ['build'] : ['build', 'context'],
      `the build context ${context} is outside the allowed roots (${ctx.allowedRoots.join(', ')}); put it under one of them, or next to the recipe`,
    );
  // A relative file lies in the context (no '..'); an absolute one must lie under a root too.
  const buildFile = typeof r.build === 'object' ? r.build.file : undefined;
  if (outsideRoots(buildFile))
    add(
      ['build', 'file'],
      `the Containerfile ${buildFile} is outside the allowed roots (${ctx.allowedRoots.join(', ')}); give it relative to the build context`,
    );

  // Networking.
  if (r.ports && r.network !== 'bridge') {
    add(
      ['ports'],
      r.network === 'host'
        ? "ports are only for network: bridge; with network: host the app already listens on the host's own ports, so there is nothing to publish (remove ports, or use network: bridge)"
        : 'ports need a network; network: none has none (remove ports, or use network: bridge)',
      { key: true },
    );
  }
  if (r.networks && r.network !== 'bridge')
    add(['networks'], `networks are only for network: bridge apps (this app uses network: ${r.network})`, {
      key: true,
    });
  const seenPorts = new Map<string, number>();
  portsOf(r).forEach((p, i) => {
    const k = `${p.host}/${p.protocol}`;
    const before = seenPorts.get(k);
    if (before !== undefined) add(['ports', i], `host port ${k} is already published by ports[${before}]`);
    else seenPorts.set(k, i);
  });

  // Storage: where data may live, and no two mounts at one target.
  const targets = new Map<string, string>();
  const claimTarget = (target: string, what: string, path: PropertyKey[]) => {
    const t = trimSlash(target);
    const other = targets.get(t);
    if (other) add(path, `target ${t} is already used by ${other}`);
    else targets.set(t, what);
  };
  for (const [name, v] of Object.entries(r.volumes ?? {})) {
    claimTarget(v.target, `volumes.${name}`, ['volumes', name, 'target']);
    if (v.host !== undefined && v.disk !== undefined)
      add(['volumes', name, 'disk'], 'give host or disk, not both: disk puts the data under /srv/<disk>', {
        key: true,
      });
    if (v.host === undefined) continue;
    const host = posix.normalize(trimSlash(v.host));
    const problem = hostPathProblem(host, ctx);
    if (problem) add(['volumes', name, 'host'], `host path ${host} ${problem}`);
  }
  for (const [name, f] of Object.entries(r.files ?? {}))
    claimTarget(f.target, `files.${name}`, ['files', name, 'target']);

  // Substitutions.
  const checkTemplate = (value: string, path: PropertyKey[], allowSecrets: boolean) => {
    const parsed = parseTemplate(value);
    if (!Array.isArray(parsed)) {
      const bad = value.slice(parsed.offset, value.indexOf('}', parsed.offset) + 1 || undefined);
      add(path, parsed.message, { needle: bad });
    } else if (!allowSecrets && parsed.some((p) => p.kind === 'secret')) {
      add(path, '${secret:…} is not allowed here: it would be shown on the LAN');
    }
  };
  for (const [k, v] of Object.entries(r.env ?? {}))
    if (typeof v === 'string') checkTemplate(v, ['env', k], true);
  for (const [k, f] of Object.entries(r.files ?? {})) checkTemplate(f.content, ['files', k, 'content'], true);

  // Dependencies on itself or twice on one app.
  const deps = new Set<string>();
  (r.depends_on ?? []).forEach((d, i) => {
    const name = typeof d === 'string' ? d : Object.keys(d)[0]!;
    if (name === r.name) add(['depends_on', i], `app '${r.name}' cannot depend on itself`);
    else if (deps.has(name)) add(['depends_on', i], `'${name}' is listed twice in depends_on`);
    deps.add(name);
  });

  (r.capabilities ?? []).forEach((c, i) => {
    const cap = c.replace(/^CAP_/, '');
    if (!CAPABILITIES.includes(cap)) {
      const hint = closest(cap, CAPABILITIES);
      add(['capabilities', i], `unknown capability '${c}'${hint ? `, did you mean '${hint}'?` : ''}`);
    }
  });

  // Advertised services must be reachable where they are advertised.
  const published = new Set(portsOf(r).map((p) => `${p.host}/${p.protocol}`));
  (r.advertise ?? []).forEach((a, i) => {
    if (a.name !== undefined) checkTemplate(a.name, ['advertise', i, 'name'], false);
    const proto = a.type.endsWith('._udp') ? 'udp' : 'tcp';
    if (r.network === 'none') add(['advertise', i], 'an app with network: none cannot advertise services');
    else if (r.network === 'bridge' && !published.has(`${a.port}/${proto}`))
      add(
        ['advertise', i, 'port'],
        `port ${a.port}/${proto} is advertised but not published; add it to ports (bridge apps are reached through published ports)`,
      );
  });

  (r.devices ?? []).forEach((d, i) => {
    if (d.replace(/^-/, '').split('/').includes('..'))
      add(['devices', i], `device path ${d} must not contain '..'`);
  });
  return problems;
}
