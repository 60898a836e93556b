import type { ApplyReport } from '../../exec/report.js';
import { describeStep } from '../../plan/steps.js';
import { formatDiagnostic } from '../../recipe/diagnostics.js';
import { askControl } from '../../supervisor/control.js';
import { type Command, EXIT_FAILED, EXIT_OK } from '../command.js';

export const applyCommand: Command = {
  name: 'apply',
  summary: 'make the running apps match the recipes (only what changed)',
  usage: 'berth apply [--json] [--local]',
  help: 'Invalid recipes are reported and their apps keep running as before.\nWhen the supervisor runs, it does the apply (one at a time); --local applies from this process.',
  options: { json: { type: 'boolean' }, local: { type: 'boolean' } },
  async run(ctx) {
    const { config, options, io } = ctx;
    if (!options.local) {
      const report = (await askControl(config.socketPath, { cmd: 'apply' })) as ApplyReport | undefined;
      if (report) {
        if (options.json) io.out(JSON.stringify(report, null, 2));
        else {
          for (const s of report.steps) io.out(`${'app' in s ? `${s.app}: ` : ''}${describeStep(s)}`);
          for (const f of report.failed)
            io.out(`${'app' in f.step ? `${f.step.app}: ` : ''}FAILED ${describeStep(f.step)}: ${f.error}`);
          for (const d of report.invalid) io.out(formatDiagnostic(d));
          io.err(
            `applied by the supervisor: ${report.steps.length} steps, ${report.failed.length} failed, ${report.invalid.length} recipe errors`,
          );
        }
        return report.failed.length > 0 || report.invalid.length > 0 ? EXIT_FAILED : EXIT_OK;
      }
    }
    // Loaded only when this process applies: the supervisor path needs none of it.
    const { applyLocally } = await import('./apply-local.js');
    return applyLocally(ctx);
  },
};
