import { applyReport } from '../../exec/report.js';
import { describeStep } from '../../plan/steps.js';
import { formatDiagnostic } from '../../recipe/diagnostics.js';
import { apply } from '../../runtime.js';
import { type CommandContext, EXIT_FAILED, EXIT_OK } from '../command.js';
import { withRuntime } from '../connect.js';
import { progressPrinter } from '../progress.js';

export async function applyLocally({ config, options, io }: CommandContext): Promise<number> {
  const t0 = performance.now();
  const progress = progressPrinter(io);
  const r = await withRuntime(config, (rt) =>
    apply(rt, (e) => {
      if (options.json) return;
      const prefix = 'step' in e && 'app' in e.step ? `${e.step.app}: ` : '';
      if (e.type === 'step-done') io.out(`${prefix}${describeStep(e.step)} (${Math.round(e.ms)} ms)`);
      if (e.type === 'step-failed') io.out(`${prefix}FAILED ${describeStep(e.step)}: ${e.error}`);
      if (e.type === 'progress') progress(e.app, e.line);
    }),
  );
  const invalid = r.recipes.results.filter((x) => !x.app).length;
  if (options.json) {
    io.out(JSON.stringify(applyReport(r.result, r.recipes.diagnostics), null, 2));
  } else {
    for (const d of r.recipes.diagnostics) io.out(formatDiagnostic(d));
    const ms = Math.round(performance.now() - t0);
    io.err(
      r.steps.length === 0
        ? `nothing to do (${ms} ms)`
        : `applied ${r.result.done.length} steps in ${ms} ms; ${r.result.failed.length} failed, ${invalid} invalid recipe${invalid === 1 ? '' : 's'}`,
    );
  }
  return r.result.failed.length > 0 || invalid > 0 ? EXIT_FAILED : EXIT_OK;
}
