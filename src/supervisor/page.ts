// The status page as the supervisor serves it: the web server over the live model, with
// per-app samples taken only while someone looks, announced on the LAN once it listens.
import type { Logger } from 'pino';
import type { Runtime } from '../runtime.js';
import { readModel } from '../web/model.js';
import { Sampler } from '../web/samples.js';
import { startWebServer, type WebServer } from '../web/server.js';
import type { AppAds } from './ads.js';

export interface StatusPage {
  /** Something the page shows changed: live visitors get the new state. */
  changed(): void;
  close(): void;
}

export interface StatusPageDeps {
  rt: Runtime;
  log: Logger;
  ads: AppAds;
  /** The followed apps' units, whose memory and CPU the charts show. */
  units(): readonly string[];
  /** /metrics, in the Prometheus text format. */
  metrics?: () => Promise<string>;
  listen: { host?: string; port: number };
}

/** Starts the page; a page that cannot listen is logged and berth runs on without it. */
export async function startStatusPage({
  rt,
  log,
  ads,
  units,
  listen,
  metrics,
}: StatusPageDeps): Promise<StatusPage> {
  // The sampler is made first (the server's model reads it) and tells the server of new samples.
  const page: { server?: WebServer } = {};
  const sampler = new Sampler(rt.systemd, units, () => page.server?.changed());
  const server = await startWebServer({
    ...listen,
    hostname: rt.config.hostname,
    model: () => readModel(rt, (app) => ads.advertisedBy(app), sampler.all()),
    onClients: (n) => sampler.setActive(n > 0),
    ...(metrics ? { metrics } : {}),
  }).catch((err: Error) => {
    log.error({ error: err.message, port: listen.port }, 'cannot serve the status page');
    return undefined;
  });
  page.server = server;
  if (server) {
    log.info({ port: server.port }, 'status page listening');
    await ads.announcePage(server.port);
  }
  return {
    changed: () => server?.changed(),
    close() {
      sampler.stop();
      void server?.close();
    },
  };
}
