import { uptime } from 'node:os';
import { join } from 'node:path';
import { askControl } from '../../supervisor/control.js';
import type { RetryState } from '../../supervisor/passes.js';
import { notifyStatusLines } from '../../notify/status.js';
import type { Config } from '../../config.js';
import { checkContext } from '../../context.js';
import { doctorStatusLine } from '../../doctor/status-line.js';
import { loadRecipes } from '../../recipe/load.js';
import { readOsFactsQuick } from '../../os/facts.js';
import { osStatus, osStatusLine } from '../../os/status.js';
import { settingsStatusLine } from '../../settings/record.js';
import { printable } from '../../settings/report.js';
import { type AppStatus, appStatuses, formatUptime } from '../../status.js';
import { outputSource } from '../../status/why.js';
import { readAppOutput } from '../../status/output.js';
import { displayLines, terminalText } from '../../status/reason.js';
import { redactorFor } from '../../status/redact.js';
import { tableLines } from '../../status/table.js';
import { type Command, EXIT_OK, type Io, UsageError, UserError } from '../command.js';
import { appArg, withRuntime } from '../connect.js';

export { displayWidth } from '../../status/table.js';

/** How many of an app's last output lines `berth status APP` shows. */
export const DETAIL_LINES = 20;

const stateText = (a: AppStatus) =>
  `${a.state}${a.subState && a.subState !== a.state ? ` (${a.subState})` : ''}${a.enabled ? '' : ' [disabled]'}${a.pending ? ' *' : ''}`;

const portsText = (a: AppStatus) => a.ports.join(', ') || (a.network === 'host' ? 'host network' : '-');

/** What the reason line calls the app's trouble. */
function trouble(a: AppStatus): string {
  if (a.state === 'failed' && a.subState === 'failed') return 'failed';
  if (a.state === 'failed' || a.subState.includes('auto-restart')) return 'restarting';
  return `restarted ${a.restarts} time${a.restarts === 1 ? '' : 's'}`;
}

/** What a recipe's error means for its app: it never ran, or its last good version still runs. */
const errorOutcome = (a: AppStatus) =>
  a.state === 'not-installed'
    ? 'not started: fix the recipe and save it'
    : a.state === 'active'
      ? 'still running its last good version'
      : 'its last good version is kept';

export function printTable(apps: readonly AppStatus[], config: Config, raw: Io): void {
  // Every field may hold text from an app, podman or a recipe: none may drive the terminal.
  const io = { ...raw, out: (l: string) => raw.out(terminalText(l)) };
  const rows = [
    ['APP', 'STATE', 'HEALTH', 'UPTIME', 'RESTARTS', 'IMAGE', 'PORTS'],
    ...apps.map((a) => [
      a.app,
      stateText(a),
      a.health ?? '-',
      formatUptime(a.uptimeSec),
      String(a.restarts),
      a.imageId ?? '-',
      portsText(a),
    ]),
  ].map((r) => r.map(terminalText));
  for (const l of tableLines(rows)) io.out(l);
  for (const a of apps)
    for (const e of a.errors)
      io.out(`${a.app}: recipe error: ${e.file}:${e.line}:${e.col}: ${e.message} — ${errorOutcome(a)}`);
  for (const a of apps) if (a.waiting) io.out(`${a.app}: ${a.waiting}`);
  for (const a of apps) if (a.lastError) io.out(`${a.app}: ${trouble(a)}: ${a.lastError}`);
  for (const a of apps) if (a.healthOutput) io.out(`${a.app}: health check failing: ${a.healthOutput}`);
  for (const a of apps) if (a.keptStopped) io.out(`${a.app}: kept stopped: ${a.keptStopped}`);
  for (const a of apps)
    if (a.applyError && !a.lastError)
      io.out(
        `${a.app}: last apply failed: ${a.applyError}${a.nextRetry ? ` — ${retryText(a.nextRetry)}` : ''}`,
      );
  for (const a of apps)
    if (a.updateAvailable)
      io.out(`${a.app}: update available ${a.updateAvailable} ('berth update ${a.app}')`);
  for (const a of apps)
    if (
      a.lastUpdate &&
      a.lastUpdate.result !== 'updated' &&
      !a.lastUpdate.reason?.startsWith('berth rollback')
    )
      io.out(
        `${a.app}: last update ${a.lastUpdate.result.replace('-', ' ')} at ${a.lastUpdate.at}${a.lastUpdate.reason ? `: ${a.lastUpdate.reason}` : ''}`,
      );
  for (const a of apps)
    for (const ad of a.advertised ?? []) io.out(`${a.app}: announced on the LAN as ${ad}`);
  if (apps.some((a) => a.pending))
    io.out(
      "* not as its recipe says yet (changed since the last apply, or not running); 'berth apply' acts on it",
    );
  if (apps.some((a) => a.lastError)) io.out("'berth status APP' shows an app's last output lines");
  if (apps.length === 0) io.out(`no apps: put recipes in ${config.recipesDir}`);
}

export function printDetail(a: AppStatus, lines: readonly string[], raw: Io): void {
  const io = { ...raw, out: (l: string) => raw.out(terminalText(l)) };
  const fields: [string, string | undefined][] = [
    ['app', a.app],
    ['state', stateText(a)],
    ['health', a.health],
    ['health check', a.healthOutput],
    ['uptime', a.uptimeSec !== undefined ? formatUptime(a.uptimeSec) : undefined],
    ['restarts', String(a.restarts)],
    ['ports', portsText(a)],
    ['image', a.image ? `${a.image}${a.imageId ? ` (pinned: ${a.imageId})` : ''}` : undefined],
    ['update available', a.updateAvailable],
    [
      'last update',
      a.lastUpdate
        ? `${a.lastUpdate.result} at ${a.lastUpdate.at}${a.lastUpdate.reason ? `: ${a.lastUpdate.reason}` : ''}`
        : undefined,
    ],
    ['unit', a.unit],
    ['recipe', a.file],
    ['waiting', a.waiting],
    [a.lastError ? trouble(a) : 'error', a.lastError],
    ['kept stopped', a.keptStopped],
    ['last apply failed', a.applyError],
    ['next retry', a.nextRetry && retryText(a.nextRetry)],
    ...a.errors.map((e): [string, string] => ['recipe error', `${e.file}:${e.line}:${e.col}: ${e.message}`]),
    ...(a.advertised ?? []).map((ad): [string, string] => ['announced', ad]),
  ];
  const shown = fields.filter((f): f is [string, string] => f[1] !== undefined);
  const width = Math.max(...shown.map(([k]) => k.length)) + 1;
  for (const [k, v] of shown) io.out(`${`${k}:`.padEnd(width)} ${v}`);
  io.out('');
  if (lines.length === 0) io.out(`no output recorded (berth logs ${a.app})`);
  else {
    io.out(
      `last ${lines.length} output line${lines.length === 1 ? '' : 's'} (berth logs ${a.app} for more):`,
    );
    for (const l of lines) io.out(`  ${l}`);
  }
}

/** When the supervisor tries a failed change again, for people. */
export function retryText(at: string, now = Date.now()): string {
  const sec = Math.max(0, Math.round((Date.parse(at) - now) / 1000));
  const inText = sec < 120 ? `${sec} s` : `${Math.round(sec / 60)} min`;
  return `berth tries again in ${inText} (at ${at.slice(11, 19)} UTC)`;
}

/** The supervisor's own retry after a pass that failed as a whole (not one app's step). */
async function passRetryLine(config: Config): Promise<string | undefined> {
  const r = (await askControl(config.socketPath, { cmd: 'retry' }, 5_000).catch(() => undefined)) as
    RetryState | null | undefined;
  if (!r?.error) return undefined;
  return `berth: the last pass failed (${r.attempt} in a row): ${r.error} — ${retryText(new Date(r.at).toISOString())}`;
}

/** doctor's cheap checks (programs the recipes need): one line when doctor would fail. */
async function hostProblems(config: Config): Promise<string | undefined> {
  const recipes = await loadRecipes([config.recipesDir], checkContext(config)).catch(() => undefined);
  const apps = (recipes?.apps ?? []).filter((a) => a.enabled);
  // The manager answered: status got this far through it (or through the supervisor).
  return doctorStatusLine({ managerReachable: true, apps, podman: config.podman });
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'show every app: state, health, uptime, restarts, ports, recipe errors',
  usage: 'berth status [APP] [--json]',
  help: "With APP: the app's details and its last output lines.",
  options: { json: { type: 'boolean' } },
  async run({ config, options, positionals, io }) {
    if (positionals.length > 1) throw new UsageError('status takes at most one APP');
    const one = positionals[0] === undefined ? undefined : appArg(positionals[0]);
    // The supervisor answers at once when it runs; otherwise this process asks systemd and podman.
    const remote = (await askControl(config.socketPath, { cmd: 'status' }, 30_000).catch(() => undefined)) as
      AppStatus[] | undefined;
    const apps = remote ?? (await withRuntime(config, (rt) => appStatuses(rt)));
    if (one === undefined) {
      if (options.json) io.out(JSON.stringify(apps, null, 2));
      else {
        printTable(apps, config, io);
        const retry = remote ? await passRetryLine(config) : undefined;
        if (retry) io.out(printable(retry));
        for (const l of await notifyStatusLines(config.notifyFile, config.dataDir)) io.out(printable(l));
        const doctor = await hostProblems(config);
        if (doctor) io.out(doctor);
        const settings = await settingsStatusLine(config.dataDir, { bootedAt: Date.now() - uptime() * 1000 });
        if (settings) io.out(printable(settings));
        const os = await readOsFactsQuick({
          release: config.os.release,
          espDir: config.os.espDir,
          stateDir: join(config.dataDir, 'os'),
        });
        const osLine = os && osStatusLine(osStatus(os));
        if (osLine) io.out(printable(osLine));
      }
      return EXIT_OK;
    }
    const a = apps.find((x) => x.app === one);
    if (!a) throw new UserError(`no app named '${one}': 'berth status' lists the apps`);
    const recipe = (
      await loadRecipes([config.recipesDir], checkContext(config)).catch(() => undefined)
    )?.apps.find((x) => x.name === one);
    const hide = await redactorFor(recipe, one, config.dataDir, config.hostname);
    const lines = displayLines(await readAppOutput(one, outputSource(config), 5 * DETAIL_LINES))
      .slice(-DETAIL_LINES)
      .map(hide);
    if (options.json) io.out(JSON.stringify({ ...a, lines }, null, 2));
    else printDetail(a, lines, io);
    return EXIT_OK;
  },
};
