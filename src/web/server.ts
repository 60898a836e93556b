// The status page's HTTP server, inside the supervisor (no second daemon). Read-only: GET
// and HEAD only, no request bodies, small headers, bounded connections, timeouts against
// slow clients, a strict CSP and no framing. Live updates are Server-Sent Events: the
// supervisor calls changed() when systemd reports a unit change, and every open page gets
// the re-rendered fragment within the debounce.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AppStatus } from '../status.js';
import { LIVE_JS, type PageModel, renderLive, renderPage, STYLE } from './page.js';

export interface WebOptions {
  host?: string;
  port: number;
  /** Reads the page's model (called per request and per change while pages are open). */
  model: () => Promise<PageModel>;
  /** Open live pages (SSE clients) at most. */
  maxClients?: number;
  debounceMs?: number;
  /** Called when live pages open or close, with how many are open. */
  onClients?: (n: number) => void;
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
function pageHost(req: IncomingMessage): string {
  const h = (req.headers.host ?? '').trim();
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(?::\d+)?$/.exec(h);
  return m ? m[1]! : 'localhost';
}

/** What `berth status --json` gives, for /api/status. */
export const apiStatus = (m: PageModel): AppStatus[] => m.apps;

/** A model read is reused until something changes, or for this long at most (uptimes move). */
export const MODEL_MAX_AGE_MS = 5000;

export async function startWebServer(o: WebOptions): Promise<WebServer> {
  const live = new Set<ServerResponse>();
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
  const maxClients = o.maxClients ?? 256;
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
    if (path === '/events' && !head) {
      if (live.size >= maxClients) {
        res.writeHead(503, { ...SECURITY, 'retry-after': '10' }).end();
        return;
      }
      res.writeHead(200, { ...SECURITY, 'content-type': 'text/event-stream' });
      // A live page holds its connection: it is exempt from the request timeout, not from the cap.
      req.socket.setTimeout(0);
      (res as ServerResponse & { host?: string }).host = pageHost(req);
      live.add(res);
      o.onClients?.(live.size);
      res.on('close', () => {
        live.delete(res);
        o.onClients?.(live.size);
      });
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
  server.maxConnections = maxClients + 64;
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
    for (const r of live) r.write(': keepalive\n\n');
  }, 15_000);
  keepalive.unref();

  const push = async () => {
    if (live.size === 0) return;
    const m = await model();
    for (const r of live) {
      const html = renderLive(m, (r as ServerResponse & { host?: string }).host ?? 'localhost');
      r.write(
        `event: live\n${html
          .split('\n')
          .map((l) => `data: ${l}`)
          .join('\n')}\n\n`,
      );
    }
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
        for (const r of live) r.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
