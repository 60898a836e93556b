// What `berth status` and the page say about notifications: a notify.yaml with errors
// (nothing is sent until it is fixed), and channels that keep failing.
import { readFile } from 'node:fs/promises';
import { formatDiagnostic } from '../recipe/diagnostics.js';
import { type ChannelHealth, healthPath, readSettings } from './notifier.js';

export async function notifyStatusLines(notifyFile: string, dataDir: string): Promise<string[]> {
  const { diagnostics } = await readSettings(notifyFile);
  const lines = diagnostics.map(
    (d) =>
      `notifications: ${formatDiagnostic({ ...d, source: undefined }).split('\n')[0]} — the last good settings stay in force`,
  );
  const health = JSON.parse(await readFile(healthPath(dataDir), 'utf8').catch(() => '[]')) as ChannelHealth[];
  for (const h of Array.isArray(health) ? health : [])
    if (!h.ok)
      lines.push(
        `notifications: channel ${h.channel} failing since ${h.failingSince ?? h.at ?? '?'}: ${h.error ?? 'unknown error'}${h.queued ? ` (${h.queued} waiting)` : ''}; 'berth notify test ${h.channel}' tries it`,
      );
  return lines;
}
