// The supervisor tells a person: a real systemd manager runs a failing app and a broken
// recipe; a webhook receiver on loopback gets one message when the app starts failing (not
// one per restart), one when it recovers, and one for the recipe that stopped validating.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readEvents } from '../../src/events/log.js';
import { startNotifier } from '../../src/notify/notifier.js';
import { type Supervisor, startSupervisor } from '../../src/supervisor/supervise.js';
import { type Appliance, ensureTestImages, startAppliance, until } from '../harness/appliance.js';

let box: Appliance;
let sup: Supervisor | undefined;
const got: { title: string; body: string }[] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    got.push(JSON.parse(body) as { title: string; body: string });
    res.end('ok');
  });
});

beforeAll(async () => {
  await ensureTestImages();
  box = await startAppliance('sn');
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
}, 180_000);

afterAll(async () => {
  try {
    await sup?.stop();
  } finally {
    server.close();
    await box?.stop();
  }
}, 180_000);

const SECRET = 'planted-pw-4tq9';
const app = (command: string) => `name: sn-flaky
image: localhost/berth/busybox:1.35.0
command: [sh, -c, "${command}"]
env: {DB_PASSWORD: ${SECRET}}
stop_timeout: 2s
`;
const titles = () => got.map((m) => m.title);

it('one message when an app starts failing, one when it recovers, one for a broken recipe', async () => {
  const port = (server.address() as AddressInfo).port;
  await writeFile(
    box.config.notifyFile,
    `channels:\n  hook: {type: webhook, url: "http://127.0.0.1:${port}/"}\n`,
  );
  // Its last line names its password, as a careless app's might: the message must not.
  await box.writeRecipe(
    'flaky.yaml',
    app('echo cannot open /data/db as admin:$DB_PASSWORD: permission denied >&2; exit 3'),
  );
  const notifier = await startNotifier({
    dataDir: box.config.dataDir,
    hostname: 'berthtest',
    settingsPath: box.config.notifyFile,
    log: pino({ level: 'silent' }),
    timing: { settleMs: 200, maxHoldMs: 2000 },
  });
  sup = startSupervisor({
    rt: box.runtime,
    log: pino(
      { level: process.env.SN_DEBUG ? 'debug' : 'silent' },
      pino.destination(process.env.SN_DEBUG ?? '/dev/null'),
    ),
    notify: async () => {},
    debounceMs: 100,
    notifier,
    failureOptions: { stableMs: 3000, settleMs: 300 },
  });
  await sup.ready;
  await until(
    'the failure is told',
    async () => titles().includes('berthtest: sn-flaky is failing'),
    60_000,
  ).catch(async (e) => {
    console.log(
      JSON.stringify(await readEvents(box.config.dataDir)),
      JSON.stringify(got),
      JSON.stringify(notifier.health()),
    );
    throw e;
  });
  const failing = got.find((m) => m.title === 'berthtest: sn-flaky is failing')!;
  expect(failing.body).toContain('cannot open /data/db as admin:***: permission denied');
  expect(JSON.stringify(got)).not.toContain(SECRET);
  // systemd restarts it a few times meanwhile: still one message.
  await until(
    'restarted',
    async () => (await box.runtime.systemd.state('berth-sn-flaky.service')).nRestarts >= 2,
  );
  await new Promise((r) => setTimeout(r, 1000));
  expect(titles().filter((t) => t.includes('sn-flaky is failing'))).toHaveLength(1);

  await box.writeRecipe('flaky.yaml', app('exec sleep 3600'));
  await until('the recovery is told', async () => titles().includes('berthtest: sn-flaky recovered'), 60_000);

  await box.writeRecipe(
    'broken.yaml',
    'name: sn-broken\nimage: localhost/berth/busybox:1.35.0\nvolume: {}\n',
  );
  await until(
    'the broken recipe is told',
    async () => titles().some((t) => /broken\.yaml stopped validating/.test(t)),
    30_000,
  );
  expect(got.find((m) => /broken\.yaml/.test(m.title))!.body).toMatch(/3:1: unknown key 'volume'/);
  expect((await readEvents(box.config.dataDir)).map((e) => e.kind)).toEqual(
    expect.arrayContaining(['app-failed', 'app-recovered', 'recipe-invalid']),
  );
  // berth status names no failing channel.
  expect((await box.berth(['status'])).stdout).not.toMatch(/notifications:/);
}, 240_000);
