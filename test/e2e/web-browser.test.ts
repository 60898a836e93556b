// The status page in a real browser: Debian's Chromium, headless, driven by playwright-core
// (no browser download: the system's). The page lists the apps with their states, shows a
// stopped app within 2 s without a reload, shows a broken recipe's line, passes axe-core
// with no serious or critical violation, and is saved as a screenshot (test/artifacts/).
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Appliance,
  ensureTestImages,
  repoRoot,
  startAppliance,
  startSupervisorService,
  until,
  webRecipe,
} from '../harness/appliance.js';

/**
 * The page's document, typed for the few calls made on it (the tests' TypeScript has no DOM
 * library). Functions passed to the page are sent as source: they use only its globals.
 */
interface Doc {
  querySelector(sel: string): { textContent: string | null } | null;
  body: { textContent: string | null };
}

const PORT = 18711;
const URL = `http://127.0.0.1:${PORT}/`;
const CHROMIUM = '/usr/bin/chromium';
let box: Appliance;
let browser: Browser;

beforeAll(async () => {
  await ensureTestImages();
  box = await startAppliance('wbb');
  await box.writeRecipe('a.yaml', webRecipe('wbb', 'a', 18712));
  await box.writeRecipe('b.yaml', webRecipe('wbb', 'b', 18713));
  await startSupervisorService(box, [`Environment=BERTH_WEB=127.0.0.1:${PORT}`]);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root in a container: no sandbox; and no background traffic off this machine.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await box?.runtime.systemd.stop('berth.service').catch(() => undefined);
  await box?.stop();
});

describe('the status page in Chromium', () => {
  it('lists the apps, follows a stop live, shows a broken recipe, passes axe, and is screenshotted', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await until(
      'the page loads',
      async () => (await page.goto(URL).catch(() => null))?.ok() === true,
      30_000,
    );
    for (const app of ['wbb-a', 'wbb-b'])
      await expect(page.locator(`#app-${app} .state`).textContent()).resolves.toMatch(/^active/);

    // Live, without a reload: the row changes within 2 s of the stop.
    const t0 = Date.now();
    await box.runtime.systemd.stop('berth-wbb-b.service');
    await page.waitForFunction(
      () =>
        /inactive|failed/.test(
          (globalThis as unknown as { document: Doc }).document.querySelector('#app-wbb-b .state')
            ?.textContent ?? '',
        ),
      undefined,
      { timeout: 5000 },
    );
    expect(Date.now() - t0).toBeLessThan(2000);

    await box.writeRecipe('c.yaml', 'name: wbb-c\nimage: localhost/berth/busybox:1.35.0\nports: ["nope"]\n');
    await page.waitForFunction(
      () =>
        /c[.]yaml:3:[0-9]+/.test(
          (globalThis as unknown as { document: Doc }).document.body.textContent ?? '',
        ),
      undefined,
      {
        timeout: 10_000,
      },
    );

    // axe-core, injected from node_modules (no network). The page's CSP allows no injected
    // script (the point of it), so the check runs in a second tab that bypasses it.
    const ctx = await browser.newContext({ bypassCSP: true, viewport: { width: 1100, height: 700 } });
    const checked = await ctx.newPage();
    await checked.goto(URL);
    const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
    await checked.addScriptTag({ content: await readFile(axePath, 'utf8') });
    const result = (await checked.evaluate(() =>
      (globalThis as unknown as { axe: { run(o: { resultTypes: string[] }): Promise<unknown> } }).axe.run({
        resultTypes: ['violations'],
      }),
    )) as { violations: { id: string; impact: string; help: string }[] };
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${v.id}: ${v.help}`)).toEqual([]);

    const dir = join(repoRoot(), 'test', 'artifacts');
    await mkdir(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'status-page.png'), fullPage: true });
    await ctx.close();
    await box.removeRecipe('c.yaml');
    await box.runtime.systemd.start('berth-wbb-b.service');
  });
});
