// The recipe format, v1. This zod schema is the single source of truth: the TypeScript
// types, the JSON Schema (`berth schema`), the README's recipe reference and the
// "did you mean" key hints are all derived from it.
import { z } from 'zod';
import { DISK_LABEL_RE } from '../render/paths.js';
import { PORT_STRING_RE, parsePortString } from './values.js';

/** Longest value accepted in a single-line field; longer is almost surely a mistake or an attack. */
export const MAX_VALUE = 4096;
/** Largest `files:` content, in characters. */
export const MAX_FILE_CONTENT = 64 * 1024;

const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
const NO_CONTROL_EXCEPT_TAB_NL = /^[^\u0000-\u0008\u000b-\u001f\u007f]*$/;
export const NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;
export const DURATION_RE = /^(?:[0-9]+(?:ms|s|m|h|d))+$/;
export const SIZE_RE = /^[0-9]+(?:\.[0-9]+)?(?:[kKmMgGtT](?:i?B)?|B)?$/;
const PATH_SEGMENT_CHARS = /^\/[^\u0000-\u001f\u007f:,]*$/;

/** A single-line string without control characters (tabs and newlines included). */
const line = (max = MAX_VALUE) =>
  z
    .string()
    .max(max, { error: `is longer than ${max} characters` })
    .regex(NO_CONTROL, { error: 'must not contain line breaks or control characters' });

const absPath = (what: string) =>
  line(1024)
    .regex(PATH_SEGMENT_CHARS, {
      error: `${what} must be an absolute path (starting with /) without ':' or ','`,
    })
    .refine((p) => !p.split('/').some((seg) => seg === '..' || seg === '.'), {
      error: `${what} must not contain '.' or '..' segments`,
    });

const duration = line(32)
  .regex(DURATION_RE, { error: "is not a duration; write e.g. '500ms', '30s', '5m', '1h30m'" })
  .describe("A duration such as '500ms', '30s', '5m' or '1h30m'.");

const size = line(32)
  .regex(SIZE_RE, { error: "is not a size; write e.g. '512M' or '2G' (K, M, G, T are powers of 1024)" })
  .describe("A size such as '512M' or '2G' (K, M, G, T are powers of 1024).");

const port = z
  .number({ error: 'must be a port number' })
  .int({ error: 'must be a whole number' })
  .min(1, { error: 'must be between 1 and 65535' })
  .max(65535, { error: 'must be between 1 and 65535' });

const userSpec = line(65).regex(
  /^(?:[a-z_][a-z0-9_-]{0,31}|[0-9]+)(?::(?:[a-z_][a-z0-9_-]{0,31}|[0-9]+))?$/,
  {
    error: "must be 'user', 'uid' or 'uid:gid'",
  },
);

const appName = line().regex(NAME_RE, {
  error: 'must be lower-case letters, digits and inner dashes (at most 48), e.g. "media-server"',
});

const portString = line(64)
  .regex(PORT_STRING_RE, {
    error: "is not a port mapping; write 'HOST:CONTAINER', '127.0.0.1:HOST:CONTAINER' or add '/udp'",
  })
  .refine(
    (s) => {
      const p = parsePortString(s);
      return !p || (p.host >= 1 && p.host <= 65535 && p.container >= 1 && p.container <= 65535);
    },
    { error: 'has a port outside 1-65535' },
  );

const portObject = z.strictObject({
  host: port.describe('Port on the host.'),
  container: port.describe('Port inside the container.'),
  protocol: z.enum(['tcp', 'udp']).default('tcp').describe('tcp or udp.'),
  bind: line(64)
    .regex(/^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/, {
      error: 'must be an IPv4 or IPv6 address',
    })
    .optional()
    .describe('Host address to bind to (default: all addresses).'),
});

const volume = z.strictObject({
  target: absPath('target').describe('Where the volume appears inside the container.'),
  readonly: z.boolean().default(false).describe('Mount read-only.'),
  owner: line(23)
    .regex(/^[0-9]+(?::[0-9]+)?$/, { error: "must be numeric 'uid' or 'uid:gid'" })
    .optional()
    .describe("Numeric 'uid[:gid]' that owns the data directory when berth creates it."),
  host: absPath('host')
    .optional()
    .describe(
      'A host directory to use instead of the app data dir. Must lie under an allowed root (default /srv, /mnt, /media).',
    ),
  disk: line(16)
    .regex(DISK_LABEL_RE, {
      error: 'must be a data disk label: lower-case letters, digits and inner dashes, at most 16',
    })
    .optional()
    .describe(
      "A data disk added with 'berth disks add' (its label): the data lives in /srv/<label>/<app>/<name>, and the app waits for the disk.",
    ),
});

const fileEntry = z.strictObject({
  target: absPath('target').describe('Where the file appears inside the container (read-only).'),
  content: z
    .string()
    .max(MAX_FILE_CONTENT, { error: `is longer than ${MAX_FILE_CONTENT} characters` })
    .regex(NO_CONTROL_EXCEPT_TAB_NL, {
      error: 'must not contain control characters other than tab and newline',
    })
    .describe(
      'The file content. ${hostname}, ${app} and ${secret:NAME} are substituted; $${ is a literal ${.',
    ),
  mode: line(5)
    .regex(/^0?[0-7]{3}$/, { error: "must be an octal mode such as '0644'" })
    .default('0644')
    .describe("Octal file mode, e.g. '0644'."),
});

const envValue = z.union([line(), z.number(), z.boolean()]);

const hostPath = z.strictObject({
  path: absPath('path').describe('The host path, e.g. /run/dbus.'),
  target: absPath('target')
    .optional()
    .describe('Where it appears in the container (default: the same path).'),
  readonly: z.boolean().default(true).describe('Read-only (the default); false lets the app write there.'),
});

export const SECURITY_OPT_RE =
  /^(?:label=(?:disable|nested|(?:user|role|type|level|filetype):[A-Za-z0-9_.:,-]+)|no-new-privileges(?:=(?:true|false))?|seccomp=(?:unconfined|\/[A-Za-z0-9_./-]+)|apparmor=(?:unconfined|[A-Za-z0-9_.-]+)|systempaths=unconfined)$/;
const securityOpt = line(256).regex(SECURITY_OPT_RE, {
  error:
    "must be one of podman's security options: label=disable, label=type:…, no-new-privileges, seccomp=unconfined or seccomp=/path, apparmor=unconfined or apparmor=PROFILE, systempaths=unconfined",
});

const healthCmd = z.union([line().min(1), z.array(line()).min(1)]);

const health = z.strictObject({
  cmd: healthCmd.describe('Command run inside the container: a shell string, or an argv list.'),
  interval: duration.default('30s').describe('Time between checks.'),
  timeout: duration.default('10s').describe('How long one check may take.'),
  retries: z.number().int().min(1).max(100).default(3).describe('Failures in a row before unhealthy.'),
  start_period: duration.default('0s').describe('Grace period after start before failures count.'),
  on_failure: z
    .enum(['restart', 'none'])
    .default('restart')
    .describe('restart: an unhealthy app is killed and systemd restarts it; none: it is only reported.'),
});

const update = z.strictObject({
  policy: z
    .enum(['manual', 'notify', 'auto'])
    .default('manual')
    .describe(
      "manual: only 'berth update' updates; notify: berth's timer looks for updates and status shows them; auto: the timer also applies them.",
    ),
  gate: duration
    .default('5m')
    .describe('Longest wait for a new version to turn healthy before it is rolled back.'),
  stable_for: duration
    .default('30s')
    .describe('How long a new version must run without a restart to be kept.'),
  keep: z.number().int().min(1).max(50).default(3).describe('Data snapshots kept per app.'),
  snapshot: z
    .union([z.boolean(), z.literal('all')])
    .default(true)
    .describe(
      "Snapshot the app's data before each update: true (berth's own volumes), all (host paths too), false.",
    ),
});

const buildPath = (what: string) =>
  line(1024)
    .regex(/^[^:,]+$/, { error: `${what} must be a path without ':' or ','` })
    .refine((p) => !p.split('/').includes('..'), {
      error: `${what} must not contain '..': use a path inside the recipe's directory, or an absolute one under an allowed root`,
    });

const build = z.union([
  buildPath('build'),
  z.strictObject({
    context: buildPath('context').describe(
      "The build context: relative to the recipe's directory, or an absolute path under an allowed root.",
    ),
    file: buildPath('file')
      .optional()
      .describe('The Containerfile, relative to the context (default: Containerfile or Dockerfile).'),
    args: z
      .record(
        line(128).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
          error: 'build arg names must be letters, digits and underscores',
        }),
        envValue,
      )
      .optional()
      .describe('Build arguments (ARG in the Containerfile).'),
    target: line(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: 'must be a build stage name' })
      .optional()
      .describe('The stage to build, for a multi-stage Containerfile.'),
  }),
]);

const dependency = z.union([
  appName,
  z
    .record(appName, z.enum(['started', 'healthy'], { error: "must be 'started' or 'healthy'" }))
    .refine((r) => Object.keys(r).length === 1, { error: 'must name exactly one app, e.g. {db: healthy}' }),
]);

const dnsSdType = line(64).regex(/^_[a-z0-9](?:[a-z0-9-]{0,13}[a-z0-9])?\._(?:tcp|udp)$/, {
  error: "is not a DNS-SD service type; write e.g. '_smb._tcp' or '_http._tcp'",
});

const advertisement = z.strictObject({
  type: dnsSdType.describe("DNS-SD service type, e.g. '_smb._tcp'."),
  port: port.describe('Port the service listens on.'),
  name: line(63)
    .optional()
    .describe("Instance name, e.g. 'Media on ${hostname}' (default: '<app> on <hostname>')."),
  txt: z
    .record(line(64).regex(/^[^=]+$/, { error: "TXT keys must not contain '='" }), envValue)
    .optional()
    .describe('TXT record key/value pairs.'),
});

const ULIMITS = [
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
] as const;
const ulimitValue = z.number().int().min(-1);
const hostLabel = line(253).regex(/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, {
  error: 'is not a host name',
});
const ipAddress = line(45).regex(/^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/, {
  error: 'is not an IP address',
});

const capability = line(32).regex(/^(?:CAP_)?[A-Z_]+$/, {
  error: "must be a capability name in capitals, e.g. 'NET_ADMIN'",
});

export const RecipeSchema = z
  .strictObject({
    version: z.literal(1).optional().describe('Recipe format version; only 1 exists.'),
    name: appName.describe(
      'The app name: lower-case letters, digits and dashes; unique across recipes. The unit is berth-<name>.service.',
    ),
    description: line(256).optional().describe('One line shown by systemctl status and berth status.'),
    enabled: z.boolean().default(true).describe('false keeps the recipe but stops and disables the app.'),

    image: line(512)
      .optional()
      .describe(
        'Fully qualified image reference with a tag or digest, e.g. docker.io/library/nginx:1.27. Give image or build.',
      ),
    build: build
      .optional()
      .describe(
        'Build the image here from a Containerfile instead of pulling one: a context dir, or {context, file, args, target}.',
      ),
    command: z.array(line()).optional().describe('Arguments passed to the image entrypoint, as a list.'),
    entrypoint: z.array(line()).min(1).optional().describe("Replaces the image's entrypoint, as a list."),
    user: userSpec.optional().describe("User to run as inside the container: 'name', 'uid' or 'uid:gid'."),
    workdir: absPath('workdir').optional().describe('Working directory inside the container.'),
    init: z
      .boolean()
      .default(false)
      .describe(
        'Run a tiny init as PID 1 that forwards signals and reaps zombies, for programs not written to be PID 1.',
      ),
    stop_timeout: duration.default('10s').describe('How long the app gets to stop before it is killed.'),
    stop_signal: line(16)
      .regex(/^(?:SIG)?[A-Z][A-Z0-9+]*$|^[0-9]{1,2}$/, {
        error: "must be a signal name such as 'SIGINT', or its number",
      })
      .optional()
      .describe(
        "The signal that asks the app to stop (default: the image's, else SIGTERM), e.g. 'SIGINT' for PostgreSQL's fast shutdown.",
      ),

    network: z
      .enum(['host', 'bridge', 'none'])
      .default('bridge')
      .describe(
        "host: share the host's network (needed for broadcast/multicast discovery); bridge: a private address with published ports; none: no network.",
      ),
    ports: z
      .array(z.union([portString, portObject]))
      .optional()
      .describe(
        "Published ports for bridge apps: '[bind_addr:]host:container[/tcp|udp]' or {host, container, protocol, bind}.",
      ),
    networks: z
      .array(appName)
      .optional()
      .describe(
        'Private app networks to join (bridge apps). Apps on the same network reach each other by app name.',
      ),

    volumes: z
      .record(
        line(48).regex(NAME_RE, { error: 'volume names must be lower-case letters, digits and dashes' }),
        volume,
      )
      .optional()
      .describe(
        'Persistent storage, by name. Without host: or disk: the data lives in <data-dir>/apps/<app>/<name>.',
      ),
    files: z
      .record(
        line(64).regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, {
          error: 'file names must be letters, digits, dots, dashes and underscores',
        }),
        fileEntry,
      )
      .optional()
      .describe('Small config files written by berth and mounted read-only into the container.'),
    env: z
      .record(
        line(128).regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, {
          error: 'environment variable names must be letters, digits, underscores, dots and dashes',
        }),
        envValue,
      )
      .optional()
      .describe(
        'Environment variables. ${secret:NAME}, ${hostname} and ${app} are substituted; $${ is a literal ${.',
      ),

    devices: z
      .array(
        line(256).regex(/^-?\/dev\/[A-Za-z0-9_./-]+$/, {
          error: "must be a device path under /dev, e.g. '/dev/dri', or '-/dev/dri' for 'only if present'",
        }),
      )
      .optional()
      .describe("Host devices to pass in. A leading '-' means only if present, e.g. '-/dev/dri'."),
    capabilities: z.array(capability).optional().describe("Extra Linux capabilities, e.g. 'NET_ADMIN'."),
    privileged: z
      .boolean()
      .default(false)
      .describe('Give the container full access to the host. Shown loudly by plan.'),
    host_paths: z
      .array(hostPath)
      .optional()
      .describe(
        "The host's own system paths bound into the container (e.g. /run/dbus, /lib/modules), read-only unless readonly: false. Shown loudly by plan.",
      ),
    security_opt: z
      .array(securityOpt)
      .optional()
      .describe(
        "podman's security options: label=disable|type:…|level:…, no-new-privileges, seccomp=unconfined|/path, apparmor=unconfined|PROFILE. Shown loudly by plan.",
      ),
    podman_socket: z
      .boolean()
      .default(false)
      .describe(
        "Give the container podman's API socket at /var/run/docker.sock (for dashboards and proxies that watch containers): control of every container on the host. Shown loudly by plan.",
      ),
    resources: z
      .strictObject({
        memory: size.optional().describe("Memory limit, e.g. '512M'."),
        cpu_weight: z
          .number()
          .int()
          .min(1)
          .max(10000)
          .optional()
          .describe('CPU weight, 1-10000 (default 100).'),
      })
      .optional()
      .describe('Resource limits.'),

    shm_size: size
      .optional()
      .describe(
        "Size of the container's /dev/shm, e.g. '256M' (databases often want more than podman's 64M).",
      ),
    read_only: z
      .boolean()
      .default(false)
      .describe("Mount the image's root filesystem read-only (volumes and tmpfs stay writable)."),
    tmpfs: z
      .array(absPath('tmpfs path'))
      .optional()
      .describe(
        'Paths inside the container that get an empty in-memory filesystem at each start, e.g. /tmp.',
      ),
    sysctls: z
      .record(
        line(128).regex(/^(?:net\.[a-z0-9_.-]+|kernel\.(?:shm[a-z_]+|msg[a-z_]+|sem)|fs\.mqueue\.[a-z_]+)$/, {
          error:
            'is not a namespaced sysctl podman can set for a container (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)',
        }),
        z.union([
          // podman splits --sysctl at commas: one in a value would set another sysctl.
          line(256).regex(/^[^,]*$/, {
            error: "a sysctl value must not contain ',': podman would read what follows it as another sysctl",
          }),
          z.number(),
        ]),
      )
      .optional()
      .describe("Kernel parameters of the container's own namespaces, e.g. {net.ipv4.ip_forward: 1}."),
    ulimits: z
      .partialRecord(
        z.enum(ULIMITS),
        z.union([ulimitValue, z.strictObject({ soft: ulimitValue, hard: ulimitValue })]),
      )
      .optional()
      .describe(
        'Resource limits of the processes (setrlimit): a number for both, or {soft, hard}; -1 is unlimited.',
      ),
    dns: z
      .array(ipAddress)
      .max(3)
      .optional()
      .describe("DNS servers for the container instead of the host's (at most 3), e.g. [1.1.1.1]."),
    extra_hosts: z
      .record(hostLabel, ipAddress)
      .optional()
      .describe("Extra lines for the container's /etc/hosts: host name → IP address."),
    labels: z
      .record(
        line(128).regex(/^(?!berth\.)[A-Za-z0-9][A-Za-z0-9._/-]*$/, {
          error: "is not a label name berth takes (letters, digits, . _ / -; not starting with 'berth.')",
        }),
        z.union([line(), z.number(), z.boolean()]),
      )
      .optional()
      .describe(
        "Container labels (for tools such as reverse proxies); names starting with 'berth.' are berth's own.",
      ),
    network_aliases: z
      .array(appName)
      .optional()
      .describe(
        "More names other apps on the app's networks reach it by, besides its own (bridge apps with networks).",
      ),

    restart: z
      .enum(['always', 'on-failure', 'no'])
      .default('always')
      .describe('When systemd restarts the app after it exits.'),
    health: health.optional().describe('A health check run inside the container.'),
    update: update.optional().describe('How updates are found, applied, gated and undone.'),
    depends_on: z
      .array(dependency)
      .optional()
      .describe('Apps that must run first: a name, or {name: healthy} to wait for its health check.'),
    requires_mounts: z
      .array(absPath('path'))
      .optional()
      .describe('Paths (e.g. a data disk) that must be mounted before the app starts.'),

    advertise: z
      .array(advertisement)
      .optional()
      .describe('DNS-SD services announced on the LAN while the app runs.'),
  })
  .describe('A berth recipe: one app, run as a podman container under a systemd unit.');

export type RecipeInput = z.input<typeof RecipeSchema>;
export type Recipe = z.output<typeof RecipeSchema>;

/** JSON Schema for editors (yaml-language-server) and docs. */
export function recipeJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RecipeSchema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
  return { ...schema, title: 'berth recipe v1' };
}
