// When avahi-daemon runs, berth publishes through Avahi's D-Bus API instead of answering
// mDNS itself. A real avahi-daemon (on a private system bus) runs in the appliance's
// network namespace; the TV box must see the service with Avahi's host name as its SRV
// target (ciao would have used <host>-<app>.local), and a goodbye when the app stops.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Appliance, ensureTestImages, repoRoot, startAppliance } from '../harness/appliance.js';
import {
  APP_IP,
  type Browser,
  browse,
  goodbyeFor,
  type Lan,
  lanUp,
  supervisorUnit,
  until,
} from '../harness/lan.js';

const root = repoRoot();
const NAME = 'berthtest';
let lan: Lan;
let box: Appliance;
let browser: Browser;
const daemons: ChildProcess[] = [];

const BUS_CONF = (
  socket: string,
) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;

const AVAHI_CONF = (dev: string) => `[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=${dev}
enable-dbus=yes
[publish]
publish-workstation=no
[reflector]
[rlimits]
`;

function daemon(argv: string[], env: NodeJS.ProcessEnv): void {
  const p = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, ...env },
    stdio: 'ignore',
    detached: true,
  });
  daemons.push(p);
}

beforeAll(async () => {
  await ensureTestImages();
  lan = await lanUp('av');
  box = await startAppliance('av', { BERTH_ADVERTISER: 'avahi', BERTH_HOSTNAME: NAME }, lan.inApp);
  const dir = join(box.root, 'avahi');
  await mkdir(dir, { recursive: true });
  const socket = join(dir, 'system_bus_socket');
  const busAddress = `unix:path=${socket}`;
  await writeFile(join(dir, 'bus.conf'), BUS_CONF(socket));
  await writeFile(join(dir, 'avahi-daemon.conf'), AVAHI_CONF(lan.appDev));
  daemon([...lan.inApp, 'dbus-daemon', '--nofork', `--config-file=${join(dir, 'bus.conf')}`], {});
  await until(
    'the private system bus',
    async () => (await stat(socket).catch(() => undefined))?.isSocket(),
    10_000,
  );
  daemon(
    [
      ...lan.inApp,
      'avahi-daemon',
      '--no-drop-root',
      '--no-chroot',
      '--no-rlimits',
      '--no-proc-title',
      '-f',
      join(dir, 'avahi-daemon.conf'),
    ],
    { DBUS_SYSTEM_BUS_ADDRESS: busAddress },
  );
  await box.writeRecipe(
    'web.yaml',
    `name: av-web
image: localhost/berth/busybox:1.35.0
init: true
network: host
command: [httpd, -f, -p, "${APP_IP}:18301", -h, /]
advertise:
  - {type: _http._tcp, port: 18301, name: "Web on \${hostname}"}
`,
  );
  browser = browse(lan, '_http._tcp.local.', 120);
  await until('the browser', async () => browser.events.some((e) => e.event === 'ready'), 20_000);
  const unit = supervisorUnit(await readFile(join(root, 'units', 'berth.service'), 'utf8'), [
    `Environment=DBUS_SYSTEM_BUS_ADDRESS=${busAddress}`,
  ]);
  await writeFile(join(box.config.unitDir, 'berth.service'), unit);
  await box.runtime.systemd.reload();
  // avahi-daemon must be on the bus before berth looks for it.
  await until(
    'avahi-daemon on the bus',
    async () => {
      const { connectAvahi } = await import('../../src/advertise/avahi.js');
      const a = await connectAvahi(busAddress);
      await a?.close();
      return a !== undefined;
    },
    30_000,
  );
  expect(await box.runtime.systemd.start('berth.service')).toBe('done');
}, 300_000);

afterAll(async () => {
  browser?.proc.kill();
  await box?.stop();
  for (const d of daemons) if (d.pid) process.kill(-d.pid, 'SIGTERM');
  await lan?.down();
}, 120_000);

describe('advertising through avahi-daemon', () => {
  it("publishes the app's service through Avahi", async () => {
    const added = await until('mDNS answer', async () => browser.events.find((e) => e.event === 'added'));
    expect(added.name).toBe(`Web on ${NAME}._http._tcp.local.`);
    expect(added.port).toBe(18301);
    // Avahi answers with its own host name (this machine's); ciao would have said berthtest-av-web.local.
    expect(added.server).toBe(`${hostname()}.local.`);
    expect(added.addresses).toContain(APP_IP);
  });

  it('withdraws it (Avahi sends the goodbyes) when the app stops', async () => {
    const before = browser.events.length;
    await box.berth(['stop', 'av-web']);
    const bye = await goodbyeFor(browser, `Web on ${NAME}._http._tcp.local.`, before);
    expect(bye.type).toMatch(/DNSPointer|DNSService|DNSText/);
  });
});
