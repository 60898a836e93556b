// What `berth import compose` tells a person: a table of what each service became, then
// the messages grouped by what they ask of the reader (errors to fix, power granted over
// the host, what needs their action, what was mapped). Pure: lines in, lines out.
import { formatComposeMessage, type ImportResult } from './import.js';
import type { ComposeMessage } from './load.js';

const GROUPS: [ComposeMessage['level'], string][] = [
  ['error', 'Errors (nothing was written):'],
  ['loud', 'Power over the host (read before you run it):'],
  ['warning', 'Needs your action (the import chose a safe default):'],
  ['info', 'Mapped (what the import did for you):'],
];

const pad = (rows: string[][]) => {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) =>
    r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  '),
  );
};

/** The service a message is about (services.NAME.…), if any. */
const serviceOf = (m: ComposeMessage) => /^services\.([^.[]+)/.exec(m.path ?? '')?.[1];

export function importSummary(r: ImportResult, opts: { dryRun?: boolean } = {}): string[] {
  const lines: string[] = [];
  if (r.apps.length) {
    const count = (service: string, level: ComposeMessage['level']) =>
      r.messages.filter((m) => m.level === level && serviceOf(m) === service).length;
    const rows = [['service', 'app', 'recipe', 'action', 'mapped']];
    for (const a of r.apps)
      rows.push([
        a.service,
        a.app,
        a.file,
        String(count(a.service, 'warning')),
        String(count(a.service, 'info')),
      ]);
    lines.push(...pad(rows), '');
  }
  for (const [level, title] of GROUPS) {
    const ms = r.messages.filter((m) => m.level === level);
    if (!ms.length) continue;
    lines.push(title, ...ms.map((m) => `  ${formatComposeMessage(m)}`), '');
  }
  if (r.taken.length)
    lines.push(
      opts.dryRun ? 'Data that would be taken:' : 'Data taken:',
      ...r.taken.map((t) => `  ${t.from} → ${t.to} (${t.move ? 'moved' : 'copied'})`),
      '',
    );
  if (opts.dryRun && r.recipes.length)
    for (const rec of r.recipes) lines.push(`--- ${rec.file} (not written: --dry-run)`, rec.text);
  while (lines.at(-1) === '') lines.pop();
  return lines;
}
