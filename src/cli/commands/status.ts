import { askControl } from '../../supervisor/control.js';
import { type AppStatus, appStatuses, formatUptime } from '../../status.js';
import { type Command, EXIT_OK } from '../command.js';
import { withRuntime } from '../connect.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'show every app: state, health, uptime, restarts, ports, recipe errors',
  usage: 'berth status [--json]',
  options: { json: { type: 'boolean' } },
  async run({ config, options, io }) {
    // The supervisor answers at once when it runs; otherwise this process asks systemd and podman.
    const remote = (await askControl(config.socketPath, { cmd: 'status' }, 30_000).catch(() => undefined)) as
      AppStatus[] | undefined;
    const apps = remote ?? (await withRuntime(config, (rt) => appStatuses(rt)));
    if (options.json) {
      io.out(JSON.stringify(apps, null, 2));
      return EXIT_OK;
    }
    const rows = [
      ['APP', 'STATE', 'HEALTH', 'UPTIME', 'RESTARTS', 'PORTS'],
      ...apps.map((a) => [
        a.app,
        `${a.state}${a.subState && a.subState !== a.state ? ` (${a.subState})` : ''}${a.enabled ? '' : ' [disabled]'}${a.pending ? ' *' : ''}`,
        a.health ?? '-',
        formatUptime(a.uptimeSec),
        String(a.restarts),
        a.ports.join(', ') || (a.network === 'host' ? 'host network' : '-'),
      ]),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows)
      io.out(
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      );
    for (const a of apps)
      for (const e of a.errors)
        io.out(
          `${a.app}: recipe error: ${e.file}:${e.line}:${e.col}: ${e.message} — still running its last good version`,
        );
    for (const a of apps)
      for (const ad of a.advertised ?? []) io.out(`${a.app}: announced on the LAN as ${ad}`);
    if (apps.some((a) => a.pending)) io.out("* recipe changed since the last apply; run 'berth apply'");
    if (apps.length === 0) io.out(`no apps: put recipes in ${config.recipesDir}`);
    return EXIT_OK;
  },
};
