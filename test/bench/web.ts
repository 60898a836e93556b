// Status page figures for `npm run bench`, against the running supervisor: the page's
// render time (floor: its static stylesheet from the same server), the supervisor's CPU
// with one live page open, and its RSS with 200 live pages open.
import { readFile } from 'node:fs/promises';

export const WEB_PORT = 19600;
const BASE = `http://127.0.0.1:${WEB_PORT}`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timedGet(path: string): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(`${BASE}${path}`, { signal: AbortSignal.timeout(10_000) });
  await r.text();
  return performance.now() - t0;
}

/** CPU seconds (user + system) the process has used. */
async function cpuSeconds(pid: number): Promise<number> {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const rssMb = async (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

export interface WebFigures {
  /** A render that reads the model first. */
  firstMs: number;
  /** A render from the model read before (until something changes, at most 5 s). */
  pageMs: number;
  staticMs: number;
  cpuPctOnePage: number;
  rss200Mb: number;
}

export async function webFigures(pid: number): Promise<WebFigures> {
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
  return { firstMs, pageMs: median(page), staticMs: median(fixed), cpuPctOnePage, rss200Mb };
}
