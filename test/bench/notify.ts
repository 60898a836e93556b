// Notifications in `npm run bench`: an event emitted → the message received by a webhook on
// loopback, berth's own work (event log, batch, outbox file, signed POST) with the gathering
// window left out, beside its floor: the same JSON POSTed by fetch to the same server.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startNotifier } from '../../src/notify/notifier.js';

export interface NotifyFigures {
  deliverMs: number;
  floorMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function notifyFigures(runs = 15): Promise<NotifyFigures> {
  let received: (() => void) | undefined;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.end('ok');
      received?.();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-notify-'));
  const settingsPath = join(dir, 'notify.yaml');
  await writeFile(
    settingsPath,
    `channels:\n  hook: {type: webhook, url: "${url}", secret: s3cret-key, min_severity: info}\n`,
  );
  const n = await startNotifier({
    dataDir: dir,
    hostname: 'bench',
    settingsPath,
    log: pino({ level: 'silent' }),
    timing: { settleMs: 0, maxHoldMs: 0 },
  });
  const arrival = () => new Promise<void>((r) => (received = r));
  const deliver: number[] = [];
  const floor: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const got = arrival();
      const t0 = performance.now();
      await n.emit('update-applied', `app${i}`);
      await n.tick();
      await got;
      deliver.push(performance.now() - t0);
      const got2 = arrival();
      const t1 = performance.now();
      await fetch(url, { method: 'POST', body: JSON.stringify({ title: `app${i} updated` }) });
      await got2;
      floor.push(performance.now() - t1);
    }
  } finally {
    n.close();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
  return { deliverMs: median(deliver), floorMs: median(floor) };
}

export interface MetricsFigures {
  apps: number;
  scrapeMs: number;
  bytes: number;
  floorMs: number;
}

/** /metrics of a running supervisor with `apps` apps: a scrape's time (median of 15) and size, beside a static file of the same server. */
export async function metricsFigures(base: string, apps: number): Promise<MetricsFigures> {
  const time = async (path: string) => {
    const t0 = performance.now();
    const r = await fetch(`${base}${path}`);
    const body = await r.text();
    return { ms: performance.now() - t0, bytes: Buffer.byteLength(body) };
  };
  // The page starts listening right after the supervisor's first pass (READY=1): wait for it (bounded).
  for (let i = 0; ; i++) {
    const up = await fetch(`${base}/metrics`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i >= 300) throw new Error(`${base}/metrics did not answer within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const scrapes: number[] = [];
  const floor: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 15; i++) {
    const m = await time('/metrics');
    scrapes.push(m.ms);
    bytes = m.bytes;
    floor.push((await time('/style.css')).ms);
  }
  return { apps, scrapeMs: median(scrapes), bytes, floorMs: median(floor) };
}
