// Which host ports the recipes need. Bridge apps: their published ports. Host-network apps
// listen on the host directly: their advertised ports, plus the well-known ports of what they
// serve. berth's own mDNS responder (ciao) needs 5353/udp when anything is advertised.
import type { AdvertiserChoice } from '../advertise/choose.js';
import type { App } from '../recipe/app.js';
import { parseImageRef } from '../recipe/values.js';

export interface PortNeed {
  /** The app that needs it; 'berth' for the supervisor's own mDNS responder. */
  app: string;
  port: number;
  protocol: 'tcp' | 'udp';
  /** Only this address; undefined means every address. */
  bind?: string;
  why: string;
  /** A multicast port that several programs may share (SO_REUSEADDR): another holder is a warning. */
  shared?: boolean;
}

type Port = Omit<PortNeed, 'app'>;

/** Ports a DNS-SD service type implies beyond the advertised one. */
const BY_SERVICE: Record<string, Port[]> = {
  '_smb._tcp': [
    { port: 445, protocol: 'tcp', why: 'SMB' },
    { port: 139, protocol: 'tcp', why: 'SMB over NetBIOS' },
    { port: 137, protocol: 'udp', why: 'NetBIOS names' },
    { port: 138, protocol: 'udp', why: 'NetBIOS datagrams' },
  ],
};

const SSDP: Port = { port: 1900, protocol: 'udp', why: 'DLNA/UPnP discovery (SSDP)', shared: true };
const DLNA_TYPES = /^_(?:upnp|dlna)[._]/;

/** minidlna's own HTTP port: `port=` in its config file from the recipe, else its default. */
function minidlnaPort(app: App): number {
  for (const f of app.files.filter((x) => x.target.endsWith('minidlna.conf'))) {
    const m = /^\s*port\s*=\s*(\d+)\s*$/m.exec(f.template);
    if (m) return Number(m[1]);
  }
  return 8200;
}

/**
 * A DLNA server announces itself with SSDP on 1900/udp. Recipes do not advertise DLNA over
 * DNS-SD, so a recipe is one when it advertises a UPnP/DLNA type or runs minidlna (by its
 * image's name; minidlna's HTTP port then comes from its config file).
 */
function dlnaPorts(app: App): Port[] {
  const ref = parseImageRef(app.image);
  const repo = typeof ref === 'string' ? app.image : ref.repository;
  const minidlna = repo.split('/').at(-1)?.includes('minidlna') ?? false;
  if (minidlna) return [SSDP, { port: minidlnaPort(app), protocol: 'tcp', why: 'minidlna media (HTTP)' }];
  return app.advertise.some((a) => DLNA_TYPES.test(a.type)) ? [SSDP] : [];
}

function appPorts(app: App): Port[] {
  if (app.network === 'bridge')
    return app.ports.map((p) => ({
      port: p.host,
      protocol: p.protocol,
      ...(p.bind ? { bind: p.bind } : {}),
      why: `published to ${p.container}/${p.protocol}`,
    }));
  if (app.network !== 'host') return [];
  return [
    ...app.advertise.map((a) => ({ port: a.port, protocol: a.protocol, why: `advertised ${a.type}` })),
    ...app.advertise.flatMap((a) => BY_SERVICE[a.type] ?? []),
    ...dlnaPorts(app),
  ];
}

/** Every port the enabled apps need, once per app, port and protocol. */
export function portNeeds(
  apps: readonly App[],
  advertiser: AdvertiserChoice,
  web?: { host?: string; port: number },
): PortNeed[] {
  const seen = new Set<string>();
  const out: PortNeed[] = [];
  const add = (app: string, p: Port) => {
    const key = `${app}|${p.port}/${p.protocol}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ app, ...p });
  };
  for (const app of apps) if (app.enabled) for (const p of appPorts(app)) add(app.name, p);
  if (
    advertiser.kind !== 'off' &&
    advertiser.kind !== 'error' &&
    apps.some((a) => a.enabled && a.advertise.length)
  )
    add('berth', { port: 5353, protocol: 'udp', why: 'mDNS', shared: true });
  if (web && web.port > 0)
    add('berth', {
      port: web.port,
      protocol: 'tcp',
      ...(web.host ? { bind: web.host } : {}),
      why: 'the status page',
    });
  return out;
}
