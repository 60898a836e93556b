// Parsers for the string forms the schema has already checked: durations, sizes, ports, images.

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in a duration like '1h30m' (already matched by DURATION_RE). */
export function durationMs(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/([0-9]+)(ms|s|m|h|d)/g)) total += Number(m[1]) * DURATION_UNIT_MS[m[2]!]!;
  return total;
}

/** Whole seconds, rounded up, as systemd and podman want them. */
export function durationSeconds(text: string): number {
  return Math.ceil(durationMs(text) / 1000);
}

const SIZE_POWER: Record<string, number> = { '': 0, b: 0, k: 1, m: 2, g: 3, t: 4 };

/** Bytes in a size like '512M' (powers of 1024, as systemd and podman read them). */
export function sizeBytes(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([kKmMgGtT]?)/.exec(text);
  if (!m) return Number.NaN;
  return Math.round(Number(m[1]) * 1024 ** SIZE_POWER[m[2]!.toLowerCase()]!);
}

/** `[bind_addr:]host:container[/tcp|udp]`; IPv6 bind addresses go in brackets. */
export const PORT_STRING_RE =
  /^(?:(?<bind>[0-9.]+|\[[0-9a-fA-F:.]+\]):)?(?<host>[0-9]{1,5}):(?<container>[0-9]{1,5})(?:\/(?<proto>tcp|udp))?$/;

export interface PortMapping {
  host: number;
  container: number;
  protocol: 'tcp' | 'udp';
  /** Host address to bind to; undefined means all addresses. */
  bind?: string;
}

/** A port string such as '127.0.0.1:8080:80/udp'; undefined if it does not match. */
export function parsePortString(text: string): PortMapping | undefined {
  const m = PORT_STRING_RE.exec(text);
  if (!m?.groups) return undefined;
  const g = m.groups;
  const bind = g.bind?.replace(/^\[(.*)\]$/, '$1');
  return {
    host: Number(g.host),
    container: Number(g.container),
    protocol: (g.proto as 'tcp' | 'udp' | undefined) ?? 'tcp',
    ...(bind ? { bind } : {}),
  };
}

export interface ImageRef {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN =
  '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?';
const IMAGE_RE = new RegExp(
  `^(?<domain>${DOMAIN})/(?<repo>${COMPONENT}(?:/${COMPONENT})*)(?::(?<tag>[\\w][\\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$`,
);

/**
 * A fully qualified image reference (registry/repository:tag or @digest); an error
 * sentence otherwise. Short names are refused: which registry they resolve to depends on
 * the machine's configuration, and an appliance must run the same image everywhere.
 */
export function parseImageRef(text: string): ImageRef | string {
  const m = IMAGE_RE.exec(text);
  const domain = m?.groups?.domain;
  const qualified =
    domain !== undefined && (domain.includes('.') || domain.includes(':') || domain === 'localhost');
  if (!m?.groups || !qualified) {
    const hint = /[A-Z]/.test(text.split(/[:@]/)[0] ?? '')
      ? '; repository names must be lower-case'
      : /^[a-z0-9][a-z0-9._/-]*(:[\w.-]+)?$/.test(text)
        ? `; write the registry too, e.g. 'docker.io/${text.includes('/') ? '' : 'library/'}${text}'`
        : '';
    return `image '${text}' is not a fully qualified reference${hint}`;
  }
  const { tag, digest, repo } = m.groups;
  if (!tag && !digest)
    return `image '${text}' has no tag or digest; add one, e.g. '${text}:1.0' (or ':latest' to track it)`;
  return { registry: domain!, repository: repo!, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}
