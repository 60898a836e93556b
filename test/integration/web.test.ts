// The status page, served by the real supervisor (units/berth.service on a user manager)
// on loopback: what it shows, live updates over SSE within 2 s, read-only and hardened, and
// no secret, env value or file content in any response; live pages that never read cannot
// make it hold memory, and a visitor is served meanwhile.
import { execFile } from 'node:child_process';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnRunner } from '../../src/process/run.js';
import type { AppStatus } from '../../src/status.js';
import {
  type Appliance,
  ensureTestImages,
  startAppliance,
  startSupervisorService,
  until,
  webRecipe,
} from '../harness/appliance.js';
import { bigErrorRecipes, stuckPages } from '../bench/web.js';

const PORT = 18701;
const BASE = `http://127.0.0.1:${PORT}`;
const PLANTED = ['planted-env-value-7fq2', 'planted-file-content-9xk4'];
let box: Appliance;

const get = async (path: string, init: RequestInit = {}) => {
  const r = await fetch(`${BASE}${path}`, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: r.status, headers: r.headers, body: await r.text() };
};

/** Collects a response body as text; a read that outlasts a wait is kept for the next, never lost. */
function collector(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  let text = '';
  let pending: Promise<void> | undefined;
  const pump = () =>
    (pending ??= reader.read().then(({ value }) => {
      pending = undefined;
      if (value) text += Buffer.from(value).toString();
    }));
  return {
    /** Waits up to ms for more, then returns all text so far. */
    async read(ms: number): Promise<string> {
      await Promise.race([pump(), new Promise((r) => setTimeout(r, ms))]);
      return text;
    },
    clear: () => void (text = ''),
  };
}

beforeAll(async () => {
  await ensureTestImages();
  box = await startAppliance('wb');
  await box.writeRecipe(
    'a.yaml',
    webRecipe(
      'wb',
      'a',
      18702,
      `env:\n  TOKEN: ${PLANTED[0]}\n  PW: "\${secret:pw}"\nfiles:\n  c.txt: {target: /c.txt, content: ${PLANTED[1]}}\n`,
    ),
  );
  await box.writeRecipe('b.yaml', webRecipe('wb', 'b', 18703));
  await startSupervisorService(box, [
    `Environment=BERTH_WEB=127.0.0.1:${PORT}`,
    `StandardOutput=append:${join(box.root, 'berth.log')}`,
  ]);
  await until(
    'the page answers',
    async () => (await get('/').catch(() => undefined))?.status === 200,
    30_000,
  );
}, 180_000);

afterAll(async () => {
  await box?.runtime.systemd.stop('berth.service').catch(() => undefined);
  await box?.stop();
});

describe('the status page', () => {
  it('lists every app with its state, ports as links, and the host', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.body).toContain('<h1>berth on berthtest</h1>');
    for (const app of ['wb-a', 'wb-b'])
      expect(r.body).toMatch(new RegExp(`<th scope="row">${app}</th>\\s*<td><span class="state ok">active`));
    // A port bound to loopback is shown, not linked (it cannot be opened from the LAN).
    expect(r.body).toContain('127.0.0.1:18702-&gt;80/tcp');
  });

  it('/api/status mirrors berth status --json', async () => {
    const api = JSON.parse((await get('/api/status')).body) as AppStatus[];
    const cli = JSON.parse((await box.berth(['status', '--json'])).stdout) as AppStatus[];
    expect(api.map((a) => [a.app, a.state, a.image])).toEqual(cli.map((a) => [a.app, a.state, a.image]));
  });

  it('/metrics: the apps and the supervisor in the Prometheus text format, promtool-clean, no secret, same Host rule', async () => {
    const r = await get('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).toContain('berth_app_up{app="wb-a"} 1\n');
    expect(r.body).toContain('berth_app_up{app="wb-b"} 1\n');
    expect(r.body).toMatch(/^berth_passes_total [1-9]\d*$/m);
    for (const p of PLANTED) expect(r.body).not.toContain(p);
    const promtool = await spawnRunner(
      ['bash', join(import.meta.dirname, '..', '..', 'image-build', 'promtool.sh')],
      { timeoutMs: 60_000 },
    );
    const check = await spawnRunner([promtool.stdout.trim(), 'check', 'metrics'], {
      timeoutMs: 30_000,
      input: r.body,
    });
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.code).toBe(0);
    // A web page's own name rebound to this address (DNS rebinding): refused like the page.
    const foreign = await new Promise<number>((resolve, reject) =>
      http
        .get(`${BASE}/metrics`, { headers: { host: 'attacker.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject),
    );
    expect(foreign).toBe(421);
  });

  it('is read-only and hardened: GET and HEAD only, no bodies, a strict CSP, no framing', async () => {
    const r = await get('/');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect((await get('/', { method: 'HEAD' })).body).toBe('');
    expect((await get('/', { method: 'POST' })).status).toBe(405);
    expect((await get('/api/status', { method: 'DELETE' })).status).toBe(405);
    expect((await get('/nope')).status).toBe(404);
    // A request with a body is refused.
    const withBody = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${BASE}/`, { method: 'GET', headers: { 'content-length': '5' } }, (res) =>
        resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
      req.end('hello');
    });
    expect(withBody).toBe(413);
    // Headers over berth's 8 KiB are refused (10 KB: under Node's own 16 KiB default, so
    // this fails if berth's limit is gone).
    const big = await new Promise<number>((resolve) => {
      const req = http.request(`${BASE}/`, { headers: { 'x-big': 'x'.repeat(10_000) } }, (res) =>
        resolve(res.statusCode ?? 0),
      );
      req.on('error', () => resolve(0));
      req.end();
    });
    expect([0, 431]).toContain(big);
  });

  it('weighs well under 100 KB with everything it loads, and loads nothing from elsewhere', async () => {
    const page = await get('/');
    // What the page loads (scripts, stylesheets, images), not the links to the apps.
    const assets = [
      ...page.body.matchAll(/(?:<script[^>]*\ssrc|<link[^>]*\shref|<img[^>]*\ssrc)="([^"]+)"/g),
    ].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    expect(assets.filter((a) => !a.startsWith('/'))).toEqual([]);
    const local = assets;
    const sizes = await Promise.all(local.map(async (a) => (await get(a)).body.length));
    expect(page.body.length + sizes.reduce((a, b) => a + b, 0)).toBeLessThan(100_000);
  });

  it('changes reach an open page within 2 s (Server-Sent Events), and a broken recipe shows its line', async () => {
    const ac = new AbortController();
    const r = await fetch(`${BASE}/events`, { signal: ac.signal });
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    const events = collector(r.body!);
    const seen = (re: RegExp, ms: number) =>
      until(`the live page shows ${re}`, async () => re.test(await events.read(200)), ms);
    await box.runtime.systemd.stop('berth-wb-b.service');
    const t0 = Date.now();
    await seen(
      /id="app-wb-b">\ndata: <th scope="row">wb-b<\/th>\ndata: <td><span class="state (warn|bad)">(inactive|failed)/,
      5000,
    );
    expect(Date.now() - t0).toBeLessThan(2000);

    events.clear();
    await box.writeRecipe('c.yaml', 'name: wb-c\nimage: localhost/berth/busybox:1.35.0\nports: ["nope"]\n');
    await seen(/c\.yaml:3:\d+/, 10_000);
    expect(await events.read(0)).toContain('ports: [&quot;nope&quot;]');
    ac.abort();
    await box.removeRecipe('c.yaml');
    await box.runtime.systemd.start('berth-wb-b.service');
  });

  it('never shows a secret, an env value or a file content, in any response', async () => {
    const secret = (
      await readFile(join(box.config.dataDir, 'apps', 'wb-a', '.secrets', 'pw'), 'utf8')
    ).trim();
    expect(secret.length).toBeGreaterThan(8);
    const bodies = await Promise.all(
      ['/', '/api/status', '/style.css', '/live.js', '/nope'].map(async (p) => (await get(p)).body),
    );
    const ac = new AbortController();
    const ev = await fetch(`${BASE}/events`, { signal: ac.signal });
    const events = collector(ev.body!);
    await box.runtime.systemd.restart('berth-wb-a.service');
    let stream = '';
    const end = Date.now() + 2500;
    while (Date.now() < end) stream = await events.read(200);
    ac.abort();
    for (const text of [...bodies, stream])
      for (const planted of [...PLANTED, secret]) expect(text).not.toContain(planted);
    expect(stream).toContain('wb-a');
  });

  it('256 live pages that never read and a push a second: RSS stays bounded, a visitor is served', async () => {
    const big = bigErrorRecipes(60);
    for (const [file, text] of big) await box.writeRecipe(file, text);
    await until(
      'the page shows the errors',
      async () => (await get('/')).body.includes('zz-stuck-59'),
      20_000,
    );
    const { stdout } = await promisify(execFile)(
      'systemctl',
      ['--user', 'show', '--property=MainPID', '--value', 'berth.service'],
      { env: { ...process.env, ...box.env } },
    );
    // 20 s here (the bench runs the minute). Before the bound this grew it by 224 MB at its peak.
    const st = await stuckPages(Number(stdout.trim()), PORT, 20);
    for (const [file] of big) await box.removeRecipe(file);
    console.log(`256 stuck live pages, 20 s: ${JSON.stringify(st)}`);
    expect(st.pushKb).toBeGreaterThan(150);
    expect(st.rssPeakGrowthMb).toBeLessThan(40);
    expect(st.visitorOk).toBe(true);
    expect(st.visitorLoads).toBe(4);
    // The stuck pages gone, a live page opens again from the same address.
    const ac = new AbortController();
    expect((await fetch(`${BASE}/events`, { signal: ac.signal })).status).toBe(200);
    ac.abort();
  }, 60_000);
});
