// What a channel is sent, decided without I/O or a clock of its own (`now` is given):
// which events it takes, one message per incident start and end, a burst gathered into one
// message, and quiet hours. The notifier keeps a BatchState per channel.
import { type BerthEvent, incidentOf, type Severity, severityRank } from '../events/types.js';
import type { Channel } from './settings.js';

export interface BatchTiming {
  /** A batch is sent once no event joined it for this long... */
  settleMs: number;
  /** ...or once its first event is this old, whatever follows. */
  maxHoldMs: number;
}
export const DEFAULT_TIMING: BatchTiming = { settleMs: 5_000, maxHoldMs: 60_000 };

/** A batch shows this many events one by one; the rest are counted. */
export const SHOWN_EVENTS = 20;

export interface Batch {
  firstAt: number;
  lastAt: number;
  shown: BerthEvent[];
  /** Every event in the batch, by kind (the shown ones too). */
  counts: Record<string, number>;
  total: number;
  severity: Severity;
}

export interface BatchState {
  batch?: Batch;
  /** Incidents whose start this channel was sent, and not yet their end. */
  open: string[];
}

export interface Message {
  title: string;
  body: string;
  severity: Severity;
  /** Events the message covers. */
  events: number;
}

/** A batch of one event (a test message). */
export const batchOf = (e: BerthEvent): Batch => ({
  firstAt: 0,
  lastAt: 0,
  shown: [e],
  counts: { [e.kind]: 1 },
  total: 1,
  severity: e.severity,
});

/** Whether the channel takes the event, and the state after it. */
export function admit(state: BatchState, ch: Channel, e: BerthEvent, now: number): BatchState {
  if (ch.events && !ch.events.includes(e.kind) && e.kind !== 'notify-test') return state;
  const incident = incidentOf(e);
  let open = state.open;
  if (incident?.phase === 'start') {
    if (open.includes(incident.key)) return state;
    if (severityRank(e.severity) < severityRank(ch.min_severity)) return state;
    open = [...open, incident.key];
  } else if (incident?.phase === 'end') {
    // Told only to a channel that was told of the start: never a lone "recovered".
    if (!open.includes(incident.key)) return state;
    open = open.filter((k) => k !== incident.key);
  } else if (severityRank(e.severity) < severityRank(ch.min_severity) && e.kind !== 'notify-test')
    return state;
  return { open, batch: addTo(state.batch, e, now) };
}

function addTo(b: Batch | undefined, e: BerthEvent, now: number): Batch {
  const base: Batch = b ?? { firstAt: now, lastAt: now, shown: [], counts: {}, total: 0, severity: 'info' };
  return {
    firstAt: base.firstAt,
    lastAt: now,
    shown: base.shown.length < SHOWN_EVENTS ? [...base.shown, e] : base.shown,
    counts: { ...base.counts, [e.kind]: (base.counts[e.kind] ?? 0) + 1 },
    total: base.total + 1,
    severity: severityRank(e.severity) > severityRank(base.severity) ? e.severity : base.severity,
  };
}

/** Minutes since midnight, local time of the box. */
const minuteOfDay = (t: Date) => t.getHours() * 60 + t.getMinutes();
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

export function inQuietHours(ch: Channel, now: Date): boolean {
  if (!ch.quiet_hours) return false;
  const m = minuteOfDay(now);
  const from = minutes(ch.quiet_hours.from);
  const to = minutes(ch.quiet_hours.to);
  return from <= to ? m >= from && m < to : m >= from || m < to;
}

/** Whether the batch is to be sent now: not while it is still gathering, nor in quiet hours (unless critical). */
export function batchDue(
  state: BatchState,
  ch: Channel,
  now: Date,
  t: BatchTiming = DEFAULT_TIMING,
): boolean {
  const b = state.batch;
  if (!b) return false;
  const ms = now.getTime();
  const gathered = ms - b.lastAt >= t.settleMs || ms - b.firstAt >= t.maxHoldMs;
  if (!gathered) return false;
  return b.severity === 'critical' || !inQuietHours(ch, now);
}

/** The one message a batch becomes. */
export function render(b: Batch, hostname: string): Message {
  const one = b.total === 1 ? b.shown[0] : undefined;
  const title = one ? `${hostname}: ${one.title}` : `${hostname}: ${b.total} events`;
  const lines = b.shown.map(
    (e) => `${e.at.slice(0, 19).replace('T', ' ')} UTC  ${e.title}${e.detail ? `: ${e.detail}` : ''}`,
  );
  const more = b.total - b.shown.length;
  if (more > 0) {
    const byKind = Object.entries(b.counts)
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ');
    lines.push(`… and ${more} more (in all: ${byKind}); 'berth events' lists them`);
  }
  return { title, body: lines.join('\n'), severity: b.severity, events: b.total };
}
