// berth's events: one vocabulary for everything that may need a person, used by every part
// of berth that notices something (the supervisor, updates, the OS, disks, backups) and by
// everything that tells (the event log, notifications, the page).
import { randomBytes } from 'node:crypto';

export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];
export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

/**
 * An incident has a start and an end (an app failing, then recovered); a notice stands
 * alone. One message when an incident starts and one when it ends, however often it recurs
 * in between.
 */
interface KindInfo {
  severity: Severity;
  incident?: { of: string; phase: 'start' | 'end' };
  /** The title's wording, with the app or subject filled in. */
  title: (subject: string) => string;
}

export const EVENT_KINDS = {
  'app-failed': {
    severity: 'critical',
    incident: { of: 'app', phase: 'start' },
    title: (s) => `${s} is failing`,
  },
  'app-recovered': {
    severity: 'info',
    incident: { of: 'app', phase: 'end' },
    title: (s) => `${s} recovered`,
  },
  'health-failing': {
    severity: 'warning',
    incident: { of: 'health', phase: 'start' },
    title: (s) => `${s}: health check failing`,
  },
  'health-recovered': {
    severity: 'info',
    incident: { of: 'health', phase: 'end' },
    title: (s) => `${s}: health check passes again`,
  },
  'update-available': { severity: 'info', title: (s) => `${s}: update available` },
  'update-applied': { severity: 'info', title: (s) => `${s} updated` },
  'update-rolled-back': { severity: 'warning', title: (s) => `${s}: update rolled back` },
  'os-update-installed': { severity: 'info', title: () => 'OS update installed' },
  'os-booted': { severity: 'info', title: () => 'booted a new OS version' },
  'os-rolled-back': { severity: 'critical', title: () => 'OS update rolled back' },
  'backup-failed': { severity: 'warning', title: (s) => `backup of ${s} failed` },
  'backup-stale': { severity: 'warning', title: (s) => `backup of ${s} is stale` },
  'drill-failed': { severity: 'warning', title: (s) => `restore drill of ${s} failed` },
  'disk-nearly-full': {
    severity: 'warning',
    incident: { of: 'disk-space', phase: 'start' },
    title: (s) => `disk ${s} is nearly full`,
  },
  'disk-space-ok': {
    severity: 'info',
    incident: { of: 'disk-space', phase: 'end' },
    title: (s) => `disk ${s} has room again`,
  },
  'disk-smart-bad': {
    severity: 'critical',
    incident: { of: 'disk-smart', phase: 'start' },
    title: (s) => `disk ${s} reports trouble (SMART)`,
  },
  'disk-smart-ok': {
    severity: 'info',
    incident: { of: 'disk-smart', phase: 'end' },
    title: (s) => `disk ${s} reports no trouble again (SMART)`,
  },
  'cert-expiring': { severity: 'warning', title: (s) => `certificate ${s} expires soon` },
  'recipe-invalid': {
    severity: 'warning',
    incident: { of: 'recipe', phase: 'start' },
    title: (s) => `recipe ${s} stopped validating`,
  },
  'recipe-valid': {
    severity: 'info',
    incident: { of: 'recipe', phase: 'end' },
    title: (s) => `recipe ${s} validates again`,
  },
  'notify-test': { severity: 'info', title: () => 'berth test message' },
} satisfies Record<string, KindInfo>;

export type EventKind = keyof typeof EVENT_KINDS;
export const EVENT_KIND_NAMES = Object.keys(EVENT_KINDS) as EventKind[];

export interface BerthEvent {
  /** Unique, sortable: the time and a counter. */
  id: string;
  /** ISO time. */
  at: string;
  kind: EventKind;
  severity: Severity;
  /** The app, disk, recipe file or certificate it is about ('' for the machine). */
  subject: string;
  title: string;
  /** One line of why, already redacted. */
  detail?: string;
}

/** The incident an event opens or closes (`app:web`), if it is part of one. */
export function incidentOf(
  e: Pick<BerthEvent, 'kind' | 'subject'>,
): { key: string; phase: 'start' | 'end' } | undefined {
  const info: KindInfo = EVENT_KINDS[e.kind];
  return info.incident ? { key: `${info.incident.of}:${e.subject}`, phase: info.incident.phase } : undefined;
}

/** A new event of a kind; its title and severity come from the vocabulary. */
export function makeEvent(kind: EventKind, subject: string, detail?: string, now = new Date()): BerthEvent {
  const info: KindInfo = EVENT_KINDS[kind];
  return {
    id: `${now.getTime().toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`,
    at: now.toISOString(),
    kind,
    severity: info.severity,
    subject,
    title: info.title(subject),
    ...(detail ? { detail } : {}),
  };
}
