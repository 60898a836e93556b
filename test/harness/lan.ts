// A simulated LAN for end-to-end tests: two network namespaces (the appliance and a TV
// box) joined by a veth pair, addressed from 192.0.2.0/24 only inside them (they are not
// linked to the host). The TV side runs real clients through `nsenter --net`.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, until } from './appliance.js';

export { until };

const run = promisify(execFile);
const sh = (cmd: string) => run('sh', ['-c', cmd]);

export const APP_IP = '192.0.2.1';
export const TV_IP = '192.0.2.2';
export const BCAST = '192.0.2.255';
/** Debian's python3, which has python3-zeroconf (the PATH one may be another). */
export const PY = '/usr/bin/python3';

export interface Lan {
  appNs: string;
  tvNs: string;
  /** The appliance's interface, to advertise on. */
  appDev: string;
  /** Runs a command in the TV box. */
  tv(cmd: string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
  /** The prefix that runs a command in the appliance's network namespace. */
  inApp: string[];
  down(): Promise<void>;
}

export async function lanUp(name: string): Promise<Lan> {
  const appNs = `berth-${name}-app`;
  const tvNs = `berth-${name}-tv`;
  const appDev = `v${name}-app`.slice(0, 15);
  const tvDev = `v${name}-tv`.slice(0, 15);
  const down = () =>
    sh(`ip netns del ${appNs} 2>/dev/null; ip netns del ${tvNs} 2>/dev/null; true`).then(() => undefined);
  await down();
  await sh(`ip netns add ${appNs} && ip netns add ${tvNs}`);
  await sh(`ip link add ${appDev} netns ${appNs} type veth peer name ${tvDev} netns ${tvNs}`);
  for (const [ns, dev, ip] of [
    [appNs, appDev, APP_IP],
    [tvNs, tvDev, TV_IP],
  ]) {
    const x = `ip netns exec ${ns}`;
    await sh(
      `${x} ip link set lo up && ${x} ip addr add ${ip}/24 brd ${BCAST} dev ${dev} && ${x} ip link set ${dev} up`,
    );
    // Multicast needs a route: without one, mDNS and SSDP packets are not sent at all.
    await sh(`${x} ip route add default dev ${dev}`);
  }
  return {
    appNs,
    tvNs,
    appDev,
    inApp: ['nsenter', `--net=/run/netns/${appNs}`, '--'],
    tv: (cmd, timeoutMs = 20_000) =>
      run('nsenter', [`--net=/run/netns/${tvNs}`, '--', ...cmd], { timeout: timeoutMs, maxBuffer: 16 << 20 }),
    down,
  };
}

export interface Browser {
  events: Record<string, unknown>[];
  proc: ChildProcess;
}

/** The TV box's mDNS browser (python3-zeroconf) for one type, for a bounded time. */
export function browse(lan: Lan, type: string, seconds: number): Browser {
  const script = join(repoRoot(), 'test', 'e2e', 'mdns_browse.py');
  const proc = spawn(
    'nsenter',
    [`--net=/run/netns/${lan.tvNs}`, '--', PY, script, TV_IP, type, String(seconds)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const b: Browser = { events: [], proc };
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      b.events.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      buf = buf.slice(nl + 1);
    }
  });
  return b;
}

/**
 * The first goodbye (TTL 0) for `instance` seen after event number `since`. The PTR
 * goodbye names the type and points at the instance; SRV and TXT name the instance.
 */
export function goodbyeFor(
  browser: Browser,
  instance: string,
  since: number,
): Promise<Record<string, unknown>> {
  return until(
    `goodbye for ${instance}`,
    async () =>
      browser.events
        .slice(since)
        .find((e) => e.event === 'goodbye' && (e.name === instance || e.target === instance)),
    20_000,
  );
}

/** units/berth.service as shipped, with the program pointed at this checkout's build. */
export function supervisorUnit(shipped: string, extra: string[] = []): string {
  const root = repoRoot();
  return shipped
    .replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `)
    .replace('/usr/lib/berth/', `${root}/`)
    .replace('[Service]', ['[Service]', ...extra].join('\n'));
}
