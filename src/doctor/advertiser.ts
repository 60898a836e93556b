// Which mDNS advertiser `berth supervise` will use, decided by the same function it uses.
import type dbus from 'dbus-next';
import { type AdvertiserChoice, chooseAdvertiser, wantsAvahi } from '../advertise/choose.js';
import { withBus } from './bus.js';
import type { CheckResult, DoctorDeps } from './types.js';

const PROBE_TIMEOUT_MS = 5000;
type Iface = dbus.ClientInterface & Record<string, (...args: unknown[]) => Promise<unknown>>;

/** Whether avahi-daemon owns its name on the system bus (no connection to Avahi itself is kept). */
export async function avahiOnSystemBus(env: NodeJS.ProcessEnv): Promise<boolean> {
  const address = env.DBUS_SYSTEM_BUS_ADDRESS ?? 'unix:path=/run/dbus/system_bus_socket';
  const owned = await withBus(address, PROBE_TIMEOUT_MS, async (bus) => {
    const obj = await bus.getProxyObject('org.freedesktop.DBus', '/org/freedesktop/DBus');
    return (obj.getInterface('org.freedesktop.DBus') as Iface).NameHasOwner!('org.freedesktop.Avahi');
  });
  return owned === true;
}

export async function decideAdvertiser(deps: DoctorDeps): Promise<AdvertiserChoice> {
  const setting = deps.env.BERTH_ADVERTISER;
  const avahiOnBus = wantsAvahi(setting, deps.config.user) ? await deps.avahiOnBus() : false;
  return chooseAdvertiser({ setting, user: deps.config.user, avahiOnBus });
}

export function advertiserResult(choice: AdvertiserChoice): CheckResult {
  if (choice.kind === 'error')
    return {
      id: 'advertiser',
      status: 'fail',
      summary: choice.message,
      fix: 'Start avahi-daemon, or set BERTH_ADVERTISER to auto, ciao or off.',
    };
  return { id: 'advertiser', status: 'ok', summary: `${choice.kind}: ${choice.reason}` };
}
