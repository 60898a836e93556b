// Notifications decided without I/O: which events a channel takes, one message per incident
// start and end, bursts gathered into one bounded message, quiet hours, notify.yaml errors
// at file:line:col, and the webhook signature.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type BerthEvent, type EventKind, makeEvent } from '../../src/events/types.js';
import {
  admit,
  type BatchState,
  batchDue,
  inQuietHours,
  render,
  SHOWN_EVENTS,
} from '../../src/notify/batch.js';
import { type Channel, NotifySettingsSchema } from '../../src/notify/settings.js';
import { webhookSignature } from '../../src/notify/send.js';
import { parseSettingsYaml } from '../../src/yamlfile/parse.js';

const channel = (extra: Partial<Channel> = {}): Channel =>
  ({ type: 'ntfy', url: 'https://ntfy.example', topic: 't', min_severity: 'warning', ...extra }) as Channel;
const ev = (kind: EventKind, subject = 'web', at = 0): BerthEvent =>
  makeEvent(kind, subject, 'why', new Date(at));
const feed = (ch: Channel, events: BerthEvent[], t = 0): BatchState =>
  events.reduce<BatchState>((st, e) => admit(st, ch, e, t), { open: [] });

describe('which events a channel takes', () => {
  const cases: [string, Partial<Channel>, EventKind[], number][] = [
    ['an incident start at or above the minimum', {}, ['app-failed'], 1],
    ['a notice below the minimum is left out', {}, ['update-applied'], 0],
    ['info and up when asked', { min_severity: 'info' }, ['update-applied'], 1],
    ['the same incident twice is one message', {}, ['app-failed', 'app-failed', 'app-failed'], 1],
    ['start and end, even though the end is only info', {}, ['app-failed', 'app-recovered'], 2],
    ['a lone end (its start was never sent) is not sent', {}, ['app-recovered'], 0],
    [
      'a second incident after the first ended is told again',
      {},
      ['app-failed', 'app-recovered', 'app-failed'],
      3,
    ],
    ['only the kinds listed', { events: ['os-rolled-back'] }, ['app-failed', 'os-rolled-back'], 1],
    ['a test message always', { events: ['os-rolled-back'] }, ['notify-test'], 1],
  ];
  it.each(cases)('%s', (_, extra, kinds, n) => {
    expect(
      feed(
        channel(extra),
        kinds.map((k) => ev(k)),
      ).batch?.total ?? 0,
    ).toBe(n);
  });

  it('incidents are per app', () => {
    const st = feed(channel(), [ev('app-failed', 'a'), ev('app-failed', 'b'), ev('app-failed', 'a')]);
    expect(st.batch?.total).toBe(2);
    expect(st.open).toEqual(['app:a', 'app:b']);
  });
});

describe('when a batch goes out', () => {
  const ch = channel();
  const at = (ms: number) => new Date(Date.UTC(2026, 11, 7, 12, 0, 0) + ms);
  const base = Date.UTC(2026, 11, 7, 12, 0, 0);
  it('after 5 s with nothing new, or a minute after its first event', () => {
    let st = admit({ open: [] }, ch, ev('app-failed', 'a'), base);
    expect(batchDue(st, ch, at(4_999))).toBe(false);
    expect(batchDue(st, ch, at(5_000))).toBe(true);
    // A burst that keeps coming: still one message, at most a minute late.
    for (let s = 1; s < 70; s++) st = admit(st, ch, ev('app-failed', `app${s}`), base + s * 1000);
    expect(batchDue(st, ch, at(59_999))).toBe(false);
    expect(batchDue(st, ch, at(60_000))).toBe(true);
    expect(st.batch?.total).toBe(70);
  });

  it('quiet hours hold all but critical messages, across midnight', () => {
    const quiet = channel({ quiet_hours: { from: '22:00', to: '07:00' } });
    const local = (h: number, m = 0) => new Date(2026, 11, 7, h, m);
    expect(inQuietHours(quiet, local(23))).toBe(true);
    expect(inQuietHours(quiet, local(6, 59))).toBe(true);
    expect(inQuietHours(quiet, local(7))).toBe(false);
    expect(inQuietHours(quiet, local(21, 59))).toBe(false);
    const t = local(23).getTime();
    const warning = admit({ open: [] }, quiet, ev('disk-nearly-full', 'sda', t), t);
    expect(batchDue(warning, quiet, new Date(t + 10_000))).toBe(false);
    expect(batchDue(warning, quiet, new Date(2026, 11, 8, 7, 1))).toBe(true);
    const critical = admit(warning, quiet, ev('app-failed', 'web', t), t);
    expect(batchDue(critical, quiet, new Date(t + 10_000))).toBe(true);
  });
});

describe('the message', () => {
  it('one event: its own title', () => {
    const st = feed(channel(), [ev('app-failed', 'web')]);
    expect(render(st.batch!, 'nas')).toMatchObject({
      title: 'nas: web is failing',
      severity: 'critical',
      events: 1,
    });
  });

  it('a 10,000-event burst is one message of bounded size that counts the rest', () => {
    let st: BatchState = { open: [] };
    const ch = channel({ min_severity: 'info' });
    for (let i = 0; i < 10_000; i++)
      st = admit(st, ch, ev(i % 2 ? 'update-applied' : 'app-failed', `a${i}`), i);
    expect(st.batch!.shown).toHaveLength(SHOWN_EVENTS);
    const m = render(st.batch!, 'nas');
    expect(m.title).toBe('nas: 10000 events');
    expect(m.body).toContain('… and 9980 more (in all: app-failed ×5000, update-applied ×5000)');
    expect(m.body.length).toBeLessThan(4096);
  });
});

describe('notify.yaml', () => {
  const parse = (text: string) => parseSettingsYaml('/etc/berth/notify.yaml', text, NotifySettingsSchema);
  it('takes a good file with defaults', () => {
    const r = parse('channels:\n  phone: {type: ntfy, url: "https://ntfy.sh", topic: nas-alerts}\n');
    expect(r.value?.channels.phone).toMatchObject({ min_severity: 'warning', type: 'ntfy' });
  });
  it.each([
    [
      'channels:\n  phone:\n    type: ntfy\n    url: ftp://x\n    topic: t\n',
      4,
      10,
      'channels.phone.url',
      /http:\/\/ or https:\/\//,
    ],
    [
      'channels:\n  mail:\n    type: email\n    host: smtp.example\n    from: a@b.example\n',
      3,
      5,
      'channels.mail.to',
      /missing required key 'to'/,
    ],
    [
      'channels:\n  hook: {type: webhook, url: "https://h.example", evnts: [app-failed]}\n',
      2,
      51,
      undefined,
      /unknown key 'evnts'/,
    ],
    [
      'channels:\n  phone: {type: ntfy, url: "https://n.example", topic: t, events: [app-exploded]}\n',
      2,
      68,
      'channels.phone.events[0]',
      /Invalid option/,
    ],
    [
      'channels:\n  p: {type: ntfy, url: "https://n.example", topic: t, quiet_hours: {from: "25:00", to: "07:00"}}\n',
      2,
      75,
      'channels.p.quiet_hours.from',
      /HH:MM/,
    ],
    ['channels: [\n', 2, 1, undefined, /YAML syntax/],
  ])('%#: a mistake is located', (text, line, col, field, message) => {
    const r = parse(text);
    expect(r.value).toBeUndefined();
    const d = r.diagnostics[0]!;
    expect(d.message).toMatch(message);
    expect([d.file, d.line, d.col]).toEqual(['/etc/berth/notify.yaml', line, col]);
    if (field) expect(d.field).toBe(field);
  });
});

it('webhook signature: Standard Webhooks, over id.timestamp.body with the whsec_ key decoded', () => {
  const key = Buffer.from('0123456789abcdef0123');
  const sig = webhookSignature(`whsec_${key.toString('base64')}`, 'msg_1', 1700000000, '{"a":1}');
  const want = createHmac('sha256', key).update('msg_1.1700000000.{"a":1}').digest('base64');
  expect(sig).toBe(`v1,${want}`);
});
