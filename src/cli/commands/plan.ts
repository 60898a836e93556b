import { describeStep } from '../../plan/steps.js';
import { formatDiagnostic } from '../../recipe/diagnostics.js';
import { computePlan } from '../../runtime.js';
import { type Command, EXIT_OK } from '../command.js';
import { withRuntime } from '../connect.js';
import { powerOverHost } from '../../recipe/power.js';

export const planCommand: Command = {
  name: 'plan',
  summary: 'show what apply would change, step by step, without changing anything',
  usage: 'berth plan [--json]',
  options: { json: { type: 'boolean' } },
  async run({ config, options, io }) {
    const p = await withRuntime(config, computePlan);
    if (options.json) {
      io.out(
        JSON.stringify(
          { steps: p.steps, invalid: p.recipes.diagnostics.map(({ source: _s, ...d }) => d) },
          null,
          2,
        ),
      );
      return EXIT_OK;
    }
    for (const d of p.recipes.diagnostics) io.out(formatDiagnostic(d));
    // Power over the host, loudly: privileged, podman's socket, host paths, security options, …
    for (const d of p.desired.filter((x) => x.app.enabled))
      for (const grant of powerOverHost(d.app)) io.out(`!! ${d.app.name} ${grant} in ${d.app.file}`);
    if (p.steps.length === 0) io.out('nothing to do: every app is as its recipe says');
    for (const s of p.steps) io.out(`${'app' in s ? `${s.app}: ` : ''}${describeStep(s)}`);
    return EXIT_OK;
  },
};
