// The status page against the LAN, on loopback with a made-up model: live pages that never
// read are dropped past their bound, one address holds only a few live pages, a full server
// lets its oldest page go for a new visitor, only this machine's names are answered, a
// connection from a podman bridge is refused, and an event's lines survive a bare CR.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppStatus } from '../../src/status.js';
import { fromBridge, type Interfaces, ownNames } from '../../src/web/guard.js';
import { sseEvent } from '../../src/web/live.js';
import type { PageModel } from '../../src/web/page.js';
import { startWebServer, type WebOptions, type WebServer } from '../../src/web/server.js';

const app = (i: number): AppStatus => ({
  app: `app-${i}`,
  unit: `berth-app-${i}.service`,
  enabled: true,
  state: 'failed',
  subState: 'failed',
  restarts: 3,
  ports: ['8080->80/tcp'],
  network: 'bridge',
  errors: [],
  pending: false,
  lastError: `error ${'x'.repeat(900)}`,
});
/** About 100 KB of live fragment per push. */
const big: PageModel = {
  host: { name: 'nas', addresses: ['192.0.2.5'], os: 'Debian', dataDir: '/var/lib/berth' },
  apps: Array.from({ length: 100 }, (_, i) => app(i)),
  errors: [],
  samples: new Map(),
  at: '2026-12-07T07:00:00.000Z',
};

const iface = (name: string, address: string, cidr: string) => ({
  [name]: [
    {
      address,
      cidr,
      netmask: '',
      family: address.includes(':') ? ('IPv6' as const) : ('IPv4' as const),
      mac: '',
      internal: false,
      scopeid: 0,
    },
  ],
});
const LAN: Interfaces = {
  ...iface('lo', '127.0.0.1', '127.0.0.1/8'),
  ...iface('eth0', '192.0.2.1', '192.0.2.1/24'),
  ...iface('podman0', '10.88.0.1', '10.88.0.1/16'),
};

let srv: WebServer | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await srv?.close();
  srv = undefined;
});

const start = async (o: Partial<WebOptions> = {}) =>
  (srv = await startWebServer({
    host: '127.0.0.1',
    port: 0,
    hostname: 'nas',
    model: async () => big,
    debounceMs: 1,
    ...o,
  }));

/** A raw request from `from` (a loopback address); `read: false` never reads the answer. */
function open(path: string, o: { from?: string; host?: string; read?: boolean } = {}) {
  const s = connect({ host: '127.0.0.1', port: srv!.port, localAddress: o.from ?? '127.0.0.1' });
  sockets.push(s);
  let text = '';
  let ended = false;
  if (o.read === false) s.pause();
  else s.on('data', (d: Buffer) => (text += d.toString()));
  s.on('end', () => (ended = true));
  s.on('close', () => (ended = true));
  s.on('error', () => (ended = true));
  s.write(`GET ${path} HTTP/1.1\r\nHost: ${o.host ?? `127.0.0.1:${srv!.port}`}\r\n\r\n`);
  return { text: () => text, ended: () => ended };
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('live pages are bounded', () => {
  it('drops a page that never reads once its unsent data passes the bound, and keeps one that reads', async () => {
    await start();
    open('/events', { read: false });
    const reader = open('/events');
    await until('two live pages', () => srv!.clients() === 2);
    // Pushes of ~100 KB: the kernel's buffers fill first, then berth's 256 KB bound.
    for (let i = 0; i < 200 && srv!.clients() === 2; i++) {
      srv!.changed();
      await new Promise((r) => setTimeout(r, 15));
    }
    expect(srv!.clients()).toBe(1);
    expect(reader.ended()).toBe(false);
    expect(reader.text()).toContain('event: live');
  });

  it('refuses a live page past the per-address cap (429), and lets the oldest go for a new visitor when full', async () => {
    await start({ live: { maxClients: 3, perAddress: 2 } });
    const first = open('/events', { from: '127.0.0.2' });
    await until('first', () => srv!.clients() === 1);
    open('/events', { from: '127.0.0.2' });
    await until('second', () => srv!.clients() === 2);
    const third = open('/events', { from: '127.0.0.2' });
    await until('the third answered', () => third.text().includes('\r\n\r\n'));
    expect(third.text()).toMatch(/^HTTP\/1\.1 429/);
    open('/events', { from: '127.0.0.3' });
    await until('a third page', () => srv!.clients() === 3);
    const visitor = open('/events', { from: '127.0.0.4' });
    await until('the visitor served', () => visitor.text().includes(': berth'));
    expect(visitor.text()).toMatch(/^HTTP\/1\.1 200/);
    expect(srv!.clients()).toBe(3);
    // The oldest was let go, told to come back later.
    await until('the oldest let go', () => first.text().includes('retry: 60000'));
    // A page loads while all live places are taken.
    expect((await fetch(`http://127.0.0.1:${srv!.port}/`)).status).toBe(200);
  });
});

describe('only this machine is answered', () => {
  it('answers its own names and addresses, 421 to any other Host', async () => {
    await start({ interfaces: () => LAN });
    const status = async (host: string) => {
      const r = open('/api/status', { host });
      await until(`an answer for ${host}`, () => r.text().includes('\r\n'));
      return Number(r.text().split(' ')[1]);
    };
    for (const h of ['nas', 'NAS.local', 'nas.local.', 'localhost:80', '127.0.0.1', '192.0.2.1:8080'])
      expect(await status(h)).toBe(200);
    for (const h of ['evil.example', 'nas.evil.example', '10.88.0.1', 'x.local', '', 'a b'])
      expect(await status(h)).toBe(421);
  });

  it("refuses a connection from a podman bridge's subnet, whichever address it was sent to", async () => {
    const bridged = { ...LAN, ...iface('podman0', '127.0.5.1', '127.0.5.1/24') };
    await start({ interfaces: () => bridged });
    const fromBridgeNet = open('/', { from: '127.0.5.7' });
    const fromLan = open('/', { from: '127.0.0.8' });
    await until('both done', () => fromBridgeNet.ended() && fromLan.text().includes('</html>'));
    expect(fromBridgeNet.text()).toBe('');
    expect(fromLan.text()).toMatch(/^HTTP\/1\.1 200/);
  });

  it.each([
    ['10.88.0.1', '10.88.0.5', true],
    ['192.0.2.1', '10.88.0.5', true],
    ['::ffff:192.0.2.1', '::ffff:10.88.3.4', true],
    ['192.0.2.1', '192.0.2.2', false],
    ['10.88.0.1', '10.88.0.1', false],
    ['127.0.0.1', '127.0.0.1', false],
  ])('local %s, peer %s: from a bridge %s', (local, remote, want) => {
    expect(fromBridge(local, remote, LAN)).toBe(want);
  });

  it("names: the host's, .local, localhost, addresses other than the bridges'", () => {
    const n = ownNames('NAS', LAN);
    for (const x of ['nas', 'nas.local', 'localhost', '127.0.0.1', '192.0.2.1']) expect(n.has(x)).toBe(true);
    expect(n.has('10.88.0.1')).toBe(false);
  });
});

describe('the live stream', () => {
  it('ends every line of an event, whatever ends it in the fragment (LF, CR, CRLF)', () => {
    expect(sseEvent('live', 'a\rb\r\nc\nd')).toBe('event: live\ndata: a\ndata: b\ndata: c\ndata: d\n\n');
  });
});
