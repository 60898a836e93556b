// The status page's pure parts: the listen setting, escaping, charts, and the live fragment.
import { describe, expect, it } from 'vitest';
import { appStatus } from './status-fixtures.js';
import type { ServiceManager } from '../../src/systemd/manager.js';
import { Sampler } from '../../src/web/samples.js';
import { startWebServer } from '../../src/web/server.js';
import { parseWebSetting } from '../../src/web/listen.js';
import { type PageModel, renderLive, renderPage, sparkline } from '../../src/web/page.js';

const app = appStatus;
const model = (over: Partial<PageModel> = {}): PageModel => ({
  host: {
    name: 'nas',
    addresses: ['192.0.2.5'],
    os: 'Debian GNU/Linux 13 (trixie)',
    freeBytes: 5 * 1024 ** 3,
    dataDir: '/var/lib/berth',
  },
  apps: [app()],
  errors: [],
  samples: new Map(),
  at: '2026-11-26T07:00:00.000Z',
  ...over,
});

describe('BERTH_WEB', () => {
  it.each([
    [undefined, false, { port: 80 }],
    [undefined, true, undefined],
    ['off', false, undefined],
    ['8080', true, { port: 8080 }],
    ['127.0.0.1:18080', false, { host: '127.0.0.1', port: 18080 }],
    ['[::1]:80', false, { host: '::1', port: 80 }],
  ])('%s (user %s)', (v, user, want) => {
    expect(parseWebSetting(v, user)).toEqual(want);
  });
  it.each(['http://x', '99999', 'a b:80', ':80x'])('refuses %s', (v) => {
    expect(() => parseWebSetting(v, false)).toThrow(/BERTH_WEB/);
  });
});

describe('the page', () => {
  it('escapes every value once', () => {
    const html = renderPage(
      model({
        apps: [app({ app: 'x', lastError: '<script>alert(1)</script> & "q"' })],
        host: { ...model().host, name: 'a<b' },
      }),
      'nas.local',
    );
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;');
    expect(html).toContain('<title>berth on a&lt;b</title>');
  });

  it('links published ports on the host the page was opened at; loopback ports and udp are not links', () => {
    const html = renderLive(
      model({ apps: [app({ ports: ['8080->80/tcp', '127.0.0.1:9000->90/tcp', '53->53/udp'] })] }),
      'nas.local',
    );
    expect(html).toContain('<a href="http://nas.local:8080/">8080</a>');
    expect(html).toContain('127.0.0.1:9000-&gt;90/tcp');
    expect(html).toContain('53-&gt;53/udp');
  });

  it('shows recipe errors with file:line and the line itself, update available, the reason of a failure', () => {
    const html = renderLive(
      model({
        apps: [app({ state: 'failed', subState: 'failed', lastError: 'boom', updateAvailable: 'aaa → bbb' })],
        errors: [
          {
            file: '/etc/berth/recipes/x.yaml',
            line: 3,
            col: 8,
            message: 'bad port',
            source: 'ports: [nope]',
          },
        ],
      }),
      'h',
    );
    expect(html).toContain('<code>/etc/berth/recipes/x.yaml:3:8</code> bad port<pre>ports: [nope]</pre>');
    expect(html).toContain('update available aaa → bbb');
    expect(html).toMatch(/class="state bad">failed.*<div class="why">boom<\/div>/s);
  });

  it('says why an app waits for its data disk', () => {
    const waiting = app({
      state: 'inactive',
      subState: 'dead',
      waiting: 'waiting for its data disk media (not connected)',
    });
    expect(renderLive(model({ apps: [waiting] }), 'h')).toContain(
      '<div class="why">waiting for its data disk media (not connected)</div>',
    );
  });

  it('shows what the BERTH partition had that was not taken, escaped', () => {
    const html = renderLive(
      model({
        settings: [
          { file: 'berth/recipes/b.yaml', line: 4, message: 'bad <port>', source: '  - "99999:80"' },
          { file: 'berth/timezone', message: 'the file is UTF-16 text' },
        ],
      }),
      'h',
    );
    expect(html).toContain('Not taken from the BERTH partition');
    expect(html).toContain(
      '<code>berth/recipes/b.yaml:4</code> bad &lt;port&gt;<pre>  - &quot;99999:80&quot;</pre>',
    );
    expect(html).toContain('<code>berth/timezone</code> the file is UTF-16 text');
    expect(renderLive(model({ settings: [] }), 'h')).not.toContain('BERTH partition');
  });

  it('says when the OS rolled back by itself, and why, escaped', () => {
    const html = renderLive(
      model({ osNotice: 'OS: running 0.2.0; rolled back from 0.3.0: the app <samba> did not start again' }),
      'h',
    );
    expect(html).toContain('<h2 id="os-h">Operating system</h2>');
    expect(html).toContain('rolled back from 0.3.0: the app &lt;samba&gt; did not start again');
    expect(renderLive(model({}), 'h')).not.toContain('Operating system');
  });

  it('draws memory and CPU as inline SVG, without script', () => {
    const svg = sparkline([1, 2, 3, 2], 'memory', (v) => `${v} B`);
    expect(svg).toMatch(
      /^<svg class="spark" viewBox="0 0 120 24"[^>]*role="img" aria-label="memory, now 2 B"><polyline points="0\.0,/,
    );
    expect(sparkline([1], 'CPU', String)).toContain('collecting');
  });
});

describe('the sampler', () => {
  it("turns systemd's counters into memory and CPU series, only while active, and says when nothing is accounted", async () => {
    let cpu = 0;
    const systemd = {
      accounting: async (unit: string) =>
        unit === 'berth-a.service' ? { memory: 1000 + cpu / 1e6, cpuNsec: (cpu += 5e8) } : {},
    } as unknown as ServiceManager;
    let ticks = 0;
    const s = new Sampler(
      systemd,
      () => ['berth-a.service', 'berth-b.service'],
      () => void ticks++,
      20,
    );
    s.setActive(true);
    await new Promise((r) => setTimeout(r, 110));
    s.setActive(false);
    const seen = ticks;
    await new Promise((r) => setTimeout(r, 60));
    expect(ticks).toBe(seen);
    const a = s.get('a')!;
    expect(a.accounted).toBe(true);
    expect(a.memory.length).toBeGreaterThan(2);
    expect(a.cpu.length).toBe(a.memory.length - 1);
    expect(a.cpu.every((v) => v > 0)).toBe(true);
    expect(s.get('b')).toEqual({ memory: [], cpu: [], accounted: false });
    expect(
      renderLive(model({ apps: [app({ app: 'b' })], samples: new Map([['b', s.get('b')!]]) }), 'h'),
    ).toContain('not accounted by this service manager');
  });
});

describe('the server reuses one model read until a change', () => {
  it('reads the model once for several pages, again after changed()', async () => {
    let reads = 0;
    const srv = await startWebServer({
      host: '127.0.0.1',
      port: 0,
      model: async () => {
        reads++;
        return model();
      },
    });
    try {
      const get = (p: string) => fetch(`http://127.0.0.1:${srv.port}${p}`).then((r) => r.text());
      await Promise.all([get('/'), get('/'), get('/api/status')]);
      expect(reads).toBe(1);
      srv.changed();
      await get('/');
      expect(reads).toBe(2);
    } finally {
      await srv.close();
    }
  });
});
