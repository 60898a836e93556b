// What this machine sees on the LAN, for "why doesn't my TV see it?": DNS-SD services over
// mDNS, SSDP/UPnP devices, and NetBIOS names. Every probe is bounded in time.
import { createSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import makeMdns from 'multicast-dns';
import { type Runner, spawnRunner } from '../process/run.js';

export interface MdnsService {
  instance: string;
  type: string;
  host?: string;
  port?: number;
  addresses: string[];
  txt: string[];
}

export interface SsdpDevice {
  from: string;
  st: string;
  location?: string;
  server?: string;
  usn?: string;
}

export interface NetbiosName {
  address: string;
  name: string;
  suffix: string;
}

export interface LanView {
  interfaces: { name: string; address: string }[];
  mdns: MdnsService[];
  ssdp: SsdpDevice[];
  netbios: NetbiosName[] | { unavailable: string };
}

/** IPv4 addresses of the named interfaces (or of every non-loopback one). */
export function interfaceAddresses(names?: readonly string[]): { name: string; address: string }[] {
  return Object.entries(networkInterfaces()).flatMap(([name, addrs]) =>
    (names ? names.includes(name) : !/^(lo|podman|cni-|veth|docker|br-)/.test(name))
      ? (addrs ?? [])
          .filter((a) => a.family === 'IPv4' && !a.internal)
          .map((a) => ({ name, address: a.address }))
      : [],
  );
}

/** Browses DNS-SD: every service type announced, then every instance of each, for `ms`. */
export function browseMdns(address: string, ms: number): Promise<MdnsService[]> {
  return new Promise((resolve) => {
    const mdns = makeMdns({ interface: address, bind: '0.0.0.0', loopback: true, reuseAddr: true });
    const types = new Set<string>();
    const services = new Map<string, MdnsService>();
    const srv = new Map<string, { host: string; port: number }>();
    const txt = new Map<string, string[]>();
    const addrs = new Map<string, Set<string>>();
    const ask = (name: string) => mdns.query({ questions: [{ name, type: 'PTR' }] });
    mdns.on('response', (res) => {
      for (const r of [...res.answers, ...res.additionals]) {
        if (r.type === 'PTR' && r.name === '_services._dns-sd._udp.local' && !types.has(String(r.data))) {
          types.add(String(r.data));
          ask(String(r.data));
        } else if (r.type === 'PTR' && r.name !== '_services._dns-sd._udp.local') {
          const instance = String(r.data);
          if (!services.has(instance))
            services.set(instance, { instance, type: r.name, addresses: [], txt: [] });
        } else if (r.type === 'SRV') {
          srv.set(r.name, { host: r.data.target, port: r.data.port });
        } else if (r.type === 'TXT') {
          const data = Array.isArray(r.data) ? r.data : [r.data];
          txt.set(r.name, data.map((b) => b.toString()).filter(Boolean));
        } else if (r.type === 'A') {
          addrs.set(r.name, (addrs.get(r.name) ?? new Set()).add(String(r.data)));
        }
      }
    });
    mdns.on('error', () => {});
    ask('_services._dns-sd._udp.local');
    setTimeout(() => ask('_services._dns-sd._udp.local'), Math.min(1000, ms / 3));
    setTimeout(() => {
      mdns.destroy();
      resolve(
        [...services.values()]
          .map((s) => {
            const where = srv.get(s.instance);
            return {
              ...s,
              ...(where
                ? { host: where.host, port: where.port, addresses: [...(addrs.get(where.host) ?? [])] }
                : {}),
              txt: txt.get(s.instance) ?? [],
            };
          })
          .sort((a, b) => a.instance.localeCompare(b.instance)),
      );
    }, ms);
  });
}

/** One SSDP M-SEARCH for everything; answers collected for `ms`. */
export function searchSsdp(address: string, ms: number): Promise<SsdpDevice[]> {
  return new Promise((resolve) => {
    const sock = createSocket({ type: 'udp4', reuseAddr: true });
    const found = new Map<string, SsdpDevice>();
    sock.on('message', (msg, rinfo) => {
      const headers = Object.fromEntries(
        msg
          .toString()
          .split('\r\n')
          .slice(1)
          .map(
            (l) =>
              [l.slice(0, l.indexOf(':')).trim().toUpperCase(), l.slice(l.indexOf(':') + 1).trim()] as const,
          )
          .filter(([k]) => k),
      );
      const d: SsdpDevice = {
        from: rinfo.address,
        st: headers.ST ?? '',
        ...(headers.LOCATION ? { location: headers.LOCATION } : {}),
        ...(headers.SERVER ? { server: headers.SERVER } : {}),
        ...(headers.USN ? { usn: headers.USN } : {}),
      };
      found.set(`${d.from}|${d.st}`, d);
    });
    sock.on('error', () => {});
    sock.bind(0, address, () => {
      sock.setMulticastInterface(address);
      const search =
        'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n';
      sock.send(search, 1900, '239.255.255.250');
    });
    setTimeout(() => {
      sock.close();
      resolve([...found.values()].sort((a, b) => `${a.from}${a.st}`.localeCompare(`${b.from}${b.st}`)));
    }, ms);
  });
}

/** NetBIOS names answering a broadcast node-status query, through Samba's nmblookup. */
export function netbiosNames(
  broadcast: string,
  ms: number,
  run: Runner = spawnRunner,
): Promise<NetbiosName[] | { unavailable: string }> {
  return run(['nmblookup', '-B', broadcast, '-S', '*'], { timeoutMs: ms + 2000 }).then(({ code, stdout }) => {
    if (code === 127) return { unavailable: 'nmblookup is not installed (Debian package samba-common-bin)' };
    const names: NetbiosName[] = [];
    let address = '';
    for (const line of stdout.split('\n')) {
      const status = /^Looking up status of ([0-9.]+)/.exec(line);
      if (status) address = status[1]!;
      const m = /^\s+(\S.*?)\s+<([0-9a-f]{2})>\s+-/i.exec(line);
      if (m && address) names.push({ address, name: m[1]!.trim(), suffix: m[2]! });
    }
    return names;
  });
}

function broadcastOf(address: string): string {
  const iface = Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.address === address);
  if (!iface?.netmask) return '255.255.255.255';
  const ip = address.split('.').map(Number);
  const mask = iface.netmask.split('.').map(Number);
  return ip.map((b, i) => (b | (~mask[i]! & 255)) & 255).join('.');
}

export async function lookAround(interfaces: readonly string[] | undefined, ms = 3000): Promise<LanView> {
  const ifaces = interfaceAddresses(interfaces);
  const first = ifaces[0];
  if (!first)
    return {
      interfaces: [],
      mdns: [],
      ssdp: [],
      netbios: { unavailable: 'no network interface with an IPv4 address' },
    };
  const [mdns, ssdp, netbios] = await Promise.all([
    Promise.all(ifaces.map((i) => browseMdns(i.address, ms))).then((l) => l.flat()),
    Promise.all(ifaces.map((i) => searchSsdp(i.address, ms))).then((l) => l.flat()),
    netbiosNames(broadcastOf(first.address), ms),
  ]);
  return { interfaces: ifaces, mdns, ssdp, netbios };
}
