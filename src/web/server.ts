// The status page's HTTP server, inside the supervisor (no second daemon). Read-only: GET
// and HEAD only, no request bodies, small headers, bounded connections, timeouts against
// slow clients, a strict CSP and no framing; only this machine's names as Host, and no
// connection from a podman bridge (guard.ts). Live updates are Server-Sent Events: the
// supervisor calls changed() when systemd reports a unit change, and every open page gets
// the re-rendered fragment within the debounce, with bounded memory per page (live.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname as osHostname } from 'node:os';
import type { AppStatus } from '../status.js';
import { METRICS_CONTENT_TYPE } from '../metrics/render.js';
import { hostName, type Interfaces, makeGuard } from './guard.js';
import { LIVE_LIMITS, type LiveLimits, LivePages, sseEvent } from './live.js';
import { LIVE_JS, type PageModel, renderLive, renderPage, STYLE } from './page.js';

export interface WebOptions {
  host?: string;
  port: number;
  /** Reads the page's model (called per request and per change while pages are open). */
  model: () => Promise<PageModel>;
  /** The machine's name (the page also answers to `name.local`, `localhost` and its addresses). */
  hostname?: string;
  /** Bounds on live pages (SSE clients); tests lower them. */
  live?: Partial<LiveLimits>;
  /** The machine's interfaces (tests pass made-up ones). */
  interfaces?: () => Interfaces;
  debounceMs?: number;
  /** Called when live pages open or close, with how many are open. */
  onClients?: (n: number) => void;
  /** /metrics in the Prometheus text format; none: 404. */
  metrics?: () => Promise<string>;
}

export interface WebServer {
  /** The port it listens on (the one asked for, or the one the system gave for 0). */
  port: number;
  /** Something changed: open pages are sent a new fragment (debounced). */
  changed(): void;
  /** How many live pages are open (the supervisor samples only while some are). */
  clients(): number;
  close(): Promise<void>;
}

const SECURITY = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** The host the page was reached at, for links to the apps' ports (never trusted as HTML: escaped). */
const pageHost = (req: IncomingMessage): string => hostName(req.headers.host) ?? 'localhost';

/** What `berth status --json` gives, for /api/status. */
export const apiStatus = (m: PageModel): AppStatus[] => m.apps;

/** A model read is reused until something changes, or for this long at most (uptimes move). */
export const MODEL_MAX_AGE_MS = 5000;

export async function startWebServer(o: WebOptions): Promise<WebServer> {
  const limits = { ...LIVE_LIMITS, ...o.live };
  const live = new LivePages(limits, (n) => o.onClients?.(n));
  const guard = makeGuard(o.hostname ?? osHostname(), o.interfaces);
  // Reading the model asks systemd and podman (about 0.1 s); pages and pushes share one read
  // until changed() says it is stale.
  let cached: { m: PageModel; at: number } | undefined;
  let reading: Promise<PageModel> | undefined;
  let dirty = true;
  const model = (): Promise<PageModel> => {
    if (!dirty && cached && Date.now() - cached.at < MODEL_MAX_AGE_MS) return Promise.resolve(cached.m);
    if (reading) return reading;
    dirty = false;
    reading = o
      .model()
      .then((m) => {
        cached = { m, at: Date.now() };
        return m;
      })
      .finally(() => (reading = undefined));
    return reading;
  };
  let timer: NodeJS.Timeout | undefined;

  const send = (res: ServerResponse, status: number, type: string, body: string, head: boolean) => {
    res.writeHead(status, { ...SECURITY, 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(head ? undefined : body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY, allow: 'GET, HEAD' }).end();
      return;
    }
    if (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding']) {
      res.writeHead(413, SECURITY).end();
      req.destroy();
      return;
    }
    const head = req.method === 'HEAD';
    // A name that is not this machine's: a web site rebinding its own name to this address.
    if (!guard.host(req.headers.host))
      return send(
        res,
        421,
        'text/plain; charset=utf-8',
        "this page answers only to the machine's own names\n",
        head,
      );
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/style.css') return send(res, 200, 'text/css; charset=utf-8', STYLE, head);
    if (path === '/live.js') return send(res, 200, 'text/javascript; charset=utf-8', LIVE_JS, head);
    if (path === '/')
      return send(res, 200, 'text/html; charset=utf-8', renderPage(await model(), pageHost(req)), head);
    if (path === '/api/status')
      return send(
        res,
        200,
        'application/json',
        `${JSON.stringify(apiStatus(await model()), null, 2)}\n`,
        head,
      );
    if (path === '/metrics' && o.metrics)
      return send(res, 200, METRICS_CONTENT_TYPE, await o.metrics(), head);
    if (path === '/events' && !head) {
      const address = req.socket.remoteAddress ?? '';
      if (!live.admits(address)) {
        res.writeHead(429, { ...SECURITY, 'retry-after': '60' }).end();
        return;
      }
      res.writeHead(200, { ...SECURITY, 'content-type': 'text/event-stream' });
      // A live page holds its connection: it is exempt from the request timeout, not from
      // the bounds on what it may leave unread.
      req.socket.setTimeout(0);
      live.add(res, address, pageHost(req));
      res.write(': berth\n\n');
      return;
    }
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
  };

  const server: Server = createServer(
    { maxHeaderSize: 8192, requestTimeout: 10_000, headersTimeout: 10_000 },
    (req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, SECURITY);
        res.end();
      });
    },
  );
  server.on('connection', (socket) => {
    if (!guard.connection(socket.localAddress, socket.remoteAddress)) socket.destroy();
  });
  server.maxConnections = limits.maxClients + 64;
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Idle live pages get a comment now and then, so proxies and browsers keep them open.
  const keepalive = setInterval(() => {
    live.send(() => ': keepalive\n\n');
  }, 15_000);
  keepalive.unref();

  const push = async () => {
    if (live.size === 0) return;
    const m = await model();
    live.send((host) => sseEvent('live', renderLive(m, host)));
  };

  return {
    port: (server.address() as { port: number }).port,
    changed() {
      dirty = true;
      if (live.size === 0) return;
      clearTimeout(timer);
      timer = setTimeout(() => void push().catch(() => undefined), o.debounceMs ?? 300);
    },
    clients: () => live.size,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(keepalive);
        clearTimeout(timer);
        live.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
