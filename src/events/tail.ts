// Reading the event log as it grows: any berth process appends events (the supervisor, a
// `berth update` run from a shell, the OS update); the notifier follows the file from a
// cursor it keeps, so an event written anywhere is told once, also across restarts.
import { open, stat } from 'node:fs/promises';
import { watch } from 'node:fs';
import { eventLogPath } from './log.js';
import type { BerthEvent } from './types.js';

/** Where reading stopped: the newest time seen, and the events at exactly that time. */
export interface Cursor {
  at: string;
  ids: string[];
}

const after = (c: Cursor | undefined, e: BerthEvent) =>
  !c || e.at > c.at || (e.at === c.at && !c.ids.includes(e.id));

function advance(c: Cursor | undefined, e: BerthEvent): Cursor {
  if (!c || e.at > c.at) return { at: e.at, ids: [e.id] };
  return e.at === c.at ? { at: c.at, ids: [...c.ids, e.id] } : c;
}

export class EventTail {
  /** Bytes of the file read so far (complete lines only). */
  private offset = 0;

  constructor(
    private readonly dataDir: string,
    private cursor?: Cursor,
  ) {}

  position(): Cursor | undefined {
    return this.cursor;
  }

  /** Events after the cursor. Reads only what was appended since, unless the file was trimmed. */
  async next(): Promise<BerthEvent[]> {
    const path = eventLogPath(this.dataDir);
    const size = (await stat(path).catch(() => undefined))?.size ?? 0;
    if (size < this.offset) this.offset = 0; // trimmed (rewritten shorter): read it again, the cursor filters
    if (size === this.offset) return [];
    const fh = await open(path, 'r');
    let text: string;
    try {
      const buf = Buffer.alloc(size - this.offset);
      await fh.read(buf, 0, buf.length, this.offset);
      text = buf.toString('utf8');
    } finally {
      await fh.close();
    }
    const complete = text.lastIndexOf('\n') + 1;
    this.offset += Buffer.byteLength(text.slice(0, complete));
    const out: BerthEvent[] = [];
    for (const line of text.slice(0, complete).split('\n')) {
      let e: BerthEvent;
      try {
        e = JSON.parse(line) as BerthEvent;
      } catch {
        continue;
      }
      if (!after(this.cursor, e)) continue;
      this.cursor = advance(this.cursor, e);
      out.push(e);
    }
    return out;
  }
}

/** Calls back (debounced) when the event log changes; returns the stop. */
export function watchEventLog(dir: string, onChange: () => void, debounceMs = 200): () => void {
  let timer: NodeJS.Timeout | undefined;
  let w: ReturnType<typeof watch> | undefined;
  try {
    w = watch(dir, () => {
      clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    });
    w.on('error', () => {});
  } catch {
    // No events folder yet: the notifier's own events still go through emit().
  }
  return () => {
    clearTimeout(timer);
    w?.close();
  };
}
