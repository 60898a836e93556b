// DNS-SD through avahi-daemon's D-Bus API, used when avahi-daemon runs, so the host never
// has two mDNS responders fighting over port 5353.
import dbus from 'dbus-next';
import { adKey, type Advertiser, PerAppQueue, type PublishedAd, type ServiceAd } from './types.js';

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

export class AvahiAdvertiser implements Advertiser {
  readonly kind = 'avahi' as const;
  private readonly apps = new Map<string, Map<string, Group>>();

  constructor(
    private readonly bus: dbus.MessageBus,
    private readonly server: Iface,
  ) {}

  private async publish(ad: ServiceAd): Promise<Group> {
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

  private readonly queue = new PerAppQueue();

  set(app: string, ads: readonly ServiceAd[]): Promise<void> {
    return this.queue.run(app, () => this.apply(app, ads));
  }

  private async apply(app: string, ads: readonly ServiceAd[]): Promise<void> {
    const current = this.apps.get(app) ?? new Map<string, Group>();
    const wanted = new Map(ads.map((a) => [adKey(a), a]));
    for (const [key, g] of current) {
      if (wanted.has(key)) continue;
      current.delete(key);
      await g.iface.Free!(); // Avahi sends the goodbyes
    }
    for (const [key, ad] of wanted) if (!current.has(key)) current.set(key, await this.publish(ad));
    if (current.size > 0) this.apps.set(app, current);
    else this.apps.delete(app);
  }

  published(): PublishedAd[] {
    return [...this.apps].flatMap(([app, m]) =>
      [...m.values()].map((g) => ({ ...g.ad, app, announcedAs: g.name })),
    );
  }

  async close(): Promise<void> {
    for (const app of [...this.apps.keys()]) await this.set(app, []);
    this.bus.disconnect();
  }
}
