// start / stop / restart APP: the app's unit, through the manager, waiting for the job.
import { unitName } from '../../render/paths.js';
import { type Command, EXIT_FAILED, EXIT_OK, UsageError } from '../command.js';
import { appArg, withRuntime } from '../connect.js';

const DONE = { start: 'started', stop: 'stopped', restart: 'restarted' } as const;

function unitCommand(verb: 'start' | 'stop' | 'restart', summary: string): Command {
  return {
    name: verb,
    summary,
    usage: `berth ${verb} APP`,
    async run({ config, positionals, io }) {
      if (positionals.length !== 1) throw new UsageError(`${verb} takes one APP`);
      const unit = unitName(appArg(positionals[0]));
      const result = await withRuntime(config, async (rt) => {
        const st = await rt.systemd.state(unit);
        if (st.loadState !== 'loaded')
          return `no such app: ${unit} is not loaded (is there a recipe, and was it applied?)`;
        if (verb !== 'stop') await rt.systemd.resetFailed(unit);
        return rt.systemd[verb](unit);
      });
      if (result !== 'done') {
        io.err(`berth: ${verb} ${unit}: ${result}`);
        return EXIT_FAILED;
      }
      io.err(`${DONE[verb]} ${unit}`);
      return EXIT_OK;
    },
  };
}

export const startCommand = unitCommand('start', "start an app's unit");
export const stopCommand = unitCommand('stop', "stop an app's unit (until the next boot or start)");
export const restartCommand = unitCommand('restart', "restart an app's unit");
