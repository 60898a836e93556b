// systemd's manager over D-Bus (org.freedesktop.systemd1), the system one or a user one.
// Jobs are waited for through JobRemoved, with the listener in place (and its match rule
// confirmed by the bus) before the call that creates the job. Methods are called with plain
// messages rather than through introspected proxies: introspecting costs round trips and an
// XML parse on every connect, and every CLI command connects anew.
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
  /** Jobs queued or running in the manager (ListJobs). Optional: without it, none are waited for. */
  pendingJobs?(): Promise<{ unit: string; type: string }[]>;
  state(unit: string): Promise<UnitState>;
  /**
   * What a reconcile pass reads of each of many units, in a few round trips (the full state
   * of a hundred units costs a hundred large replies). Optional: without it, state() per unit.
   */
  summaries?(units: readonly string[]): Promise<Map<string, UnitSummary>>;
  /**
   * systemd's own accounting of a unit: memory now (bytes) and CPU used so far (ns). Either
   * is undefined where the manager does not account it. Optional.
   */
  accounting?(unit: string): Promise<{ memory?: number; cpuNsec?: number }>;
  /** The states of many units in one round trip (loaded on demand, as state() does). Optional. */
  activeStates?(units: readonly string[]): Promise<Map<string, ActiveState>>;
  /**
   * A unit's restarts, accounting and start time, read as a few small properties (not its
   * whole state). Optional: without it, state() and accounting().
   */
  figures?(unit: string): Promise<UnitFigures>;
  /** systemd's ID of the unit's last run (InvocationID, hex; '' if none): a new one each time it runs. Optional. */
  invocation?(unit: string): Promise<string>;
  /** Calls back with a unit's new state whenever its properties change, until the returned function is called. */
  follow(unit: string, onChange: (s: UnitState) => void): Promise<() => void>;
  close(): void;
}

/** The part of a unit's state that ListUnitsByNames gives. */
export type ActiveState = Pick<UnitState, 'name' | 'loadState' | 'activeState' | 'subState'>;

/** What /metrics reads of each app's unit besides its state. */
export interface UnitFigures {
  nRestarts: number;
  /** When the unit last entered 'active' (µs since the epoch; 0 if never). */
  activeEnterUsec: number;
  memory?: number;
  cpuNsec?: number;
}

/** The part of a unit's state that a reconcile pass plans with. */
export type UnitSummary = Pick<
  UnitState,
  'name' | 'loadState' | 'activeState' | 'subState' | 'unitFileState' | 'needDaemonReload'
>;

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
const MANAGER = 'org.freedesktop.systemd1.Manager';
const UNIT = 'org.freedesktop.systemd1.Unit';
const SERVICE = 'org.freedesktop.systemd1.Service';
const PROPERTIES = 'org.freedesktop.DBus.Properties';
const JOB_REMOVED_RULE = `type='signal',sender='${DEST}',path='${PATH}',interface='${MANAGER}',member='JobRemoved'`;

export function busAddressFor(opts: ManagerOptions, env: NodeJS.ProcessEnv = process.env): string {
  if (opts.busAddress) return opts.busAddress;
  if (!opts.user) return env.DBUS_SYSTEM_BUS_ADDRESS ?? 'unix:path=/run/dbus/system_bus_socket';
  if (env.DBUS_SESSION_BUS_ADDRESS) return env.DBUS_SESSION_BUS_ADDRESS;
  return `unix:path=${env.XDG_RUNTIME_DIR ?? `/run/user/${process.getuid?.() ?? 0}`}/bus`;
}

/** One method call; resolves to the reply's body (a D-Bus error rejects). */
async function call(
  bus: dbus.MessageBus,
  m: { destination?: string; path: string; interface: string; member: string; signature?: string },
  body: unknown[] = [],
): Promise<unknown[]> {
  const reply = await bus.call(
    new dbus.Message({ destination: DEST, ...m, ...(m.signature ? { signature: m.signature, body } : {}) }),
  );
  return reply?.body ?? [];
}

interface Waiter {
  resolve: (r: JobResult) => void;
}

export class DbusServiceManager implements ServiceManager {
  private readonly waiting = new Map<string, Waiter>();
  /** Jobs that finished before the call creating them returned their path. */
  private readonly finished = new Map<string, JobResult>();

  private constructor(
    private readonly bus: dbus.MessageBus,
    private readonly jobTimeoutMs: number,
  ) {
    bus.on('message', (msg) => {
      if (
        msg.type !== dbus.MessageType.SIGNAL ||
        msg.member !== 'JobRemoved' ||
        msg.interface !== MANAGER ||
        msg.path !== PATH
      )
        return;
      const [, job, , result] = msg.body as [number, string, string, string];
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
      const client = new DbusServiceManager(bus, opts.jobTimeoutMs ?? 300_000);
      // The bus daemon answers AddMatch once the rule is in force: no job's signal is missed.
      // systemd sends job signals only to subscribers.
      await Promise.race([
        Promise.all([
          call(
            bus,
            {
              destination: 'org.freedesktop.DBus',
              path: '/org/freedesktop/DBus',
              interface: 'org.freedesktop.DBus',
              member: 'AddMatch',
              signature: 's',
            },
            [JOB_REMOVED_RULE],
          ),
          client.manager('Subscribe'),
        ]),
        failed,
      ]);
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

  /** Calls a method of the manager object; resolves to the reply's first value. */
  private async manager(member: string, signature?: string, ...body: unknown[]): Promise<unknown> {
    return (
      await call(
        this.bus,
        { path: PATH, interface: MANAGER, member, ...(signature ? { signature } : {}) },
        body,
      )
    )[0];
  }

  private async job(method: string, unit: string): Promise<JobResult> {
    const path = (await this.manager(method, 'ss', unit, 'replace')) as string;
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
    await this.manager('Reload');
  }

  async enable(units: string[]): Promise<void> {
    if (units.length > 0) await this.manager('EnableUnitFiles', 'asbb', units, false, true);
  }

  async disable(units: string[]): Promise<void> {
    if (units.length > 0) await this.manager('DisableUnitFiles', 'asb', units, false);
  }

  async pendingJobs(): Promise<{ unit: string; type: string }[]> {
    const jobs = (await this.manager('ListJobs')) as [number, string, string, string, string, string][];
    return jobs.map(([, unit, type]) => ({ unit, type }));
  }

  async resetFailed(unit: string): Promise<void> {
    try {
      await this.manager('ResetFailedUnit', 's', unit);
    } catch {
      // Not loaded or not failed: nothing to reset.
    }
  }

  private async props(unit: string): Promise<dbus.ClientInterface> {
    const path = (await this.manager('LoadUnit', 's', unit)) as string;
    const obj = await this.bus.getProxyObject(DEST, path);
    return obj.getInterface(PROPERTIES);
  }

  /** Properties.GetAll on the unit's object path, without introspecting it first (one round trip). */
  private async getAll(unit: string, iface: string): Promise<Record<string, dbus.Variant>> {
    const [all] = await call(
      this.bus,
      { path: unitObjectPath(unit), interface: PROPERTIES, member: 'GetAll', signature: 's' },
      [iface],
    );
    return (all ?? {}) as Record<string, dbus.Variant>;
  }

  /** One property of one of a unit's interfaces (its Unit interface unless named). */
  private async unitProperty(unit: string, name: string, iface = UNIT): Promise<unknown> {
    const [v] = await call(
      this.bus,
      { path: unitObjectPath(unit), interface: PROPERTIES, member: 'Get', signature: 'ss' },
      [iface, name],
    );
    return (v as dbus.Variant | undefined)?.value;
  }

  /**
   * Memory and CPU as two small property reads: a GetAll of the Service interface is a reply
   * of some 200 properties, and decoding it costs far more than the round trips.
   */
  async accounting(unit: string): Promise<{ memory?: number; cpuNsec?: number }> {
    const [memory, cpuNsec] = (
      await Promise.all([
        this.unitProperty(unit, 'MemoryCurrent', SERVICE),
        this.unitProperty(unit, 'CPUUsageNSec', SERVICE),
      ])
    ).map(accounted);
    return { ...(memory !== undefined ? { memory } : {}), ...(cpuNsec !== undefined ? { cpuNsec } : {}) };
  }

  async figures(unit: string): Promise<UnitFigures> {
    const [acc, nRestarts, enter] = await Promise.all([
      this.accounting(unit),
      this.unitProperty(unit, 'NRestarts', SERVICE).catch(() => 0),
      this.unitProperty(unit, 'ActiveEnterTimestamp'),
    ]);
    return { ...acc, nRestarts: Number(nRestarts ?? 0), activeEnterUsec: Number(enter ?? 0) };
  }

  async invocation(unit: string): Promise<string> {
    const id = await this.unitProperty(unit, 'InvocationID');
    return Buffer.isBuffer(id) || Array.isArray(id) ? Buffer.from(id as Uint8Array).toString('hex') : '';
  }

  async activeStates(units: readonly string[]): Promise<Map<string, ActiveState>> {
    const listed = (units.length ? await this.manager('ListUnitsByNames', 'as', units) : []) as string[][];
    const byName = new Map(listed.map((r) => [r[0], r]));
    return new Map(
      units.map((name) => {
        const r = byName.get(name);
        return [
          name,
          {
            name,
            loadState: r?.[2] ?? 'not-found',
            activeState: r?.[3] ?? 'inactive',
            subState: r?.[4] ?? 'dead',
          },
        ];
      }),
    );
  }

  async state(unit: string): Promise<UnitState> {
    // systemd loads a unit on demand when its object path is accessed.
    const [u, s] = await Promise.all([this.getAll(unit, UNIT), this.getAll(unit, SERVICE).catch(() => ({}))]);
    return toState(unit, { ...u, ...s });
  }

  async summaries(units: readonly string[]): Promise<Map<string, UnitSummary>> {
    const out = new Map<string, UnitSummary>();
    if (units.length === 0) return out;
    // One call for the states of all (it loads units not loaded yet); two small property
    // reads each for what it does not list, sent together.
    const [states, details] = await Promise.all([
      this.activeStates(units),
      Promise.all(
        units.map((u) =>
          Promise.all([
            this.unitProperty(u, 'UnitFileState').catch(() => ''),
            this.unitProperty(u, 'NeedDaemonReload').catch(() => false),
          ]),
        ),
      ),
    ]);
    units.forEach((name, i) => {
      const [unitFileState, needDaemonReload] = details[i]!;
      out.set(name, {
        ...states.get(name)!,
        unitFileState: typeof unitFileState === 'string' ? unitFileState : '',
        needDaemonReload: needDaemonReload === true,
      });
    });
    return out;
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

/** An accounting figure; (uint64)-1 means "not accounted". */
function accounted(v: unknown): number | undefined {
  return typeof v !== 'bigint' && typeof v !== 'number'
    ? undefined
    : BigInt(v) === 0xffffffffffffffffn
      ? undefined
      : Number(v);
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
