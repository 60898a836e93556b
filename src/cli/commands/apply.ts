import { type Command, EXIT_FAILED, EXIT_OK } from '../command.js';
import { askControl } from '../../supervisor/control.js';

interface RemoteResult {
  done: number;
  failed: { step: { kind: string; app?: string }; error: string }[];
  invalid: number;
}

export const applyCommand: Command = {
  name: 'apply',
  summary: 'make the running apps match the recipes (only what changed)',
  usage: 'berth apply [--json] [--local]',
  help: 'Invalid recipes are reported and their apps keep running as before.\nWhen the supervisor runs, it does the apply (one at a time); --local applies from this process.',
  options: { json: { type: 'boolean' }, local: { type: 'boolean' } },
  async run(ctx) {
    const { config, options, io } = ctx;
    if (!options.local) {
      const remote = (await askControl(config.socketPath, { cmd: 'apply' })) as RemoteResult | undefined;
      if (remote) {
        if (options.json) io.out(JSON.stringify(remote, null, 2));
        for (const f of remote.failed) io.out(`${f.step.app ?? ''}: FAILED ${f.step.kind}: ${f.error}`);
        io.err(
          `applied by the supervisor: ${remote.done} steps, ${remote.failed.length} failed, ${remote.invalid} recipe errors (berth validate shows them)`,
        );
        return remote.failed.length > 0 || remote.invalid > 0 ? EXIT_FAILED : EXIT_OK;
      }
    }
    // Loaded only when this process applies: the supervisor path needs none of it.
    const { applyLocally } = await import('./apply-local.js');
    return applyLocally(ctx);
  },
};
