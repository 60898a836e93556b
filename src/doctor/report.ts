// How doctor's results read: one line per check (status, id, summary), the fix under each
// warn and fail, and a last line with the count; or JSON {checks, ok}.
import type { CheckResult } from './types.js';

export interface DoctorJson {
  checks: CheckResult[];
  ok: boolean;
}

export function doctorJson(checks: readonly CheckResult[]): DoctorJson {
  return { checks: [...checks], ok: checks.every((c) => c.status !== 'fail') };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatReport(checks: readonly CheckResult[], header?: string): string[] {
  const width = Math.max(0, ...checks.map((c) => c.id.length));
  const lines = header ? [header] : [];
  for (const c of checks) {
    lines.push(`${c.status.padEnd(4)}  ${c.id.padEnd(width)}  ${c.summary}`);
    if (c.fix && c.status !== 'ok') lines.push(`${' '.repeat(width + 8)}→ ${c.fix}`);
  }
  const fails = checks.filter((c) => c.status === 'fail').length;
  const warns = checks.filter((c) => c.status === 'warn').length;
  lines.push(
    fails + warns === 0
      ? `all ${plural(checks.length, 'check')} passed`
      : `${plural(fails, 'failure')}, ${plural(warns, 'warning')} in ${plural(checks.length, 'check')}`,
  );
  return lines;
}
