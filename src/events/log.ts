// The event log: the last events, kept on disk (root-only) so `berth events` and the page
// can list them after a restart. Appended a line at a time; trimmed to the newest when it
// grows past its bound, by writing beside and renaming (never half-written).
import { appendFile, chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BerthEvent } from './types.js';

/** How many events the log keeps (trimmed to KEEP when it passes KEEP + SLACK). */
export const KEEP_EVENTS = 1000;
const SLACK = 500;

export const eventLogPath = (dataDir: string) => join(dataDir, 'events', 'events.jsonl');

function parseLines(text: string): BerthEvent[] {
  const out: BerthEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as BerthEvent);
    } catch {
      // A line cut by a crash: the others still count.
    }
  }
  return out;
}

export async function readEvents(dataDir: string, since?: Date): Promise<BerthEvent[]> {
  const text = await readFile(eventLogPath(dataDir), 'utf8').catch(() => '');
  const all = parseLines(text);
  return since ? all.filter((e) => Date.parse(e.at) >= since.getTime()) : all;
}

export interface EventLog {
  append(e: BerthEvent): Promise<void>;
}

export function openEventLog(dataDir: string): EventLog {
  const path = eventLogPath(dataDir);
  let lines: number | undefined;
  // Appends one after another, so a trim never races an append.
  let chain: Promise<void> = Promise.resolve();
  const trim = async () => {
    const kept = (await readEvents(dataDir)).slice(-KEEP_EVENTS);
    await writeFile(`${path}.new`, kept.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
    await rename(`${path}.new`, path);
    lines = kept.length;
  };
  const append = async (e: BerthEvent) => {
    if (lines === undefined) {
      // Once per run: the folder, the file's mode (an older file may be looser), its length.
      await mkdir(join(dataDir, 'events'), { recursive: true, mode: 0o700 });
      await chmod(path, 0o600).catch(() => undefined);
      lines = (await readEvents(dataDir)).length;
    }
    await appendFile(path, `${JSON.stringify(e)}\n`, { mode: 0o600 });
    if (++lines > KEEP_EVENTS + SLACK) await trim();
  };
  return {
    append(e) {
      const p = chain.then(() => append(e));
      chain = p.catch(() => undefined);
      return p;
    },
  };
}
