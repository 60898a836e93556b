// logs and exec hand the terminal to podman for the app's container.
import { spawn } from 'node:child_process';
import { containerName } from '../../render/paths.js';
import { Podman } from '../../podman/podman.js';
import { type Command, UsageError } from '../command.js';
import { appArg } from '../connect.js';

function handOver(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
    child.on('error', () => resolve(127));
    child.on('close', (code) => resolve(code ?? 1));
  });
}

export const logsCommand: Command = {
  name: 'logs',
  summary: "show an app's output (-f to follow)",
  usage: 'berth logs APP [-f]',
  options: { follow: { type: 'boolean', short: 'f' } },
  async run({ config, positionals, options }) {
    if (positionals.length !== 1) throw new UsageError('logs takes one APP');
    return handOver(
      new Podman([config.podman]).logsArgv(containerName(appArg(positionals[0])), Boolean(options.follow)),
    );
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
