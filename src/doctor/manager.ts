// systemd's manager on D-Bus: the system one, or the user one with --user / BERTH_USER=1.
import dbus from 'dbus-next';
import { busAddressFor, DbusServiceManager, type ManagerOptions } from '../systemd/manager.js';
import { withBus } from './bus.js';
import type { CheckResult, DoctorDeps, ReachableManager } from './types.js';

const VERSION_TIMEOUT_MS = 5000;

/** The manager's Version property over its own short connection; undefined when it cannot be read. */
async function managerVersion(busAddress: string): Promise<string | undefined> {
  const value = await withBus(busAddress, VERSION_TIMEOUT_MS, async (bus) => {
    const reply = await bus.call(
      new dbus.Message({
        destination: 'org.freedesktop.systemd1',
        path: '/org/freedesktop/systemd1',
        interface: 'org.freedesktop.DBus.Properties',
        member: 'Get',
        signature: 'ss',
        body: ['org.freedesktop.systemd1.Manager', 'Version'],
      }),
    );
    return (reply?.body[0] as dbus.Variant | undefined)?.value as unknown;
  });
  return typeof value === 'string' ? value : undefined;
}

/** connectManager's real form: berth's own client connects (and subscribes), then lets go. */
export async function connectRealManager(opts: ManagerOptions): Promise<ReachableManager> {
  const m = await DbusServiceManager.connect(opts);
  m.close();
  const version = await managerVersion(busAddressFor(opts));
  return version ? { version } : {};
}

export async function checkManager(deps: DoctorDeps): Promise<CheckResult> {
  const user = deps.config.user;
  const busAddress = busAddressFor({ user }, deps.env);
  const what = user ? 'systemd user manager' : 'systemd system manager';
  try {
    const m = await deps.connectManager({ user, busAddress });
    return {
      id: 'systemd',
      status: 'ok',
      summary: `${what}${m.version ? ` ${m.version}` : ''} answers on ${busAddress}`,
    };
  } catch (err) {
    // ManagerUnavailableError says where and adds a hint; doctor keeps the cause and says what to do itself.
    const cause = (err as Error).message
      .replace(/^cannot (?:reach|talk to) systemd on .*?\): /, '')
      .replace(/\. (?:Is|To) .*$/, '');
    return {
      id: 'systemd',
      status: 'fail',
      summary: `no ${what} on ${busAddress}: ${cause}`,
      fix: user
        ? 'Start a systemd user manager for this user (systemctl --user works then), or drop --user / BERTH_USER=1 to use the system manager.'
        : 'Run berth on a host booted with systemd (the system manager on the system bus), or add --user to drive a user manager.',
    };
  }
}
