// What the SMART check has to tell: a disk whose SMART health or error counters turn bad
// (an incident starts) and one that reports no trouble again (it ends), each once however
// often it flaps in between. A disk asleep or unreadable tells nothing: it keeps its state.
// Pure: readings in, events and what to remember out.
import type { EventKind } from '../events/types.js';
import type { SmartReading } from './smart.js';

export interface SmartTold {
  kind: Extract<EventKind, 'disk-smart-bad' | 'disk-smart-ok'>;
  subject: string;
  detail?: string;
}

export interface SmartSeen {
  /** The disk's device path: the events' subject. */
  subject: string;
  model?: string;
  reading: SmartReading;
}

/** The disks that were failing at the last reading that said anything. */
export type SmartMemory = ReadonlySet<string>;

export function smartEvents(
  prev: SmartMemory,
  seen: readonly SmartSeen[],
): { told: SmartTold[]; memory: SmartMemory } {
  const bad = new Set(prev);
  const told: SmartTold[] = [];
  for (const s of seen) {
    const { health, reasons } = s.reading;
    if (health === 'failing' && !bad.has(s.subject)) {
      bad.add(s.subject);
      const detail = [s.model, reasons.join('; ')].filter(Boolean).join(': ');
      told.push({ kind: 'disk-smart-bad', subject: s.subject, ...(detail ? { detail } : {}) });
    } else if (health === 'ok' && bad.has(s.subject)) {
      bad.delete(s.subject);
      told.push({ kind: 'disk-smart-ok', subject: s.subject, ...(s.model ? { detail: s.model } : {}) });
    }
  }
  return { told, memory: bad };
}
