// Notifications against real servers on loopback: an ntfy-compatible endpoint and a webhook
// receiver (node:http, checking what ntfy and Standard Webhooks check), and a real SMTP server
// (aiosmtpd) with STARTTLS and AUTH. Delivery survives an outage and a restart of berth,
// a refused request is dropped with a clear status, a full disk drops the oldest, counted.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { KEEP_EVENTS, openEventLog, readEvents } from '../../src/events/log.js';
import { makeEvent } from '../../src/events/types.js';
import { type Notifications, type NotifierDeps, startNotifier } from '../../src/notify/notifier.js';
import type { OutboxFs } from '../../src/notify/outbox.js';
import * as fsp from 'node:fs/promises';

const run = promisify(execFile);
const log = pino({ level: 'silent' });
const timing = { settleMs: 20, maxHoldMs: 200 };
const servers: Server[] = [];
const notifiers: Notifications[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const n of notifiers.splice(0)) n.close();
});
afterAll(() => {
  for (const s of servers) s.close();
  for (const c of children) c.kill();
});

interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
/** An HTTP endpoint on loopback that records requests and answers with `status()`. */
async function endpoint(status: () => number = () => 200) {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push({ url: req.url ?? '', headers: req.headers, body });
      const code = status();
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(code < 300 ? '{"id":"x1","event":"message"}' : '{"error":"nope"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { got, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function notifier(yaml: string, extra: Partial<NotifierDeps> = {}, dataDir?: string) {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'berth-notify-')));
  const settingsPath = join(dir, 'notify.yaml');
  await writeFile(settingsPath, yaml);
  const n = await startNotifier({ dataDir: dir, hostname: 'nas', settingsPath, log, timing, ...extra });
  notifiers.push(n);
  return { n, dir };
}
const until = async (ok: () => boolean) => {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
};
const settle = () => new Promise((r) => setTimeout(r, 60));

describe('ntfy', () => {
  it('one JSON message per incident start and end, with the token, UTF-8 intact', async () => {
    const ntfy = await endpoint();
    const { n, dir } = await notifier(
      `channels:\n  phone: {type: ntfy, url: "${ntfy.url}", topic: nas-alerts, token: tk_secret123}\n`,
    );
    await n.emit('app-failed', 'jellyfin', 'Fehler: Datenbank gesperrt ☹');
    await n.emit('app-failed', 'jellyfin', 'again');
    await settle();
    await n.tick();
    await n.emit('app-recovered', 'jellyfin');
    await settle();
    await n.tick();
    expect(ntfy.got.map((g) => g.url)).toEqual(['/', '/']);
    expect(ntfy.got[0]!.headers.authorization).toBe('Bearer tk_secret123');
    const first = JSON.parse(ntfy.got[0]!.body) as Record<string, unknown>;
    expect(first).toMatchObject({ topic: 'nas-alerts', title: 'nas: jellyfin is failing', priority: 5 });
    expect(first.message).toContain('Fehler: Datenbank gesperrt ☹');
    expect(JSON.parse(ntfy.got[1]!.body)).toMatchObject({ title: 'nas: jellyfin recovered', priority: 3 });
    // Every event is in the log, sent or not.
    expect((await readEvents(dir)).map((e) => e.kind)).toEqual(['app-failed', 'app-failed', 'app-recovered']);
    expect(n.health()).toEqual([expect.objectContaining({ channel: 'phone', ok: true, queued: 0 })]);
  });

  it('a server that is down: queued, shown failing, and delivered after a restart of berth', async () => {
    const ntfy = await endpoint();
    const port = (ntfy.server.address() as AddressInfo).port;
    await new Promise((r) => ntfy.server.close(r));
    const yaml = `channels:\n  phone: {type: ntfy, url: "http://127.0.0.1:${port}", topic: t}\n`;
    const { n, dir } = await notifier(yaml);
    await n.emit('os-rolled-back', '', 'berth.service did not start');
    await settle();
    await n.tick();
    const [h] = n.health();
    expect(h).toMatchObject({ channel: 'phone', ok: false, queued: 1 });
    expect(h!.error).toMatch(/could not reach the server: ECONNREFUSED/);
    n.close();
    // The server comes back; berth restarts (a new notifier over the same data dir).
    const back = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        ntfy.got.push({ url: req.url ?? '', headers: req.headers, body });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => back.listen(port, '127.0.0.1', r));
    servers.push(back);
    const later = new Date(Date.now() + 3600_000);
    const { n: n2 } = await notifier(yaml, { now: () => later }, dir);
    await n2.tick();
    expect(ntfy.got).toHaveLength(1);
    expect(JSON.parse(ntfy.got[0]!.body)).toMatchObject({ title: 'nas: OS update rolled back' });
    expect(n2.health()[0]).toMatchObject({ ok: true, queued: 0 });
  });
});

describe('webhook', () => {
  const secret = `whsec_${Buffer.from('a-shared-secret-of-24-bytes').toString('base64')}`;
  it('signs the body (Standard Webhooks), and the receiver can check it', async () => {
    const hook = await endpoint();
    const { n } = await notifier(
      `channels:\n  hook: {type: webhook, url: "${hook.url}/berth", secret: "${secret}"}\n`,
    );
    await n.emit('disk-nearly-full', 'sda', '1.2 GiB free of 500 GiB');
    await settle();
    await n.tick();
    const [r] = hook.got;
    const id = r!.headers['webhook-id'] as string;
    const ts = r!.headers['webhook-timestamp'] as string;
    const key = Buffer.from(secret.slice(6), 'base64');
    const want = createHmac('sha256', key).update(`${id}.${ts}.${r!.body}`).digest('base64');
    expect(r!.headers['webhook-signature']).toBe(`v1,${want}`);
    expect(JSON.parse(r!.body)).toMatchObject({
      type: 'berth.notification',
      host: 'nas',
      severity: 'warning',
    });
  });

  it('500 is tried again later; 400 is dropped with a clear status', async () => {
    let code = 500;
    const hook = await endpoint(() => code);
    let now = new Date();
    const { n } = await notifier(`channels:\n  hook: {type: webhook, url: "${hook.url}"}\n`, {
      now: () => now,
    });
    await n.emit('app-failed', 'web');
    now = new Date(now.getTime() + 100);
    await n.tick();
    expect(hook.got).toHaveLength(1);
    expect(n.health()[0]).toMatchObject({ ok: false, queued: 1, error: expect.stringMatching(/^500 /) });
    await n.tick(); // not due yet: no second request
    expect(hook.got).toHaveLength(1);
    now = new Date(now.getTime() + 11_000);
    code = 400;
    await n.tick();
    expect(hook.got).toHaveLength(2);
    expect(n.health()[0]).toMatchObject({
      ok: false,
      queued: 0,
      error: expect.stringMatching(/^400 .*nope/),
    });
  });

  it('reads no more of an answer than it says: a server streaming an endless 500 body is cut off', async () => {
    let sent = 0;
    let stopped = false;
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(500);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const more = () => {
        // Bounded by itself too: at most 64 MB, or until berth goes away.
        while (!stopped && sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (!stopped && sent < 64 * 1024 * 1024) res.once('drain', more);
        else res.end();
      };
      res.on('close', () => (stopped = true));
      more();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const { n } = await notifier(`channels:\n  hook: {type: webhook, url: "${url}"}\n`);
    const [r] = await n.test('hook');
    expect(r!.result).toMatchObject({
      ok: false,
      retry: true,
      error: expect.stringMatching(/^500 .*x{100}/),
    });
    await until(() => stopped);
    // berth hung up long before the server's 64 MB: what the socket had buffered at most.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
  }, 30_000);

  it('a 10,000-event burst becomes one message', async () => {
    const hook = await endpoint();
    const { n, dir } = await notifier(
      `channels:\n  hook: {type: webhook, url: "${hook.url}", min_severity: info}\n`,
    );
    for (let i = 0; i < 10_000; i++) await n.emit('update-applied', `app${i}`);
    await settle();
    await n.tick();
    expect(hook.got).toHaveLength(1);
    const body = JSON.parse(hook.got[0]!.body) as { title: string; events: number };
    expect(body).toMatchObject({ title: 'nas: 10000 events', events: 10_000 });
    // The log keeps its bound.
    expect((await readEvents(dir)).length).toBeLessThanOrEqual(KEEP_EVENTS + 500);
  }, 60_000);

  it('events another berth process writes (berth update in a shell) are told too', async () => {
    const hook = await endpoint();
    const { n, dir } = await notifier(
      `channels:\n  hook: {type: webhook, url: "${hook.url}", min_severity: info}\n`,
    );
    const other = openEventLog(dir);
    for (let i = 0; i < 1200; i++) await other.append(makeEvent('update-applied', `app${i}`));
    await n.ingest();
    await settle();
    await n.tick();
    expect(hook.got).toHaveLength(1);
    expect(JSON.parse(hook.got[0]!.body)).toMatchObject({ events: 1200 });
    // Read once: a restart of berth does not tell them again.
    n.close();
    const { n: again } = await notifier(
      `channels:\n  hook: {type: webhook, url: "${hook.url}", min_severity: info}\n`,
      {},
      dir,
    );
    await again.ingest();
    await settle();
    await again.tick();
    expect(hook.got).toHaveLength(1);
  }, 60_000);

  it('a full disk drops the oldest queued messages, counted, never a crash', async () => {
    const hook = await endpoint(() => 503);
    let full = false;
    const fs: OutboxFs = {
      ...fsp,
      writeFile: ((...a: Parameters<typeof fsp.writeFile>) => {
        if (full)
          return Promise.reject(
            Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }),
          );
        return fsp.writeFile(...a);
      }) as typeof fsp.writeFile,
    };
    let now = new Date();
    const { n, dir } = await notifier(`channels:\n  hook: {type: webhook, url: "${hook.url}"}\n`, {
      outboxFs: fs,
      now: () => now,
    });
    for (const app of ['a', 'b', 'c']) {
      await n.emit('app-failed', app);
      now = new Date(now.getTime() + 1000);
      await n.tick();
    }
    expect(n.health()[0]!.queued).toBe(3);
    full = true;
    await n.emit('app-failed', 'd');
    now = new Date(now.getTime() + 1000);
    await n.tick();
    // Each write failed: the older ones went to make room; the newest is kept (in memory).
    expect(n.health()[0]!.queued).toBe(1);
    full = false;
    hook.got.length = 0;
    const ok = await endpoint();
    await writeFile(join(dir, 'notify.yaml'), `channels:\n  hook: {type: webhook, url: "${ok.url}"}\n`);
    await n.reload();
    now = new Date(now.getTime() + 3600_000);
    await n.tick();
    expect(ok.got).toHaveLength(1);
    expect(JSON.parse(ok.got[0]!.body).body).toMatch(
      /\(3 older messages could not be kept and were dropped\)/,
    );
    expect(await readdir(join(dir, 'notify', 'outbox'))).toEqual([]);
  });
});

describe('email (aiosmtpd)', () => {
  const script = join(import.meta.dirname, '..', 'fixtures', 'notify', 'smtp_server.py');
  async function smtp(tls: boolean) {
    const dir = await mkdtemp(join(tmpdir(), 'berth-smtp-'));
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn('/usr/bin/python3', [script, String(port), ...(tls ? [cert, key] : [])], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const end = Date.now() + 20_000;
    while (!out.includes('READY') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    return { port, cert, out: () => out };
  }
  const mail = (port: number, cert: string, password: string) =>
    `channels:\n  mail:\n    type: email\n    host: 127.0.0.1\n    port: ${port}\n    user: berth\n    password: ${password}\n    from: berth@nas.example\n    to: [me@home.example]\n    ca_file: ${cert}\n`;

  it('sends over STARTTLS with the right password', async () => {
    const s = await smtp(true);
    const { n } = await notifier(mail(s.port, s.cert, 'right-password'));
    const [r] = await n.test('mail');
    expect(r!.result).toEqual({ ok: true, answer: expect.stringContaining('250') });
    expect(s.out()).toMatch(/MAIL berth@nas.example me@home.example/);
    expect(s.out()).toMatch(/Subject: nas: berth test message/);
  }, 30_000);

  it('names a wrong password', async () => {
    const s = await smtp(true);
    const { n } = await notifier(mail(s.port, s.cert, 'wrong-password'));
    const [r] = await n.test('mail');
    expect(r!.result).toMatchObject({
      ok: false,
      error: expect.stringMatching(/refused the user name or password/),
    });
  }, 30_000);

  it('never sends in plain text to a server without STARTTLS', async () => {
    const s = await smtp(false);
    const { n } = await notifier(mail(s.port, s.cert, 'right-password'));
    const [r] = await n.test('mail');
    expect(r!.result).toMatchObject({ ok: false, error: expect.stringMatching(/offers no STARTTLS/) });
    expect(s.out()).not.toMatch(/MAIL /);
  }, 30_000);
});
