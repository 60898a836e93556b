// Status page figures for `npm run bench`, against the running supervisor: the page's
// render time (floor: its static stylesheet from the same server), the supervisor's CPU
// with one live page open, its RSS with 200 live pages open, and its RSS when 256 live
// pages never read what they are sent while a push goes out every second for a minute
// (goal: within 20 MB of where it started), with a visitor loading the page meanwhile.
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';

export const WEB_PORT = 19600;
const BASE = `http://127.0.0.1:${WEB_PORT}`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timedGet(path: string, base = BASE): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
  if (!r.ok) throw new Error(`GET ${path}: ${r.status}`);
  await r.text();
  return performance.now() - t0;
}

/** CPU seconds (user + system) the process has used. */
async function cpuSeconds(pid: number): Promise<number> {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export const rssMb = async (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

export interface WebFigures {
  /** A render that reads the model first. */
  firstMs: number;
  /** A render from the model read before (until something changes, at most 5 s). */
  pageMs: number;
  staticMs: number;
  cpuPctOnePage: number;
  rss200Mb: number;
  stuck: StuckFigures;
}

export interface StuckFigures {
  /** The live fragment's size per push, in KB. */
  pushKb: number;
  /** Supervisor RSS at the end of the minute minus before the pages opened. */
  rssGrowthMb: number;
  /** The most RSS seen above the start during the minute. */
  rssPeakGrowthMb: number;
  /** Page loads by a visitor during the minute: all answered 200, and the slowest. */
  visitorLoads: number;
  visitorOk: boolean;
  /** Why loads failed, if any did. */
  visitorErrors: string[];
  visitorMaxMs: number;
}

/** Recipes whose errors make the live fragment big (60 of them: about 210 KB a push). */
export const bigErrorRecipes = (n: number): [string, string][] =>
  Array.from({ length: n }, (_, i) => [
    `zz-stuck-${i}.yaml`,
    `name: zz-stuck-${i}\nimage: localhost/berth/busybox:1.35.0\nports: ["nope-${'x'.repeat(1500)}"]\n`,
  ]);

/** A live page that never reads: its request sent, then nothing taken from the socket. */
function stuckPage(from: string, port: number): Socket {
  const s = connect({ host: '127.0.0.1', port, localAddress: from });
  s.on('error', () => {});
  s.pause();
  s.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  return s;
}

/**
 * 256 stuck pages (16 per loopback address: the per-address cap), a SIGHUP a second (each
 * pass ends in a push to every live page), a visitor's page load every 5 s.
 */
export async function stuckPages(pid: number, port = WEB_PORT, seconds = 60): Promise<StuckFigures> {
  const get = (path: string) => timedGet(path, `http://127.0.0.1:${port}`);
  const pushKb = (await (await fetch(`http://127.0.0.1:${port}/`)).text()).length / 1024;
  const rss0 = await rssMb(pid);
  const pages = Array.from({ length: 256 }, (_, i) => stuckPage(`127.0.0.${2 + Math.floor(i / 16)}`, port));
  let peak = rss0;
  const loads: number[] = [];
  const errors: string[] = [];
  const t0 = performance.now();
  for (let sec = 0; sec < seconds; sec++) {
    process.kill(pid, 'SIGHUP');
    if (sec % 5 === 2)
      loads.push(
        await get('/').catch((e: Error) => {
          errors.push(e.message);
          return 10_000;
        }),
      );
    peak = Math.max(peak, await rssMb(pid));
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + (sec + 1) * 1000 - performance.now())));
  }
  const rss1 = await rssMb(pid);
  for (const p of pages) p.destroy();
  return {
    pushKb,
    rssGrowthMb: rss1 - rss0,
    rssPeakGrowthMb: peak - rss0,
    visitorLoads: loads.length,
    visitorOk: errors.length === 0,
    visitorErrors: errors,
    visitorMaxMs: Math.max(...loads),
  };
}

export async function webFigures(
  pid: number,
  recipes: { write(file: string, text: string): Promise<void>; remove(file: string): Promise<void> },
): Promise<WebFigures> {
  // The first render reads the model (systemd and podman); later ones reuse it until a change.
  const firstMs = await timedGet('/');
  const page: number[] = [];
  const fixed: number[] = [];
  for (let i = 0; i < 15; i++) {
    page.push(await timedGet('/'));
    fixed.push(await timedGet('/style.css'));
  }
  // One live page for 20 s (the sampler reads systemd's accounting every 10 s meanwhile).
  const one = new AbortController();
  await fetch(`${BASE}/events`, { signal: one.signal });
  const c0 = await cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, 20_000));
  const cpuPctOnePage = (((await cpuSeconds(pid)) - c0) / 20) * 100;
  one.abort();
  // 200 live pages.
  const many = new AbortController();
  await Promise.all(Array.from({ length: 200 }, () => fetch(`${BASE}/events`, { signal: many.signal })));
  await new Promise((r) => setTimeout(r, 2000));
  const rss200Mb = await rssMb(pid);
  many.abort();
  const big = bigErrorRecipes(60);
  for (const [file, text] of big) await recipes.write(file, text);
  await new Promise((r) => setTimeout(r, 3000));
  const stuck = await stuckPages(pid);
  for (const [file] of big) await recipes.remove(file);
  return { firstMs, pageMs: median(page), staticMs: median(fixed), cpuPctOnePage, rss200Mb, stuck };
}
