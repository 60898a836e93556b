// Compose services → berth recipes, key by key (a table, as the podman flags are). What a
// recipe cannot say is an error at the compose key's line, never dropped without a word;
// what gives an app power over the host is said loudly. Pure: files come in by a reader.
import { isAbsolute, join, normalize, posix } from 'node:path';
import { under } from '../recipe/check.js';
import { type BindContext, bindOutcome } from './binds.js';
import { parseEnvFile } from './interpolate.js';
import { addRecipeFile } from './recipe-files.js';
import { placeMarkedSecrets, type SeedSecret, serviceConfigs, serviceSecrets } from './secrets.js';
import { SECURITY_OPT_RE } from '../recipe/schema.js';
import { type ComposeMessage, pathText } from './load.js';
import { splitWords } from './words.js';

type Path = (string | number)[];
type Obj = Record<string, unknown>;

export interface ConvertContext extends BindContext {
  file: string;
  /** The variables the file was interpolated with (a compose secret may name one). */
  vars: ReadonlyMap<string, string>;
  profiles: readonly string[];
  /** The project's name: Compose's `name:`, or the file's directory name. Its networks are named after it. */
  project: string;
  locate(path: Path): { line: number; col: number } | undefined;
  /** Where env files may be read from, as real paths (their text is copied into the recipes). */
  envFilePlaces: EnvFilePlaces;
}

export interface EnvFilePlaces {
  /** The compose file's folder. */
  dir: string;
  allowedRoots: readonly string[];
  /** berth's data dir: apps' own files and generated secrets, never copied anywhere. */
  dataDir: string;
}

/**
 * Why an env file (by its real path) may not be copied into a recipe, or undefined when it
 * may: only from the compose file's folder or under the allowed roots, never from berth's
 * data dir (an `env_file: ../../apps/vault/.secrets/env` would copy another app's secret).
 */
export function envFileRefusal(real: string, places: EnvFilePlaces): string | undefined {
  if (under(real, places.dataDir))
    return `is in berth's data dir (${places.dataDir}), where apps keep their own files and secrets: it is never copied into a recipe`;
  if (under(real, places.dir) || places.allowedRoots.some((r) => under(real, r))) return undefined;
  return `is outside the compose file's folder (${places.dir}) and the allowed roots (${places.allowedRoots.join(', ')}): copy it next to the compose file`;
}

/** A folder beside the compose file whose contents go into an app's volume (--move-data, --copy-data). */
export interface DataTake {
  from: string;
  volume: string;
}

export interface ConvertedApp {
  service: string;
  name: string;
  recipe: Obj;
  takes: DataTake[];
  /** Secrets the import puts in the app's store before the recipe is written. */
  seeds: SeedSecret[];
  /** Folders the import makes (a volume shared by services). */
  dirs: string[];
}

export interface Converted {
  apps: ConvertedApp[];
  messages: ComposeMessage[];
}

interface Svc {
  name: string;
  app: string;
  path: Path;
  recipe: Obj;
  say(level: ComposeMessage['level'], key: Path, text: string): void;
  /** Named volumes and networks of the file. */
  top: Obj;
  /** The service's own definition (extends resolved). */
  def: Obj;
  takes: DataTake[];
  seeds: SeedSecret[];
  dirs: string[];
}

/** A value as a recipe's env holds it: ${ starts a berth substitution there, so a literal one is $${. */
const literal = (v: string) => v.replaceAll('${', () => '$${');
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) =>
  typeof v === 'number' || typeof v === 'boolean' ? String(v) : typeof v === 'string' ? v : undefined;
/** An app name from a service name: lower case, dashes for dots and underscores. */
export const appName = (service: string) => service.toLowerCase().replace(/[._]/g, '-');
/** Compose networks are the project's own: default is the project's name, others are prefixed. */
const networkOf = (project: string, n: string) =>
  (n === 'default' ? project : `${project}-${appName(n)}`).slice(0, 48);
const APP_RE = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;
const looksSecret = (name: string) => /pass|secret|token|key|auth|cred/i.test(name);

/** docker.io/library/nginx:latest from nginx, as Compose (and Docker) resolve it. */
export function qualifyImage(image: string): { ref: string; note?: string } {
  // `app:${VERSION}` with VERSION unset (the loader said so) leaves a bare colon, and a
  // template's `app:{{VERSION}}` or `app:<version>` is no tag either.
  let ref = image.replace(/:(?:\{\{[^}]*\}\}|<[^>]*>)?$/, '');
  const first = ref.split('/')[0]!;
  const hasRegistry =
    ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) ref = `docker.io/${ref.includes('/') ? '' : 'library/'}${ref}`;
  const last = ref.split('/').pop()!;
  if (!last.includes(':') && !ref.includes('@'))
    return {
      ref: `${ref}:latest`,
      note: `image ${image} has no tag: it was given :latest; pin a version so updates are deliberate`,
    };
  return { ref };
}

function duration(v: unknown): string | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const d = s.replace(/\s+/g, '').replace(/(\d+(?:\.\d+)?)us/g, '0ms');
  return /^(?:[0-9]+(?:ms|s|m|h|d))+$/.test(d) ? d : undefined;
}

/** Compose sizes (bytes, or 512m, 1gb) as a recipe size (512M). */
function size(v: unknown): string | undefined {
  const s = str(v)?.toLowerCase();
  if (!s) return undefined;
  const m = /^(\d+)\s*([kmgt]?)b?$/.exec(s);
  if (!m) return undefined;
  return m[2] ? `${m[1]}${m[2].toUpperCase()}` : `${Math.max(1, Math.ceil(Number(m[1]) / 1024))}K`;
}

function listOrDict(v: unknown): [string, string | undefined][] {
  if (Array.isArray(v))
    return v.map((e) => {
      const t = String(e);
      const i = t.indexOf('=');
      return i < 0 ? [t, undefined] : [t.slice(0, i), t.slice(i + 1)];
    });
  if (isObj(v)) return Object.entries(v).map(([k, x]) => [k, x === null ? undefined : str(x)]);
  return [];
}

type Rule = (svc: Svc, value: unknown, ctx: ConvertContext) => void;

const remote = (context: string) => /^(?:[a-z]+:\/\/|git@)/.test(context);
/** A service whose build a recipe makes (a local context): its image: only names the result. */
const builtHere = (def: Obj) => {
  const b = def.build;
  if (b === undefined) return false;
  return !remote(String(isObj(b) ? (b.context ?? '.') : b));
};

/** Keys a recipe has no home for yet, with what to do. */
const NO_HOME: Record<string, string> = {
  cap_drop: 'a recipe has no cap_drop key yet',
  ipc: 'a recipe has no ipc key yet',
  pid: 'a recipe has no pid key: a container sharing the host PID namespace is not supported',
  userns_mode: 'a recipe has no userns_mode key',
  cgroup: 'a recipe has no cgroup key',
  cgroup_parent: 'a recipe has no cgroup_parent key',
  dns_search: 'a recipe has no dns_search key yet',
  dns_opt: 'a recipe has no dns_opt key yet',
  external_links: 'a recipe has no external_links key',
  volumes_from: 'a recipe has no volumes_from key: give each app its own volumes or a shared host dir',
};

/** Keys that change nothing berth runs: dropped, with a word. */
const DROPPED: Record<string, string> = {
  container_name: 'berth names the container berth-<app>',
  logging: 'berth sends output to the journal',
  stdin_open: 'apps run without a terminal',
  tty: 'apps run without a terminal',
  hostname: 'the container keeps its own host name',
  domainname: 'dropped',
  platform: 'the image for this machine is used',
  pull_policy: 'berth pulls once and pins the image (berth update updates it)',
  expose: 'apps on one network reach every port; nothing to do',
  annotations: 'dropped',
  mem_reservation: 'dropped: berth sets limits only',
  cpus: 'berth has cpu_weight, not a CPU limit: set resources.cpu_weight if needed',
  cpu_shares: 'set resources.cpu_weight in the recipe instead',
  attach: 'dropped',
  links: 'not needed: apps on one network reach each other by name',
};

const RULES: Record<string, Rule> = {
  image: (s, v) => {
    if (builtHere(s.def)) return; // the build rule names it
    const q = qualifyImage(String(v));
    s.recipe.image = q.ref;
    if (q.note) s.say('warning', ['image'], q.note);
  },
  build: (s, v, ctx) => {
    const b = typeof v === 'string' ? { context: v } : (v as Obj);
    if (builtHere(s.def) && s.def.image !== undefined)
      s.say(
        'info',
        ['build'],
        `the image is built here, as Compose builds it; the name ${String(s.def.image)} is not needed`,
      );
    const extra = Object.keys(b).filter((k) => !['context', 'dockerfile', 'args', 'target'].includes(k));
    if (extra.length)
      s.say('error', ['build', extra[0]!], `build.${extra[0]} has no equal in a recipe's build`);
    const context = String(b.context ?? '.');
    // With an image beside it, Compose pulls the image and builds only when asked: so does berth.
    if (/^[a-z]+:\/\//.test(context) || /^git@/.test(context))
      return s.def.image !== undefined
        ? s.say(
            'warning',
            ['build'],
            `the image is used, and the build from ${context} was left out (a recipe builds from a local folder only)`,
          )
        : s.say(
            'error',
            ['build', 'context'],
            'a build context from a URL is not supported; clone it and use its path',
          );
    s.recipe.build = {
      context: isAbsolute(context) ? context : normalize(join(ctx.dir, context)),
      ...(b.dockerfile ? { file: String(b.dockerfile) } : {}),
      ...(b.args ? { args: Object.fromEntries(listOrDict(b.args).map(([k, x]) => [k, x ?? ''])) } : {}),
      ...(b.target ? { target: String(b.target) } : {}),
    };
  },
  command: (s, v) => command(s, 'command', v),
  stop_signal: (s, v) => void (s.recipe.stop_signal = String(v)),
  dns: (s, v) => void (s.recipe.dns = (Array.isArray(v) ? v : [v]).map(String)),
  security_opt: (s, v) => {
    const opts: string[] = [];
    (v as unknown[]).forEach((o, i) => {
      // Docker writes apparmor:unconfined as well as apparmor=unconfined; podman takes the second.
      const opt = String(o).replace(/^(label|seccomp|apparmor|no-new-privileges|systempaths):/, '$1=');
      if (SECURITY_OPT_RE.test(opt)) opts.push(opt);
      else
        s.say(
          'error',
          ['security_opt', i],
          `${String(o)} is not one of podman's security options berth gives (label=, no-new-privileges, seccomp=, apparmor=, systempaths=unconfined)`,
        );
    });
    if (!opts.length) return;
    s.recipe.security_opt = opts;
    s.say('loud', ['security_opt'], `runs with security options ${opts.join(', ')}`);
  },
  secrets: (s, v, ctx) => serviceSecrets(s, v, s.top.secrets, ctx),
  configs: (s, v, ctx) => serviceConfigs(s, v, s.top.configs, ctx),
  entrypoint: (s, v) => command(s, 'entrypoint', v),
  environment: (s, v) => {
    const env = (s.recipe.env ??= {}) as Obj;
    for (const [k, x] of listOrDict(v)) {
      if (x === undefined)
        s.say(
          'warning',
          ['environment', k],
          `${k} has no value here (Compose takes it from the shell): it was left out; give it a value`,
        );
      else env[k] = literal(x);
    }
  },
  env_file: (s, v, ctx) => {
    const env = (s.recipe.env ??= {}) as Obj;
    // environment: wins over every env file; of the files, the later one wins (as in Compose).
    const own = new Set(listOrDict((s.def as Obj).environment).map(([k]) => k));
    const files = (Array.isArray(v) ? v : [v]).map((f): Obj => (isObj(f) ? f : { path: f }));
    files.forEach((f, i) => {
      const path = String(f.path);
      const real = ctx.realPath(isAbsolute(path) ? path : join(ctx.dir, path));
      const refused = real === undefined ? undefined : envFileRefusal(real, ctx.envFilePlaces);
      if (refused) return s.say('error', ['env_file', i], `the env file ${path} ${refused}`);
      const text = real === undefined ? undefined : ctx.readFile(real);
      if (text === undefined) {
        if (f.required !== false) s.say('warning', ['env_file', i], missingEnvFile(path, ctx));
        return;
      }
      const parsed = parseEnvFile(text);
      for (const e of parsed.errors) s.say('error', ['env_file', i], `${path}:${e.line}: ${e.message}`);
      for (const [k, x] of parsed.vars) if (!own.has(k)) env[k] = literal(x);
    });
  },
  ports: (s, v) => {
    const ports: string[] = [];
    (v as unknown[]).forEach((p, i) => {
      const r = port(p);
      if (typeof r === 'string') return s.say('error', ['ports', i], r);
      ports.push(...r.ports);
      if (r.note) s.say('warning', ['ports', i], r.note);
    });
    if (ports.length) s.recipe.ports = ports;
  },
  volumes: (s, v, ctx) => {
    (v as unknown[]).forEach((m, i) => volume(s, m, i, ctx));
  },
  network_mode: (s, v) => {
    const mode = String(v);
    // bridge: the engine's default network, without the project's names (as in Compose).
    if (mode === 'host' || mode === 'none' || mode === 'bridge') s.recipe.network = mode;
    else if (mode !== 'default')
      s.say('error', ['network_mode'], `network_mode: ${mode} is not supported (host, none or bridge)`);
    if (mode === 'host')
      s.say('loud', ['network_mode'], "uses the host's network: it can listen on any port of the machine");
  },
  networks: (s, v, ctx) => {
    const names = Array.isArray(v) ? v.map(String) : Object.keys(v as Obj);
    if (isObj(v))
      for (const o of Object.values(v))
        if (isObj(o) && Array.isArray(o.aliases))
          s.recipe.network_aliases = [
            ...new Set([
              ...((s.recipe.network_aliases as string[] | undefined) ?? []),
              ...o.aliases.map((a) => appName(String(a))),
            ]),
          ];
    const top = isObj(s.top.networks) ? s.top.networks : {};
    for (const n of names) {
      const def = top[n];
      if (isObj(def) && (def.external || def.name))
        s.say(
          'error',
          ['networks'],
          `network ${n} is ${def.external ? 'external' : `named ${String(def.name)}`} in Compose: berth makes each project its own networks; leave the name out to use ${networkOf(ctx.project, n)}`,
        );
    }
    s.recipe.networks = names.map((n) => networkOf(ctx.project, n));
  },
  depends_on: (s, v) => {
    const deps: unknown[] = [];
    if (Array.isArray(v)) deps.push(...v.map((d) => appName(String(d))));
    else
      for (const [d, o] of Object.entries(v as Obj)) {
        const cond = isObj(o) ? o.condition : undefined;
        if (cond === 'service_completed_successfully')
          s.say(
            'error',
            ['depends_on', d, 'condition'],
            'service_completed_successfully is not supported: berth runs services, not one-off jobs',
          );
        else if (cond === 'service_healthy' && !hasHealthcheck(s.top, d)) {
          s.say(
            'warning',
            ['depends_on', d, 'condition'],
            `${d} has no healthcheck here (its image's own is not known to berth): the app waits for ${d} to start, not to be healthy; add a healthcheck to ${d} to wait for it`,
          );
          deps.push(appName(d));
        } else deps.push(cond === 'service_healthy' ? { [appName(d)]: 'healthy' } : appName(d));
      }
    if (deps.length) s.recipe.depends_on = deps;
  },
  healthcheck: (s, v) => {
    const h = v as Obj;
    const test = h.test;
    if (h.disable === true || (Array.isArray(test) && test[0] === 'NONE')) return;
    if (test === undefined)
      return s.say(
        'warning',
        ['healthcheck'],
        "no test: the image's own check is not known to berth; add health.cmd to the recipe",
      );
    // A folded YAML block (`>`) ends in a line break the shell never needed.
    const trim = (x: unknown) => String(x).replace(/\s+$/, '');
    let cmd: string | string[] | undefined;
    if (typeof test === 'string') cmd = trim(test);
    else if (Array.isArray(test) && test[0] === 'CMD') cmd = test.slice(1).map(trim);
    else if (Array.isArray(test) && test[0] === 'CMD-SHELL') cmd = trim(test[1] ?? '');
    if (!cmd)
      return s.say('error', ['healthcheck', 'test'], 'test must be a string, [CMD, …] or [CMD-SHELL, …]');
    const health: Obj = { cmd };
    for (const [k, to] of [
      ['interval', 'interval'],
      ['timeout', 'timeout'],
      ['start_period', 'start_period'],
    ] as const) {
      if (h[k] === undefined) continue;
      const d = duration(h[k]);
      if (d) health[to] = d;
      else s.say('error', ['healthcheck', k], 'is not a duration berth reads (e.g. 30s, 1m30s)');
    }
    if (h.retries !== undefined) health.retries = Number(h.retries);
    if (h.start_interval !== undefined)
      s.say('warning', ['healthcheck', 'start_interval'], 'start_interval was dropped');
    s.recipe.health = health;
  },
  restart: (s, v) => {
    const r = String(v);
    if (r === 'always' || r === 'unless-stopped') s.recipe.restart = 'always';
    else if (r.startsWith('on-failure')) s.recipe.restart = 'on-failure';
    else if (r === 'no') s.recipe.restart = 'no';
  },
  devices: (s, v) => {
    const devs: string[] = [];
    (v as unknown[]).forEach((d, i) => {
      const [src, dst] = isObj(d)
        ? [String(d.source), d.target === undefined ? undefined : String(d.target)]
        : String(d).split(':');
      if (dst !== undefined && dst !== src)
        s.say('error', ['devices', i], `${src} mapped to ${dst}: a recipe passes a device at its own path`);
      else devs.push(src!);
    });
    if (devs.length) {
      s.recipe.devices = devs;
      s.say('loud', ['devices'], `gets host devices ${devs.join(', ')}`);
    }
  },
  cap_add: (s, v) => {
    s.recipe.capabilities = (v as unknown[]).map((c) => String(c).replace(/^CAP_/, ''));
    s.say(
      'loud',
      ['cap_add'],
      `gets extra Linux capabilities ${(s.recipe.capabilities as string[]).join(', ')}`,
    );
  },
  privileged: (s, v) => {
    if (truthy(v)) {
      s.recipe.privileged = true;
      s.say('loud', ['privileged'], 'runs privileged: full access to the host');
    }
  },
  user: (s, v) => {
    const u = String(v);
    // `user: UID:GID` or `${PUID}:${PGID}` left unset: a placeholder, not a user.
    if (/^(?:[A-Z_]+:[A-Z_]+|:?|[A-Z_]*UID)$/.test(u))
      return s.say(
        'warning',
        ['user'],
        `user ${u || '(empty)'} is a placeholder: the image's own user runs the app; write numbers (e.g. 1000:1000) to choose`,
      );
    s.recipe.user = u;
  },
  working_dir: (s, v) => void (s.recipe.workdir = String(v)),
  stop_grace_period: (s, v) => {
    const d = duration(v);
    if (d) s.recipe.stop_timeout = d;
    else s.say('error', ['stop_grace_period'], 'is not a duration berth reads (e.g. 30s, 1m30s)');
  },
  mem_limit: (s, v) => memory(s, ['mem_limit'], v),
  shm_size: (s, v) => {
    const m = size(v);
    if (m) s.recipe.shm_size = m;
    else s.say('error', ['shm_size'], 'is not a size berth reads (e.g. 256M)');
  },
  read_only: (s, v) => {
    if (truthy(v)) s.recipe.read_only = true;
  },
  tmpfs: (s, v) => {
    const paths = (Array.isArray(v) ? v : [v]).map(String);
    paths.forEach((p, i) => {
      if (p.includes(':'))
        s.say(
          'warning',
          ['tmpfs', i],
          `the options of ${p} were dropped: berth mounts a tmpfs with podman's defaults`,
        );
    });
    s.recipe.tmpfs = [
      ...((s.recipe.tmpfs as string[] | undefined) ?? []),
      ...paths.map((p) => p.split(':')[0]!),
    ];
  },
  sysctls: (s, v) => {
    s.recipe.sysctls = Object.fromEntries(listOrDict(v).map(([k, x]) => [k, x ?? '']));
  },
  ulimits: (s, v) => {
    s.recipe.ulimits = Object.fromEntries(
      Object.entries(v as Obj).map(([k, x]) => [
        k,
        isObj(x) ? { soft: Number(x.soft), hard: Number(x.hard) } : Number(x),
      ]),
    );
  },
  extra_hosts: (s, v) => {
    const hosts: Obj = {};
    const entries: [string, string][] = Array.isArray(v)
      ? v.map((e): [string, string] => {
          const t = String(e);
          const i = t.search(/[=:]/);
          return [t.slice(0, i), t.slice(i + 1)];
        })
      : Object.entries(v as Obj).map(([k, x]): [string, string] => [k, String(Array.isArray(x) ? x[0] : x)]);
    for (const [h, ip] of entries) {
      if (ip === 'host-gateway' && /^host\.(docker|containers)\.internal$/.test(h))
        s.say(
          'info',
          ['extra_hosts'],
          `${h} was left out: podman gives every container this name for the host itself`,
        );
      else if (ip === 'host-gateway')
        s.say(
          'error',
          ['extra_hosts'],
          `${h}: host-gateway has no equal in a recipe; write the host's address`,
        );
      else hosts[h] = ip.replace(/^\[|\]$/g, '');
    }
    if (Object.keys(hosts).length) s.recipe.extra_hosts = hosts;
  },
  labels: (s, v) => {
    const labels = Object.fromEntries(
      listOrDict(v)
        .filter(([k]) => !k.startsWith('berth.'))
        .map(([k, x]) => [k, x ?? '']),
    );
    if (Object.keys(labels).length) s.recipe.labels = labels;
  },
  deploy: (s, v) => {
    const d = v as Obj;
    for (const k of Object.keys(d)) {
      if (k === 'resources') continue;
      if (k === 'replicas' && Number(d.replicas) === 1) continue;
      s.say(
        k === 'restart_policy' || k === 'labels' ? 'warning' : 'error',
        ['deploy', k],
        `deploy.${k} has no equal on one machine`,
      );
    }
    const r = isObj(d.resources) ? d.resources : {};
    const limits = isObj(r.limits) ? r.limits : {};
    if (limits.memory !== undefined) memory(s, ['deploy', 'resources', 'limits', 'memory'], limits.memory);
    if (limits.cpus !== undefined) s.say('warning', ['deploy', 'resources', 'limits', 'cpus'], DROPPED.cpus!);
    if (isObj(r.reservations))
      s.say(
        'warning',
        ['deploy', 'resources', 'reservations'],
        'reservations were dropped (GPU reservations: pass the device instead)',
      );
  },
};

/**
 * An env file the README tells a person to make (often from an example beside it): the app
 * is imported without it, and the summary says what to do.
 */
function missingEnvFile(path: string, ctx: ConvertContext): string {
  const base = posix.basename(path);
  const example = [
    `${base}.example`,
    `${base}.sample`,
    `${base}.dist`,
    `example${base}`,
    `example.${base.replace(/^\./, '')}`,
  ]
    .map((n) => join(ctx.dir, posix.dirname(path), n))
    .find((p) => ctx.stat(p)?.kind === 'file');
  return `the env file ${path} is not there: the app was imported without its variables; ${example ? `make it from ${posix.basename(example)} beside it` : "make it as the app's documentation says"} and import again, or add them to the recipe's env`;
}

const hasHealthcheck = (top: Obj, service: string) => {
  const def = isObj(top.services) ? top.services[service] : undefined;
  const h = isObj(def) ? def.healthcheck : undefined;
  return isObj(h) && h.disable !== true && h.test !== undefined;
};

function memory(s: Svc, key: Path, v: unknown): void {
  const m = size(v);
  if (m) s.recipe.resources = { ...(s.recipe.resources as Obj | undefined), memory: m };
  else s.say('error', key, 'is not a size berth reads (e.g. 512M)');
}

function command(s: Svc, key: 'command' | 'entrypoint', v: unknown): void {
  if (v === null) return;
  const words = Array.isArray(v) ? v.map(String) : splitWords(String(v));
  if (!Array.isArray(words)) return s.say('error', [key], `${key}: ${words.error}`);
  s.recipe[key] = words;
}

/**
 * Short and long port forms, ranges included, as recipe port strings (or why not). A
 * container port alone (Compose: a random host port) is published on the same host port,
 * with a note: a home server's apps are reached at ports a person can write down.
 */
export function port(p: unknown): { ports: string[]; note?: string } | string {
  let hostIp: string | undefined;
  let published: string | undefined;
  let target: string;
  let proto = 'tcp';
  if (isObj(p)) {
    target = String(p.target);
    published = p.published === undefined ? undefined : String(p.published);
    hostIp = p.host_ip === undefined ? undefined : String(p.host_ip);
    proto = String(p.protocol ?? 'tcp');
  } else {
    const t = String(p);
    const m =
      /^(?:(?:\[([0-9a-fA-F:.]+)\]|([0-9]+(?:\.[0-9]+){3})):)?(?:([0-9-]*):)?([0-9-]+)(?:\/(tcp|udp))?$/.exec(
        t,
      );
    if (!m) return `'${t}' is not a port mapping berth reads`;
    hostIp = m[1] ?? m[2];
    published = m[3] === '' ? undefined : m[3];
    target = m[4]!;
    proto = m[5] ?? 'tcp';
  }
  if (proto !== 'tcp' && proto !== 'udp') return `protocol ${proto} is not supported (tcp or udp)`;
  const same = published === undefined;
  published ??= target;
  const range = (x: string) => {
    const [a, b] = x.split('-').map(Number);
    return b === undefined ? [a!] : Array.from({ length: Math.max(0, b - a! + 1) }, (_, i) => a! + i);
  };
  const hosts = range(published);
  const targets = range(target);
  if (hosts.length !== targets.length)
    return `${published}:${target}: the host and container ranges differ in length`;
  if (hosts.length > 100) return `${published}: a range of more than 100 ports is not supported`;
  const ip = hostIp ? `${hostIp.includes(':') ? `[${hostIp}]` : hostIp}:` : '';
  const ports = hosts.map((h, i) => `${ip}${h}:${targets[i]}/${proto}`);
  if (!same) return { ports };
  return {
    ports,
    note: `container port ${target} has no host port (Compose would pick a random one): it is published on the same host port ${target}; write "PORT:${target}" to choose another`,
  };
}

/** A volume under a free name: a second mount with the same name gets -2, -3, … */
function put(s: Svc, volumes: Obj, key: Path, name: string, v: Obj): string {
  let n = name;
  for (let k = 2; n in volumes; k++) n = `${name}-${k}`;
  if (n !== name) s.say('info', key, `named ${n} in the recipe (${name} was taken)`);
  volumes[n] = v;
  return n;
}

const truthy = (v: unknown) => v === true || (typeof v === 'string' && /^(1|t|true|yes|on)$/i.test(v));

/** A compose mount in short or long form, its dropped options said. */
interface Mount {
  type: string;
  source: string | undefined;
  target: string;
  readonly: boolean;
}

function parseMount(s: Svc, m: unknown, i: number): Mount {
  let type: string;
  let source: string | undefined;
  let target: string;
  let readonly = false;
  if (isObj(m)) {
    type = String(m.type ?? 'volume');
    source = m.source === undefined ? undefined : String(m.source);
    target = String(m.target);
    readonly = truthy(m.read_only);
    for (const k of Object.keys(m))
      if (!['type', 'source', 'target', 'read_only', 'volume', 'bind'].includes(k) && !k.startsWith('x-'))
        s.say('warning', ['volumes', i, k], `${k} of a mount was dropped: a recipe has no equal`);
    for (const [k, o] of [
      ['volume', m.volume],
      ['bind', m.bind],
    ] as const)
      if (isObj(o) && Object.keys(o).length)
        s.say('warning', ['volumes', i, k], `${k}.${Object.keys(o)[0]} was dropped: a recipe has no equal`);
  } else {
    const parts = String(m).split(':');
    if (parts.length === 1) {
      [target] = parts as [string];
      type = 'volume';
    } else {
      [source, target] = parts as [string, string];
      readonly = (parts[2] ?? '').split(',').includes('ro');
      type = /^[./~]/.test(source) ? 'bind' : 'volume';
    }
  }
  return { type, source, target, readonly };
}

function volume(s: Svc, m: unknown, i: number, ctx: ConvertContext): void {
  const mount = parseMount(s, m, i);
  const { type, target } = mount;
  const key: Path = ['volumes', i];
  if (type === 'tmpfs') {
    s.recipe.tmpfs = [...((s.recipe.tmpfs as string[] | undefined) ?? []), target];
    return;
  }
  if (type !== 'bind' && type !== 'volume') return s.say('error', key, `a ${type} mount is not supported`);
  if (type === 'volume') return namedVolume(s, mount, key, i, ctx);
  bindMount(s, mount, key, i, ctx);
}

type MountRule = (s: Svc, mount: Mount, key: Path, i: number, ctx: ConvertContext) => void;

/** A name for a volume from a path or a compose volume's name. */
const volumeNameOf = (n: string, i: number) => appName(n).replace(/^-+|-+$/g, '') || `data${i}`;

/** A named compose volume: the app's own, or (shared with other services) one project folder. */
const namedVolume: MountRule = (s, { source, target, readonly }, key, i, ctx) => {
  const volumes = (s.recipe.volumes ??= {}) as Obj;
  const vname = (n: string) => volumeNameOf(n, i);
  const name = vname(source ?? posix.basename(target));
  if (
    isObj(s.top.volumes) &&
    source &&
    isObj(s.top.volumes[source]) &&
    (s.top.volumes[source] as Obj).external
  )
    s.say(
      'warning',
      key,
      `volume ${source} is external in Compose: berth makes its own, empty; copy the data into it`,
    );
  const shared = Object.entries(isObj(s.top.services) ? s.top.services : {}).filter(
    ([n, d]) =>
      n !== s.name &&
      isObj(d) &&
      Array.isArray(d.volumes) &&
      d.volumes.some((x) => (isObj(x) ? x.source : String(x).split(':')[0]) === source),
  );
  if (source && shared.length) {
    // One data for several containers (an app and its cron worker): each berth app keeps
    // its own, so the shared one becomes a folder of the project's under the first root.
    const host = posix.join(ctx.allowedRoots[0] ?? '/srv', ctx.project, name);
    s.dirs.push(host);
    s.say(
      'warning',
      key,
      `volume ${source} is shared with ${shared.map(([n]) => n).join(', ')}: it became the folder ${host}, bound into each of them (berth makes it; its data is kept there, not in berth's data dir)`,
    );
    put(s, volumes, key, name, { target, host, ...(readonly ? { readonly: true } : {}) });
    return;
  }
  put(s, volumes, key, name, { target, ...(readonly ? { readonly: true } : {}) });
};

/** A bind mount: under the allowed roots as it is, otherwise what it means (binds.ts). */
const bindMount: MountRule = (s, { source, target, readonly }, key, i, ctx) => {
  const volumes = (s.recipe.volumes ??= {}) as Obj;
  const vname = (n: string) => volumeNameOf(n, i);
  if (!source) return s.say('error', key, 'a bind mount needs a source');
  // The host's clock zone, the most common read-only bind of all: a recipe sets TZ instead.
  if (source === '/etc/localtime' || source === '/etc/timezone')
    return s.say('warning', key, `${source} is not bound into apps: set TZ in the recipe's env instead`);
  const src = source.startsWith('~')
    ? undefined
    : normalize(isAbsolute(source) ? source : join(ctx.dir, source));
  if (src && /(?:^|\/)(?:docker|podman)\.sock$/.test(src)) {
    s.recipe.podman_socket = true;
    s.say(
      'loud',
      key,
      `gets the container engine's socket (${src}): podman's API is given at /var/run/docker.sock (podman_socket: true), with control of every container here${readonly ? '; :ro does not limit an API socket' : ''}`,
    );
    if (target !== '/var/run/docker.sock')
      s.say(
        'warning',
        key,
        `the socket is at /var/run/docker.sock in the container, not ${target}: point the app there if it asks`,
      );
    return;
  }
  const inside = src && !ctx.binds.has(source) && ctx.allowedRoots.some((r) => under(src, r));
  const meant = inside ? undefined : bindOutcome(source, target, ctx);
  if (meant?.kind === 'error') return s.say('error', key, meant.text);
  if (meant?.kind === 'system') {
    s.recipe.host_paths = [
      ...((s.recipe.host_paths as Obj[] | undefined) ?? []),
      {
        path: meant.path,
        ...(target !== meant.path ? { target } : {}),
        ...(readonly ? {} : { readonly: false }),
      },
    ];
    return s.say('loud', key, `${meant.note}${readonly ? ', read-only' : ', and can WRITE there'}`);
  }
  if (meant?.kind === 'file') {
    addRecipeFile(s.recipe, { target, content: literal(meant.content), mode: meant.mode });
    return s.say('info', key, meant.note);
  }
  if (meant?.kind === 'volume') {
    const name = put(s, volumes, key, meant.name, { target, ...(readonly ? { readonly: true } : {}) });
    if (meant.take) s.takes.push({ from: meant.take, volume: name });
    return s.say(meant.level, key, meant.note);
  }
  if (meant?.note) s.say('info', key, meant.note);
  put(s, volumes, key, vname(posix.basename(target)), {
    target,
    host: meant?.kind === 'host' ? meant.host : src,
    ...(readonly ? { readonly: true } : {}),
  });
};

/** Services, with extends resolved (same file) and profiles applied. */
function services(data: Obj, ctx: ConvertContext, messages: ComposeMessage[]): [string, Obj][] {
  const all = isObj(data.services) ? data.services : {};
  const say = (path: Path, text: string) =>
    messages.push({
      level: 'error',
      file: ctx.file,
      ...(ctx.locate(path) ?? {}),
      path: pathText(path),
      text,
    });
  const resolve = (name: string, seen: string[]): Obj => {
    const svc = all[name] as Obj;
    const ext = svc.extends;
    if (ext === undefined) return svc;
    const from = typeof ext === 'string' ? { service: ext } : (ext as Obj);
    if (from.file !== undefined) {
      say(
        ['services', name, 'extends', 'file'],
        'extends from another file is not supported: copy the service in',
      );
      return svc;
    }
    const base = String(from.service);
    if (seen.includes(base) || !isObj(all[base])) {
      say(
        ['services', name, 'extends'],
        seen.includes(base) ? `extends loops through ${base}` : `no service ${base} to extend`,
      );
      return svc;
    }
    const parent = resolve(base, [...seen, base]);
    const { extends: _e, ...own } = svc;
    const merged: Obj = { ...parent, ...own };
    for (const k of ['environment', 'labels'])
      if (isObj(parent[k]) && isObj(own[k])) merged[k] = { ...parent[k], ...own[k] };
    for (const k of ['ports', 'volumes', 'devices', 'cap_add'])
      if (Array.isArray(parent[k]) && Array.isArray(own[k])) merged[k] = [...parent[k], ...own[k]];
    return merged;
  };
  return Object.keys(all)
    .filter((n) => {
      const p = (all[n] as Obj).profiles;
      return !Array.isArray(p) || p.length === 0 || p.some((x) => ctx.profiles.includes(String(x)));
    })
    .map((n) => [n, resolve(n, [n])]);
}

/** Top-level keys and what becomes of them: read with the services, or said to be left out. */
const TOP_LEVEL: Record<string, string | undefined> = {
  services: undefined,
  volumes: undefined,
  networks: undefined,
  name: undefined,
  version: undefined,
  secrets: undefined, // reported where a service uses them
  configs: undefined,
  include: 'include is not supported: import each included file on its own',
  models: 'models are not supported',
};

export function convertCompose(data: Obj, ctx: ConvertContext): Converted {
  const messages: ComposeMessage[] = [];
  const apps: ConvertedApp[] = [];
  for (const key of Object.keys(data)) {
    const why = key.startsWith('x-')
      ? undefined
      : key in TOP_LEVEL
        ? TOP_LEVEL[key]
        : `${key} is not supported`;
    if (why)
      messages.push({ level: 'error', file: ctx.file, ...(ctx.locate([key]) ?? {}), path: key, text: why });
  }
  for (const [service, def] of services(data, ctx, messages)) {
    const app = appName(service);
    const path: Path = ['services', service];
    const s: Svc = {
      name: service,
      app,
      path,
      recipe: { name: app },
      top: data,
      def,
      takes: [],
      seeds: [],
      dirs: [],
      say: (level, key, text) =>
        messages.push({
          level,
          file: ctx.file,
          ...(ctx.locate([...path, ...key]) ?? {}),
          path: pathText([...path, ...key]),
          text,
        }),
    };
    if (!APP_RE.test(app)) {
      s.say(
        'error',
        [],
        `service name ${service} does not make an app name (lower-case letters, digits, dashes, at most 48); rename the service`,
      );
      continue;
    }
    for (const [key, value] of Object.entries(def)) {
      if (key.startsWith('x-') || key === 'profiles' || key === 'extends') continue;
      const rule = RULES[key];
      if (rule) rule(s, value, ctx);
      else if (key in DROPPED) s.say('warning', [key], `${key} was dropped: ${DROPPED[key]}`);
      else if (key === 'init') s.recipe.init = value === true;
      else s.say('error', [key], NO_HOME[key] ?? `${key} has no equal in a recipe`);
    }
    if (!s.recipe.image && !s.recipe.build) s.say('error', [], 'has neither image nor build');
    // Compose puts every service on the project's default network: so does the import.
    if (!s.recipe.network && !s.recipe.networks) s.recipe.networks = [networkOf(ctx.project, 'default')];
    if (s.recipe.network) delete s.recipe.networks;
    const env = s.recipe.env as Obj | undefined;
    if (env)
      for (const k of Object.keys(env))
        if (looksSecret(k))
          s.say(
            'info',
            ['environment'],
            `${k} looks like a secret: consider \${secret:NAME} so berth generates it`,
          );
    placeMarkedSecrets(s);
    apps.push({ service, name: app, recipe: s.recipe, takes: s.takes, seeds: s.seeds, dirs: s.dirs });
  }
  return { apps, messages };
}
