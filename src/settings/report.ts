// berth/REPORT.txt: what the last import did, in words, for someone who put the disk back
// into their laptop to see why. CRLF line ends so every OS's plain editor shows it. Pure.
import type { ImportOutcome } from './record.js';

export interface ReportHost {
  name: string;
  addresses: string[];
  version: string;
}

export interface ReportApp {
  app: string;
  state: string;
  ports: string[];
  lastError?: string;
}

/** Text from the partition could hold terminal escapes: shown as '?'. */
export const printable = (line: string): string => line.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

/** A folder can hold any number of stray files: the report names this many, then counts the rest. */
export const MAX_LISTED = 20;

const capped = (names: readonly string[], max: number) =>
  names.length > max ? `${names.slice(0, max).join(', ')} and ${names.length - max} more` : names.join(', ');

export function renderReport(o: ImportOutcome, host: ReportHost, apps?: readonly ReportApp[]): string {
  const out: string[] = [];
  const when = o.at.replace('T', ' ').slice(0, 16);
  out.push('berth: what the last boot did with this folder');
  out.push(`Written ${when} UTC by berth ${host.version}. It is written again at every boot.`, '');
  out.push('This machine');
  out.push(`  Name:         ${host.name}  (${host.name}.local on the network)`);
  out.push(
    `  Addresses:    ${host.addresses.length ? host.addresses.join(', ') : 'none yet (is the network cable in?)'}`,
  );
  out.push(
    `  Status page:  http://${host.name}.local/${host.addresses[0] ? `  or  http://${host.addresses[0]}/` : ''}`,
  );
  const login =
    o.keys > 0
      ? `ssh root@${host.name}.local  (${o.keys} key${o.keys === 1 ? '' : 's'} from authorized_keys`
      : 'SSH takes keys only, and none is set (put yours in authorized_keys';
  out.push(`  SSH:          ${login}; password login ${o.sshPasswordLogin ? 'on' : 'off'})`);
  if (o.oneTimePassword)
    out.push('  Console:      log in as root with the one-time password shown on the screen');
  out.push('');
  out.push(o.done.length ? 'Done at this boot' : 'Nothing new to do at this boot');
  for (const d of o.done) out.push(`  ${d}`);
  if (o.failed.length) {
    out.push('', 'Could not be done (the rest was)');
    for (const f of o.failed) out.push(`  ${f.what}: ${f.error}`);
  }
  if (o.problems.length) {
    out.push('', 'Not taken: fix these files, and the next boot takes them (nothing else was held back)');
    for (const p of o.problems) {
      out.push(`  ${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`);
      if (p.source !== undefined) out.push(`      ${p.source.trim().slice(0, 160)}`);
    }
  }
  for (const n of o.notes) out.push('', `Note: ${n}`);
  if (o.unchanged.length) out.push('', `Unchanged since taken: ${o.unchanged.join(', ')}`);
  if (o.ignored.length)
    out.push(
      '',
      `Not settings berth knows, left alone: ${capped(o.ignored, MAX_LISTED)} (see README.txt for the names)`,
    );
  if (apps) {
    out.push('', 'Apps');
    const w = Math.max(4, ...apps.map((a) => a.app.length));
    for (const a of apps)
      out.push(
        `  ${a.app.padEnd(w)}  ${a.state}${a.ports.length ? `  ${a.ports.join(', ')}` : ''}${a.lastError ? `  (${a.lastError})` : ''}`,
      );
    if (apps.length === 0) out.push('  none yet: put recipes in the recipes folder');
  }
  return `${out.map(printable).join('\r\n')}\r\n`;
}
