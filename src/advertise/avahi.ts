// DNS-SD through avahi-daemon's D-Bus API, used when avahi-daemon runs, so the host never
// has two mDNS responders fighting over port 5353.
import dbus from 'dbus-next';
import { AppAdvertiser } from './base.js';
import type { ServiceAd } from './types.js';

const IF_UNSPEC = -1;
const PROTO_UNSPEC = -1;
const COLLISION = 3;

type Iface = dbus.ClientInterface & Record<string, (...args: unknown[]) => Promise<unknown>>;

interface Group {
  ad: ServiceAd;
  iface: Iface;
  name: string;
}

/** The Avahi server on the system bus, or undefined when avahi-daemon does not run. */
export async function connectAvahi(
  busAddress = process.env.DBUS_SYSTEM_BUS_ADDRESS ?? 'unix:path=/run/dbus/system_bus_socket',
): Promise<AvahiAdvertiser | undefined> {
  const bus = dbus.sessionBus({ busAddress });
  bus.on('error', () => {});
  try {
    const dbusObj = await bus.getProxyObject('org.freedesktop.DBus', '/org/freedesktop/DBus');
    const daemon = dbusObj.getInterface('org.freedesktop.DBus') as Iface;
    if (!(await daemon.NameHasOwner!('org.freedesktop.Avahi'))) throw new Error('no avahi');
    const server = (await bus.getProxyObject('org.freedesktop.Avahi', '/')).getInterface(
      'org.freedesktop.Avahi.Server',
    ) as Iface;
    return new AvahiAdvertiser(bus, server);
  } catch {
    bus.disconnect();
    return undefined;
  }
}

export class AvahiAdvertiser extends AppAdvertiser<Group> {
  readonly kind = 'avahi' as const;

  constructor(
    private readonly bus: dbus.MessageBus,
    private readonly server: Iface,
  ) {
    super();
  }

  protected async publish(_app: string, ad: ServiceAd): Promise<Group> {
    const path = (await this.server.EntryGroupNew!()) as string;
    const iface = (await this.bus.getProxyObject('org.freedesktop.Avahi', path)).getInterface(
      'org.freedesktop.Avahi.EntryGroup',
    ) as Iface;
    const txt = Object.entries(ad.txt).map(([k, v]) => Buffer.from(`${k}=${v}`));
    const group: Group = { ad, iface, name: ad.name };
    const add = async () => {
      await iface.AddService!(IF_UNSPEC, PROTO_UNSPEC, 0, group.name, ad.type, '', '', ad.port, txt);
      await iface.Commit!();
    };
    // On a name conflict, Avahi suggests the next free name ("Name #2"); take it.
    iface.on('StateChanged', (state: number) => {
      if (state !== COLLISION) return;
      void (async () => {
        group.name = (await this.server.GetAlternativeServiceName!(group.name)) as string;
        await iface.Reset!();
        await add();
      })();
    });
    await add();
    return group;
  }

  protected async withdraw(g: Group): Promise<void> {
    await g.iface.Free!(); // Avahi sends the goodbyes
  }

  protected announcedAs(g: Group): string {
    return g.name;
  }

  async close(): Promise<void> {
    await this.withdrawAll();
    this.bus.disconnect();
  }
}
