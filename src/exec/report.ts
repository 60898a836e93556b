// What an apply reports, as plain data: the same whether this process applied or the
// supervisor did (over the control socket), so `berth apply --json` has one shape.
import type { Step } from '../plan/steps.js';
import type { Diagnostic } from '../recipe/diagnostics.js';
import type { ExecResult } from './executor.js';

export interface ApplyReport {
  steps: Step[];
  failed: { step: Step; error: string }[];
  skipped: Step[];
  /** Recipe problems, without the source lines. */
  invalid: Omit<Diagnostic, 'source'>[];
}

export function applyReport(result: ExecResult, diagnostics: readonly Diagnostic[]): ApplyReport {
  return {
    steps: result.done,
    failed: result.failed,
    skipped: result.skipped,
    invalid: diagnostics.map(({ source: _s, ...d }) => d),
  };
}
