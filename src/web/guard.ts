// Who may reach the status page. Two checks, both against the machine's interfaces as they
// are now (addresses come and go: DHCP, podman creating its bridge on the first container):
// - a connection from a container on a podman bridge network is refused, whichever of the
//   host's addresses it was sent to (the gateway's or the LAN one): its peer lies inside a
//   bridge's subnet, or it arrived on a bridge's own address;
// - a request is answered only when its Host names this machine (its hostname, `name.local`,
//   `localhost`, one of its addresses): a web page a person on the LAN visits cannot rebind
//   its own name to the appliance's address and read /api/status (421 otherwise).
import { BlockList, isIPv4 } from 'node:net';
import { hostname as osHostname, type NetworkInterfaceInfo, networkInterfaces } from 'node:os';

export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** podman's bridges: netavark's `podman0`, `podman1`…, CNI's `cni-podman0`…. */
export const BRIDGE_INTERFACE = /^(?:cni-)?podman\d+$/;

/** An address as the socket reports it, without IPv4-in-IPv6 mapping or a zone. */
export function bareAddress(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').replace(/%.*$/, '');
}

const family = (a: string) => (isIPv4(a) ? 'ipv4' : 'ipv6');

const bridges = (ifs: Interfaces) =>
  Object.entries(ifs).flatMap(([name, list]) => (BRIDGE_INTERFACE.test(name) ? (list ?? []) : []));

/** True when the connection comes from (or arrived on) a podman bridge network. */
export function fromBridge(local: string | undefined, remote: string | undefined, ifs: Interfaces): boolean {
  const nets = new BlockList();
  const own = new Set<string>();
  for (const a of bridges(ifs)) {
    const [net, prefix] = (a.cidr ?? `${a.address}/${a.family === 'IPv4' ? 32 : 128}`).split('/');
    nets.addSubnet(bareAddress(net!), Number(prefix), a.family === 'IPv4' ? 'ipv4' : 'ipv6');
    own.add(bareAddress(a.address));
  }
  const l = local && bareAddress(local);
  const r = remote && bareAddress(remote);
  // The host's own address on a bridge is in the bridge's subnet, yet a connection from it
  // is the host itself (e.g. `curl http://10.88.0.1/` on the appliance): only its peer counts.
  if (l && own.has(l) && !(r && own.has(r))) return true;
  return !!r && !own.has(r) && nets.check(r, family(r));
}

/** The names the page answers to, lower case; IPv6 addresses in brackets, as in a Host header. */
export function ownNames(hostname: string, ifs: Interfaces): Set<string> {
  const names = new Set(['localhost', 'localhost.localdomain']);
  for (const h of new Set([hostname, osHostname()].map((x) => x.toLowerCase()).filter(Boolean)))
    names.add(h).add(`${h}.local`);
  for (const [name, list] of Object.entries(ifs)) {
    if (BRIDGE_INTERFACE.test(name)) continue;
    for (const a of list ?? []) {
      const addr = bareAddress(a.address).toLowerCase();
      names.add(a.family === 'IPv4' ? addr : `[${addr}]`);
    }
  }
  return names;
}

/** The name a Host header gives (port dropped, lower case, no trailing dot); undefined if malformed. */
export function hostName(header: string | undefined): string | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(?::\d{1,5})?$/.exec((header ?? '').trim());
  return m?.[1]!.toLowerCase().replace(/\.$/, '');
}

export interface Guard {
  /** The connection may be served (not from a podman bridge). */
  connection(local: string | undefined, remote: string | undefined): boolean;
  /** The request's Host header names this machine. */
  host(header: string | undefined): boolean;
}

/** Reads the interfaces at most once a second (a burst of connections asks once). */
export function makeGuard(hostname: string, read: () => Interfaces = networkInterfaces): Guard {
  let cached: { at: number; ifs: Interfaces; names: Set<string> } | undefined;
  const now = () => {
    if (!cached || Date.now() - cached.at > 1000) {
      const ifs = read();
      cached = { at: Date.now(), ifs, names: ownNames(hostname, ifs) };
    }
    return cached;
  };
  return {
    connection: (local, remote) => !fromBridge(local, remote, now().ifs),
    host: (header) => {
      const name = hostName(header);
      return name !== undefined && now().names.has(name);
    },
  };
}
