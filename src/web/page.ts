// The status page, rendered on the server from the same AppStatus `berth status --json`
// gives: it works without JavaScript, and the live script only swaps in fragments rendered
// here. Pure: the model in, HTML out. Every value is escaped once, here.
import { formatBytes } from '../exec/space.js';
import { type AppStatus, formatUptime } from '../status.js';

export interface HostInfo {
  name: string;
  addresses: string[];
  os: string;
  freeBytes?: number;
  dataDir: string;
}

export interface RecipeError {
  file: string;
  line: number;
  col: number;
  message: string;
  /** The offending source line. */
  source?: string;
}

/** Per-app samples of systemd's accounting, oldest first (memory in bytes, CPU in percent of one core). */
export interface Samples {
  memory: number[];
  cpu: number[];
  /** False when the service manager keeps no accounting for the unit (nothing to draw). */
  accounted: boolean;
}

export interface PageModel {
  host: HostInfo;
  apps: AppStatus[];
  errors: RecipeError[];
  /** What the last boot did not take from the BERTH partition (berth/REPORT.txt says the same). */
  settings?: { file: string; line?: number; message: string; source?: string }[];
  /** The OS went back to the previous version by itself (and why), or a new one is on trial. */
  osNotice?: string;
  samples: ReadonlyMap<string, Samples>;
  /** When the model was read (ISO). */
  at: string;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c]!);

/** A small inline SVG line chart; no script, no external asset. */
export function sparkline(values: readonly number[], label: string, format: (v: number) => string): string {
  if (values.length < 2) return `<span class="spark-empty">${esc(label)}: collecting…</span>`;
  const w = 120;
  const h = 24;
  const max = Math.max(...values, 1e-9);
  const pts = values
    .map(
      (v, i) => `${((i / (values.length - 1)) * w).toFixed(1)},${(h - (v / max) * (h - 2) - 1).toFixed(1)}`,
    )
    .join(' ');
  const last = format(values.at(-1)!);
  return `<svg class="spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(`${label}, now ${last}`)}"><polyline points="${pts}" fill="none" stroke="currentColor" stroke-width="1.5"/></svg> <span class="spark-now">${esc(last)}</span>`;
}

/** Published ports as links that open the app, on the host the page was reached at. */
function portLinks(a: AppStatus, pageHost: string): string {
  if (a.ports.length === 0) return a.network === 'host' ? 'host network' : '–';
  return a.ports
    .map((p) => {
      const m = /^(?:(.*):)?(\d+)->(\d+)\/(tcp|udp)$/.exec(p);
      if (!m || m[4] !== 'tcp' || m[1] === '127.0.0.1' || m[1] === '::1') return esc(p);
      const url = `http://${pageHost}:${m[2]}/`;
      return `<a href="${esc(url)}">${esc(m[2]!)}</a>`;
    })
    .join(', ');
}

const stateClass = (a: AppStatus) =>
  a.state === 'active' ? (a.health === 'unhealthy' ? 'warn' : 'ok') : a.state === 'failed' ? 'bad' : 'warn';

function appRow(a: AppStatus, pageHost: string, samples: Samples | undefined): string {
  const notes = [
    a.waiting ? `<div class="why">${esc(a.waiting)}</div>` : '',
    a.lastError ? `<div class="why">${esc(a.lastError)}</div>` : '',
    a.healthOutput ? `<div class="why">health check: ${esc(a.healthOutput)}</div>` : '',
    a.keptStopped ? `<div class="why">kept stopped: ${esc(a.keptStopped)}</div>` : '',
    a.applyError ? `<div class="why">last apply: ${esc(a.applyError)}</div>` : '',
    a.updateAvailable ? `<div class="note">update available ${esc(a.updateAvailable)}</div>` : '',
    ...(a.advertised ?? []).map((ad) => `<div class="note">announced as ${esc(ad)}</div>`),
  ].join('');
  const charts = !samples
    ? ''
    : !samples.accounted
      ? '<span class="spark-empty">not accounted by this service manager</span>'
      : `${sparkline(samples.memory, 'memory', formatBytes)}<br>${sparkline(samples.cpu, 'CPU', (v) => `${v.toFixed(1)} %`)}`;
  return `<tr id="app-${esc(a.app)}">
<th scope="row">${esc(a.app)}</th>
<td><span class="state ${stateClass(a)}">${esc(a.state)}${a.subState && a.subState !== a.state ? ` (${esc(a.subState)})` : ''}</span>${a.enabled ? '' : ' disabled'}${notes}</td>
<td>${esc(a.health ?? '–')}</td>
<td>${esc(formatUptime(a.uptimeSec))}</td>
<td>${a.restarts}</td>
<td>${portLinks(a, pageHost)}</td>
<td>${esc(a.imageId ?? '–')}</td>
<td class="charts">${charts}</td>
</tr>`;
}

/** The part of the page that changes: swapped in whole by the live script. */
export function renderLive(m: PageModel, pageHost: string): string {
  const rows = m.apps.map((a) => appRow(a, pageHost, m.samples.get(a.app))).join('\n');
  const errors =
    m.errors.length === 0
      ? ''
      : `<section aria-labelledby="errors-h"><h2 id="errors-h">Recipe errors</h2><ul class="errors">${m.errors
          .map(
            (e) =>
              `<li><code>${esc(`${e.file}:${e.line}:${e.col}`)}</code> ${esc(e.message)}${e.source !== undefined ? `<pre>${esc(e.source)}</pre>` : ''}</li>`,
          )
          .join('')}</ul></section>`;
  const settings = m.settings?.length
    ? `<section aria-labelledby="settings-h"><h2 id="settings-h">Not taken from the BERTH partition</h2><ul class="errors">${m.settings
        .map(
          (e) =>
            `<li><code>${esc(`${e.file}${e.line ? `:${e.line}` : ''}`)}</code> ${esc(e.message)}${e.source !== undefined ? `<pre>${esc(e.source)}</pre>` : ''}</li>`,
        )
        .join('')}</ul></section>`
    : '';
  const os = m.osNotice
    ? `<section aria-labelledby="os-h"><h2 id="os-h">Operating system</h2><ul class="errors"><li>${esc(m.osNotice)}</li></ul></section>`
    : '';
  const free =
    m.host.freeBytes !== undefined ? `${formatBytes(m.host.freeBytes)} free in ${m.host.dataDir}` : '';
  return `<p class="host">${esc(m.host.addresses.join(', ') || 'no address')} · ${esc(m.host.os)}${free ? ` · ${esc(free)}` : ''} · <time datetime="${esc(m.at)}">${esc(m.at.slice(11, 19))} UTC</time></p>
<table>
<caption>Apps</caption>
<thead><tr><th scope="col">App</th><th scope="col">State</th><th scope="col">Health</th><th scope="col">Up</th><th scope="col">Restarts</th><th scope="col">Ports</th><th scope="col">Image</th><th scope="col">Memory, CPU (last hour)</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="8">No apps yet: put recipes in the recipes folder.</td></tr>'}
</tbody>
</table>
${os}${errors}${settings}`;
}

export function renderPage(m: PageModel, pageHost: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>berth on ${esc(m.host.name)}</title>
<link rel="stylesheet" href="/style.css">
<script src="/live.js" defer></script>
</head>
<body>
<main>
<h1>berth on ${esc(m.host.name)}</h1>
<div id="live" aria-live="polite">
${renderLive(m, pageHost)}
</div>
</main>
</body>
</html>
`;
}

export const STYLE = `body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.5rem 0}
.host{color:#3b4555}
table{border-collapse:collapse;width:100%;background:#fff}
caption{text-align:left;font-weight:600;padding:.4rem 0}
th,td{padding:.4rem .5rem;border-bottom:1px solid #dde2e8;text-align:left;vertical-align:top}
.state{font-weight:600}.ok{color:#126b2f}.warn{color:#8a5300}.bad{color:#a01b1b}
.why{color:#a01b1b;font-size:.85rem}.note{color:#3b4555;font-size:.85rem}
.spark{vertical-align:middle;color:#2456a6}.spark-now,.spark-empty{font-size:.8rem;color:#3b4555}
.errors pre{background:#fff;border:1px solid #dde2e8;padding:.3rem;overflow:auto}
a{color:#1f4e99}
`;

/** The live script: follows /events and swaps in the fragment it is sent. */
export const LIVE_JS = `(() => {
  if (!window.EventSource) return;
  const es = new EventSource('/events');
  es.addEventListener('live', (e) => {
    const el = document.getElementById('live');
    if (el) el.innerHTML = e.data;
  });
})();
`;
