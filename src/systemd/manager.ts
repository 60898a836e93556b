// systemd's manager over D-Bus (org.freedesktop.systemd1), the system one or a user one.
// Jobs are waited for through JobRemoved, with the listener in place (and its match rule
// confirmed by a round trip) before the call that creates the job.
import dbus from 'dbus-next';

export type JobResult =
  'done' | 'canceled' | 'timeout' | 'failed' | 'dependency' | 'skipped' | 'invalid' | string;

export interface UnitState {
  name: string;
  loadState: string;
  activeState: string;
  subState: string;
  result: string;
  nRestarts: number;
  execMainStatus: number;
  /** When the unit last entered 'active' (µs since the epoch; 0 if never). */
  activeEnterUsec: number;
  unitFileState: string;
  /** The unit file on disk differs from what the manager has loaded. */
  needDaemonReload: boolean;
}

/** What berth needs from a service manager; tests may wire a fault-injecting one. */
export interface ServiceManager {
  reload(): Promise<void>;
  start(unit: string): Promise<JobResult>;
  stop(unit: string): Promise<JobResult>;
  restart(unit: string): Promise<JobResult>;
  enable(units: string[]): Promise<void>;
  disable(units: string[]): Promise<void>;
  resetFailed(unit: string): Promise<void>;
  state(unit: string): Promise<UnitState>;
  /** Calls back with a unit's new state whenever its properties change, until the returned function is called. */
  follow(unit: string, onChange: (s: UnitState) => void): Promise<() => void>;
  close(): void;
}

export class ManagerUnavailableError extends Error {}
export class JobTimeoutError extends Error {}

export interface ManagerOptions {
  /** The user manager on the session bus (true) or the system manager on the system bus. */
  user: boolean;
  /** D-Bus address to use instead of the default for the chosen bus. */
  busAddress?: string;
  /** How long to wait for a job to finish. */
  jobTimeoutMs?: number;
}

const DEST = 'org.freedesktop.systemd1';
const PATH = '/org/freedesktop/systemd1';

export function busAddressFor(opts: ManagerOptions, env: NodeJS.ProcessEnv = process.env): string {
  if (opts.busAddress) return opts.busAddress;
  if (!opts.user) return env.DBUS_SYSTEM_BUS_ADDRESS ?? 'unix:path=/run/dbus/system_bus_socket';
  if (env.DBUS_SESSION_BUS_ADDRESS) return env.DBUS_SESSION_BUS_ADDRESS;
  return `unix:path=${env.XDG_RUNTIME_DIR ?? `/run/user/${process.getuid?.() ?? 0}`}/bus`;
}

type Iface = dbus.ClientInterface & Record<string, (...args: unknown[]) => Promise<unknown>>;

interface Waiter {
  resolve: (r: JobResult) => void;
}

export class DbusServiceManager implements ServiceManager {
  private readonly waiting = new Map<string, Waiter>();
  /** Jobs that finished before the call creating them returned their path. */
  private readonly finished = new Map<string, JobResult>();

  private constructor(
    private readonly bus: dbus.MessageBus,
    private readonly manager: Iface,
    private readonly jobTimeoutMs: number,
  ) {
    manager.on('JobRemoved', (_id: number, job: string, _unit: string, result: string) => {
      const w = this.waiting.get(job);
      if (w) {
        this.waiting.delete(job);
        w.resolve(result);
      } else {
        this.finished.set(job, result);
        if (this.finished.size > 256) this.finished.delete(this.finished.keys().next().value!);
      }
    });
  }

  static async connect(opts: ManagerOptions): Promise<DbusServiceManager> {
    const address = busAddressFor(opts);
    const where = opts.user ? `the user manager's session bus (${address})` : `the system bus (${address})`;
    const hint = opts.user
      ? 'Is a systemd user manager running for this user (XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS)?'
      : 'Is systemd running as the init system? To drive a user manager instead, add --user.';
    // sessionBus() with an explicit address just connects there; it serves for both buses.
    const bus = dbus.sessionBus({ busAddress: address });
    const failed = new Promise<never>((_, reject) => {
      bus.on('error', (err: Error) =>
        reject(new ManagerUnavailableError(`cannot reach systemd on ${where}: ${err.message}. ${hint}`)),
      );
    });
    try {
      const obj = await Promise.race([bus.getProxyObject(DEST, PATH), failed]);
      const manager = obj.getInterface('org.freedesktop.systemd1.Manager') as Iface;
      const client = new DbusServiceManager(bus, manager, opts.jobTimeoutMs ?? 300_000);
      await manager.Subscribe!();
      // The JobRemoved match rule was sent when the listener was attached; a round trip
      // to the bus daemon guarantees it is in force before any job is created.
      await obj.bus.getProxyObject('org.freedesktop.DBus', '/org/freedesktop/DBus');
      bus.removeAllListeners('error');
      bus.on('error', () => {});
      return client;
    } catch (err) {
      bus.disconnect();
      if (err instanceof ManagerUnavailableError) throw err;
      throw new ManagerUnavailableError(
        `cannot talk to systemd on ${where}: ${(err as Error).message}. ${hint}`,
      );
    }
  }

  private async job(method: string, unit: string): Promise<JobResult> {
    const path = (await this.manager[method]!(unit, 'replace')) as string;
    const early = this.finished.get(path);
    if (early !== undefined) {
      this.finished.delete(path);
      return early;
    }
    return new Promise<JobResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(path);
        reject(new JobTimeoutError(`${method} ${unit}: no result after ${this.jobTimeoutMs / 1000}s`));
      }, this.jobTimeoutMs);
      this.waiting.set(path, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  }

  start(unit: string) {
    return this.job('StartUnit', unit);
  }
  stop(unit: string) {
    return this.job('StopUnit', unit);
  }
  restart(unit: string) {
    return this.job('RestartUnit', unit);
  }

  async reload(): Promise<void> {
    await this.manager.Reload!();
  }

  async enable(units: string[]): Promise<void> {
    if (units.length > 0) await this.manager.EnableUnitFiles!(units, false, true);
  }

  async disable(units: string[]): Promise<void> {
    if (units.length > 0) await this.manager.DisableUnitFiles!(units, false);
  }

  async resetFailed(unit: string): Promise<void> {
    try {
      await this.manager.ResetFailedUnit!(unit);
    } catch {
      // Not loaded or not failed: nothing to reset.
    }
  }

  private async props(unit: string): Promise<dbus.ClientInterface> {
    const path = (await this.manager.LoadUnit!(unit)) as string;
    const obj = await this.bus.getProxyObject(DEST, path);
    return obj.getInterface('org.freedesktop.DBus.Properties');
  }

  /** Properties.GetAll on the unit's object path, without introspecting it first (one round trip). */
  private async getAll(unit: string, iface: string): Promise<Record<string, dbus.Variant>> {
    const reply = await this.bus.call(
      new dbus.Message({
        destination: DEST,
        path: unitObjectPath(unit),
        interface: 'org.freedesktop.DBus.Properties',
        member: 'GetAll',
        signature: 's',
        body: [iface],
      }),
    );
    return (reply?.body[0] ?? {}) as Record<string, dbus.Variant>;
  }

  async state(unit: string): Promise<UnitState> {
    // systemd loads a unit on demand when its object path is accessed.
    const [u, s] = await Promise.all([
      this.getAll(unit, 'org.freedesktop.systemd1.Unit'),
      this.getAll(unit, 'org.freedesktop.systemd1.Service').catch(() => ({})),
    ]);
    return toState(unit, { ...u, ...s });
  }

  async follow(unit: string, onChange: (s: UnitState) => void): Promise<() => void> {
    const props = await this.props(unit);
    const listener = () => {
      this.state(unit).then(onChange, () => {});
    };
    props.on('PropertiesChanged', listener);
    return () => props.removeListener('PropertiesChanged', listener);
  }

  close(): void {
    this.bus.disconnect();
  }
}

/** systemd's object path for a unit: bytes outside [A-Za-z0-9] become _XX (sd_bus_path_encode). */
export function unitObjectPath(unit: string): string {
  const label = [...Buffer.from(unit)]
    .map((b) =>
      /[A-Za-z0-9]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `_${b.toString(16).padStart(2, '0')}`,
    )
    .join('');
  return `${PATH}/unit/${label}`;
}

function toState(name: string, v: Record<string, dbus.Variant>): UnitState {
  const get = <T>(k: string, d: T): T => (v[k]?.value as T | undefined) ?? d;
  return {
    name,
    loadState: get('LoadState', 'not-found'),
    activeState: get('ActiveState', 'inactive'),
    subState: get('SubState', 'dead'),
    result: get('Result', 'success'),
    nRestarts: Number(get('NRestarts', 0)),
    execMainStatus: Number(get('ExecMainStatus', 0)),
    activeEnterUsec: Number(get<bigint | number>('ActiveEnterTimestamp', 0)),
    unitFileState: get('UnitFileState', ''),
    needDaemonReload: get('NeedDaemonReload', false),
  };
}
