import { doctorOk, runChecks } from '../../doctor/checks.js';
import { hostDeps } from '../../doctor/deps.js';
import { doctorJson, formatReport } from '../../doctor/report.js';
import { type Command, EXIT_FAILED, EXIT_OK } from '../command.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check that this machine has what berth needs, and say what to fix',
  usage: 'berth doctor [--json] [--root DIR]',
  help: [
    'One line per check: ok, warn or fail, with what to do under each warn and fail. Changes nothing.',
    '--root DIR checks the files of another root (e.g. a debootstrapped tree) only: no D-Bus,',
    'no podman runs, no ports; its recipes are --recipes DIR if given, else DIR/etc/berth/recipes.',
    'Exit status: 0 when nothing fails (warnings allowed), 1 otherwise.',
  ].join('\n'),
  options: { json: { type: 'boolean' }, root: { type: 'string' } },
  async run({ config, options, io }) {
    const root = typeof options.root === 'string' ? options.root : undefined;
    const deps = hostDeps({
      config,
      ...(root !== undefined ? { root } : {}),
      ...(typeof options.recipes === 'string' ? { recipes: options.recipes } : {}),
    });
    const results = await runChecks(deps);
    if (options.json) io.out(JSON.stringify(doctorJson(results), null, 2));
    else
      for (const line of formatReport(
        results,
        deps.staticOnly
          ? `berth doctor: static checks of the root ${deps.root} (paths inside it)`
          : undefined,
      ))
        io.out(line);
    return doctorOk(results) ? EXIT_OK : EXIT_FAILED;
  },
};
