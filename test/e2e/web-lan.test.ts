// The status page as the LAN sees it: the real supervisor (units/berth.service) listens on
// every interface of the appliance's network namespace; a TV box on the LAN (another
// namespace) gets the page only under the machine's own names (421 for a rebound name); a
// container on podman's bridge reaches neither the bridge's gateway address nor the LAN
// address, though it reaches another server on the host; and an app's failure shown on the
// page and by `berth status` has its secret, env values and credentials masked.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus } from '../../src/status.js';
import { type Appliance, ensureTestImages, repoRoot, startAppliance } from '../harness/appliance.js';
import { APP_IP, type Lan, lanUp, supervisorUnit, until } from '../harness/lan.js';

const PORT = 18721;
/** A plain server on the appliance, beside the page: the bridge's reach to the host, as a control. */
const CONTROL = 18722;
const NAME = 'berthtest';
const TOKEN = 'planted-token-4kq9z';
let lan: Lan;

/**
 * A podman store of the run's own, when it names one (CONTAINERS_STORAGE_CONF, with a
 * CONTAINERS_CONF to match): `podman ps` fails for every sandbox on a machine while another
 * runs a bridge container whose network namespace it cannot see.
 */
const ownStore = (): NodeJS.ProcessEnv => {
  const { CONTAINERS_STORAGE_CONF, CONTAINERS_CONF } = process.env;
  return CONTAINERS_STORAGE_CONF && CONTAINERS_CONF ? { CONTAINERS_STORAGE_CONF, CONTAINERS_CONF } : {};
};
let box: Appliance;
let control: ChildProcess;

/** An HTTP GET from the TV box with the given Host header: the status code and the body. */
async function fromTv(path: string, host: string): Promise<{ status: number; body: string }> {
  const { stdout } = await lan.tv(
    [
      'curl',
      '-s',
      '-m',
      '5',
      '-H',
      `Host: ${host}`,
      '-w',
      '\n%{http_code}',
      `http://${APP_IP}:${PORT}${path}`,
    ],
    10_000,
  );
  const at = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
}

// The probe asks, every second, the page and the control server at the bridge's gateway and
// at the LAN address, and keeps the status line of each last answer (none: no answer). With
// nc: busybox-static's wget crashes here.
const probe = (target: string, port: number) =>
  `printf 'GET / HTTP/1.0\\\\r\\\\nHost: ${NAME}.local\\\\r\\\\n\\\\r\\\\n' | nc -w 3 ${target} ${port} | head -n 1 > /out/${target}-${port}.tmp; mv /out/${target}-${port}.tmp /out/${target}-${port}`;
const PROBE_RECIPE = `name: wl-probe
image: localhost/berth/busybox:1.35.0
init: true
network: bridge
volumes:
  out: {target: /out}
command: [sh, -c, "while true; do ${['10.88.0.1', APP_IP].flatMap((t) => [probe(t, PORT), probe(t, CONTROL)]).join('; ')}; sleep 1; done"]
stop_timeout: 2s
`;
// An app that fails saying its secrets: what status shows of it must mask them.
const FAIL_RECIPE = `name: wl-fail
image: localhost/berth/busybox:1.35.0
command: [sh, -c, 'echo "error: cannot log in to https://admin:$DB_PW@db/ (password=$DB_PW, $API_TOKEN)" >&2; exit 1']
env:
  DB_PW: "\${secret:db}"
  API_TOKEN: ${TOKEN}
stop_timeout: 2s
`;

const probeResult = async (target: string, port: number) =>
  (await readFile(join(box.config.dataDir, 'apps', 'wl-probe', 'out', `${target}-${port}`), 'utf8')).trim();

beforeAll(async () => {
  await ensureTestImages();
  lan = await lanUp('wl');
  box = await startAppliance('wl', { BERTH_HOSTNAME: NAME, ...ownStore() }, lan.inApp);
  control = spawn(
    'nsenter',
    [
      `--net=/run/netns/${lan.appNs}`,
      '--',
      process.execPath,
      '-e',
      `require('http').createServer((q, s) => s.end('ok')).listen(${CONTROL})`,
    ],
    { stdio: 'ignore' },
  );
  await box.writeRecipe('probe.yaml', PROBE_RECIPE);
  await box.writeRecipe('fail.yaml', FAIL_RECIPE);
  const unit = supervisorUnit(await readFile(join(repoRoot(), 'units', 'berth.service'), 'utf8'), [
    // Every interface: the LAN's, loopback and podman's bridge.
    `Environment=BERTH_WEB=${PORT}`,
  ]);
  await writeFile(join(box.config.unitDir, 'berth.service'), unit);
  await box.runtime.systemd.reload();
  expect(await box.runtime.systemd.start('berth.service')).toBe('done');
}, 240_000);

afterAll(async () => {
  control?.kill();
  // The apps are stopped through their units first: a container left running in this test's
  // mount namespace breaks `podman ps` for every other one on the machine.
  for (const unit of ['berth.service', 'berth-wl-probe.service', 'berth-wl-fail.service'])
    await box?.runtime.systemd.stop(unit).catch(() => undefined);
  try {
    await box?.stop();
  } finally {
    await lan?.down();
  }
}, 180_000);

describe('the status page on the LAN', () => {
  it("answers the TV box under the machine's names and addresses, 421 under any other name", async () => {
    // The stylesheet: served without reading systemd and podman (whose `podman ps` fails while
    // another sandbox on this machine runs a bridge container).
    await until(
      'the page answers the LAN',
      async () => (await fromTv('/style.css', APP_IP)).status === 200,
      30_000,
    );
    for (const host of [`${APP_IP}:${PORT}`, NAME, `${NAME}.local:${PORT}`, `${NAME.toUpperCase()}.LOCAL`])
      expect((await fromTv('/style.css', host)).status).toBe(200);
    for (const host of ['evil.example', `evil.example:${PORT}`, `${NAME}.evil.example`, 'localhost.evil']) {
      const r = await fromTv('/api/status', host);
      expect(r.status).toBe(421);
      expect(r.body).not.toContain('wl-');
    }
  });

  it("is out of reach of a container on podman's bridge, at the gateway's address and at the LAN's", async () => {
    // The control server answers the container at both addresses: the bridge reaches the host.
    await until(
      'the probe reached the control server',
      async () =>
        /^HTTP\/1\.1 200/.test(await probeResult('10.88.0.1', CONTROL).catch(() => '')) &&
        /^HTTP\/1\.1 200/.test(await probeResult(APP_IP, CONTROL).catch(() => '')),
      60_000,
    );
    // Two rounds later, the page's probes have run too.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await probeResult('10.88.0.1', PORT)).toBe('');
    expect(await probeResult(APP_IP, PORT)).toBe('');
    // The TV box still gets the page meanwhile.
    expect((await fromTv('/style.css', APP_IP)).status).toBe(200);
  });

  it("masks a failing app's secret, env values and URL credentials on the page and in berth status", async () => {
    const secret = (
      await readFile(join(box.config.dataDir, 'apps', 'wl-fail', '.secrets', 'db'), 'utf8')
    ).trim();
    const failing = await until(
      'the failure shown on the page',
      async () => {
        const api = JSON.parse((await fromTv('/api/status', APP_IP)).body) as AppStatus[];
        return api.find((a) => a.app === 'wl-fail' && a.lastError?.includes('cannot log in'));
      },
      60_000,
    );
    expect(failing.lastError).toBe('error: cannot log in to https://***@db/ (password=***, ***)');
    const page = (await fromTv('/', APP_IP)).body;
    const status = (await box.berth(['status'])).stdout;
    const detail = (await box.berth(['status', 'wl-fail'])).stdout;
    expect(status).toContain('wl-fail: ');
    expect(detail).toContain('cannot log in');
    for (const text of [page, status, detail, JSON.stringify(failing)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('admin:');
    }
  });
});
