// logs and exec hand the terminal to podman for the app's container. When there is no
// container (it never started, or --rm removed it after a crash), logs shows the unit's
// output instead, where podman's own errors and the container's last lines are.
import { spawn } from 'node:child_process';
import type { Config } from '../../config.js';
import { appPaths, containerName } from '../../render/paths.js';
import { Podman } from '../../podman/podman.js';
import { outputSource } from '../../status/why.js';
import { followAppFiles, journalArgv, readAppOutput } from '../../status/output.js';
import { displayLines } from '../../status/reason.js';
import { type Command, EXIT_OK, type Io, UsageError } from '../command.js';
import { appArg } from '../connect.js';

function handOver(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
    child.on('error', () => resolve(127));
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/** Lines of the unit's output shown when there is no container. */
const FALLBACK_LINES = 200;

/** The unit's output from the app's log files (no journald), then new lines as they come with -f. */
async function showFiles(app: string, config: Config, follow: boolean, io: Io): Promise<number> {
  const src = outputSource(config);
  for (const l of displayLines(await readAppOutput(app, src, FALLBACK_LINES))) io.out(l);
  if (!follow) return EXIT_OK;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await followAppFiles(
      app,
      config.dataDir,
      (l) => displayLines([l]).forEach((t) => io.out(t)),
      stop.signal,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return EXIT_OK;
}

export const logsCommand: Command = {
  name: 'logs',
  summary: "show an app's output (-f to follow)",
  usage: 'berth logs APP [-f]',
  help: "Without a container (it never started, or was removed after a crash): the unit's output.",
  options: { follow: { type: 'boolean', short: 'f' } },
  async run({ config, positionals, options, io }) {
    if (positionals.length !== 1) throw new UsageError('logs takes one APP');
    const app = appArg(positionals[0]);
    const follow = Boolean(options.follow);
    const podman = new Podman([config.podman]);
    // A container that never ran (podman failed to start it) has no output of its own.
    const c = await podman.inspect(containerName(app));
    if (c && c.State.Status !== 'created' && c.State.Status !== 'configured')
      return handOver(podman.logsArgv(containerName(app), follow));
    const src = outputSource(config);
    const where = src.target === 'journal' ? 'the journal' : appPaths(config.dataDir, app).logDir;
    io.err(`berth: container ${containerName(app)} never ran or is gone; its unit's output (${where}):`);
    if (src.target === 'journal') return handOver(journalArgv(app, { follow, lines: FALLBACK_LINES }));
    return showFiles(app, config, follow, io);
  },
};

export const execCommand: Command = {
  name: 'exec',
  summary: "run a command inside an app's container",
  usage: 'berth exec APP -- CMD [ARG...]',
  async run({ config, positionals, io }) {
    const [app, ...cmd] = positionals;
    if (!app || cmd.length === 0) throw new UsageError('exec needs an APP and a command after --');
    return handOver(new Podman([config.podman]).execArgv(containerName(appArg(app)), cmd, io.isTty));
  },
};
