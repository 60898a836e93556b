// A pass that failed is tried again by itself: an app whose image is not there at boot
// (registry down, network late) comes up once the image appears, with no recipe change and
// no one touching berth; meanwhile `berth status` says when berth tries again.
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Supervisor, startSupervisor } from '../../src/supervisor/supervise.js';
import {
  type Appliance,
  ensureTestImages,
  httpGet,
  startAppliance,
  until,
  webRecipe,
} from '../harness/appliance.js';

let box: Appliance;
let sup: Supervisor | undefined;
// Unique per run: the image store is shared by every test on the machine.
const late = `localhost/berth-test/late-${process.pid}:1`;

beforeAll(async () => {
  await ensureTestImages();
  box = await startAppliance('rt');
}, 180_000);

afterAll(async () => {
  await sup?.stop();
  await box?.podman(['rmi', '--force', late]).catch(() => undefined);
  await box?.stop();
});

it('an app whose image appears only after the first pass comes up by itself', async () => {
  await box.writeRecipe(
    'late.yaml',
    webRecipe('rt', 'late', 18301).replace(/^image: .*$/m, `image: ${late}`),
  );
  sup = startSupervisor({
    rt: box.runtime,
    log: pino({ level: 'silent' }),
    notify: async () => {},
    passRetry: { firstRetryMs: 2000, maxRetryMs: 4000 },
  });
  await sup.ready;
  const state = async () => (await box.runtime.systemd.state('berth-rt-late.service')).activeState;
  expect(await state()).not.toBe('active');
  expect(sup.nextRetry()?.apps).toEqual(['rt-late']);
  const status = await box.berth(['status']);
  expect(status.stdout).toMatch(
    /^rt-late: last apply failed: .* — berth tries again in \d+ s \(at \d\d:\d\d:\d\d UTC\)$/m,
  );

  // The image arrives (a registry back up, a load): nothing else changes.
  await box.podman(['tag', 'localhost/berth/busybox:1.35.0', late]);
  await until('rt-late active', async () => (await state()) === 'active', 60_000);
  expect((await httpGet('http://127.0.0.1:18301/name.txt', 30_000)).body.trim()).toBe('late');
  await until('the retry is cleared', async () => sup!.nextRetry() === undefined, 30_000);
}, 180_000);
