// The notifier: every event goes to the event log and to each channel that wants it;
// batches become messages in the outbox, and the outbox is delivered with retries. It
// wakes only when something is due (no polling while nothing waits).
import { readFile, writeFile, rename, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Diagnostic } from '../recipe/diagnostics.js';
import { type EventLog, eventLogPath, openEventLog } from '../events/log.js';
import { type Cursor, EventTail, watchEventLog } from '../events/tail.js';
import { type BerthEvent, type EventKind, makeEvent } from '../events/types.js';
import { parseSettingsYaml } from '../yamlfile/parse.js';
import { admit, type BatchState, type BatchTiming, batchDue, DEFAULT_TIMING, render } from './batch.js';
import { Outbox, type OutboxEntry, type OutboxFs, outboxDir } from './outbox.js';
import { type SendDeps, type SendResult, send, sendTest } from './send.js';
import { NO_CHANNELS, type NotifySettings, NotifySettingsSchema } from './settings.js';

export interface ChannelHealth {
  channel: string;
  ok: boolean;
  /** When it last answered or failed (ISO). */
  at?: string;
  /** Since when it keeps failing (ISO). */
  failingSince?: string;
  error?: string;
  /** Messages waiting for it. */
  queued: number;
}

export interface NotifierDeps {
  dataDir: string;
  hostname: string;
  /** notify.yaml. */
  settingsPath: string;
  log: Logger;
  fetch?: typeof fetch;
  now?: () => Date;
  timing?: BatchTiming;
  outboxFs?: OutboxFs;
}

export interface Notifications {
  /** Records an event and tells the channels that want it. */
  emit(kind: EventKind, subject: string, detail?: string): Promise<BerthEvent>;
  /** Reads notify.yaml again; a file with errors changes nothing, and its errors are returned. */
  reload(): Promise<Diagnostic[]>;
  health(): ChannelHealth[];
  /** Sends a test message now to one channel (or all) and says what each server answered. */
  test(channel?: string): Promise<{ channel: string; result: SendResult }[]>;
  /** Takes events other processes wrote into the batches (also done when the log changes). */
  ingest(): Promise<void>;
  /** Does what is due now (batches to messages, messages to channels). */
  tick(): Promise<void>;
  close(): void;
}

const statePath = (dataDir: string) => join(dataDir, 'notify', 'state.json');
export const healthPath = (dataDir: string) => join(dataDir, 'notify', 'channels.json');

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(`${path}.tmp`, JSON.stringify(value), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

export async function readSettings(
  path: string,
): Promise<{ settings?: NotifySettings; diagnostics: Diagnostic[] }> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) =>
    e.code === 'ENOENT' ? undefined : '',
  );
  if (text === undefined) return { settings: NO_CHANNELS, diagnostics: [] };
  const r = parseSettingsYaml(path, text, NotifySettingsSchema);
  return r.value ? { settings: r.value, diagnostics: [] } : { diagnostics: r.diagnostics };
}

/** What the notifier keeps across restarts: open incidents per channel, and how far it read. */
interface SavedState {
  open: Record<string, string[]>;
  cursor?: Cursor;
}

async function readState(dataDir: string): Promise<SavedState> {
  try {
    const s = JSON.parse(await readFile(statePath(dataDir), 'utf8')) as Partial<SavedState>;
    const open = Object.fromEntries(
      Object.entries(s.open ?? {}).filter((e): e is [string, string[]] => Array.isArray(e[1])),
    );
    return { open, ...(s.cursor?.at ? { cursor: s.cursor } : {}) };
  } catch {
    // None yet, or cut by a crash: incidents open before it are told again at worst.
    return { open: {} };
  }
}

export async function startNotifier(deps: NotifierDeps): Promise<Notifications> {
  const n = new ChannelNotifier(deps);
  await n.start();
  return n;
}

class ChannelNotifier implements Notifications {
  private readonly now: () => Date;
  private readonly timing: BatchTiming;
  private readonly sendDeps: SendDeps;
  private readonly events: EventLog;
  private tail: EventTail;
  private stopWatching: () => void = () => {};
  private readonly outbox: Outbox;
  private settings: NotifySettings = NO_CHANNELS;
  private readonly states = new Map<string, BatchState>();
  private readonly lastResult = new Map<string, ChannelHealth>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();

  constructor(private readonly deps: NotifierDeps) {
    this.now = deps.now ?? (() => new Date());
    this.timing = deps.timing ?? DEFAULT_TIMING;
    this.sendDeps = { hostname: deps.hostname, fetch: deps.fetch ?? fetch, now: this.now };
    this.events = openEventLog(deps.dataDir);
    this.tail = new EventTail(deps.dataDir);
    this.outbox = new Outbox(outboxDir(deps.dataDir), deps.outboxFs);
  }

  async start(): Promise<void> {
    await this.outbox
      .load()
      .catch((err: Error) =>
        this.deps.log.error({ error: err.message }, 'cannot read the notification outbox'),
      );
    const saved = await readState(this.deps.dataDir);
    for (const [k, open] of Object.entries(saved.open)) this.states.set(k, { open });
    this.tail = new EventTail(this.deps.dataDir, saved.cursor);
    // The first run tells nothing of what happened before notifications were set up.
    if (!saved.cursor) await this.tail.next();
    await this.reload();
    await mkdir(dirname(eventLogPath(this.deps.dataDir)), { recursive: true, mode: 0o700 });
    this.stopWatching = watchEventLog(dirname(eventLogPath(this.deps.dataDir)), () => void this.ingest());
    await this.ingest();
  }

  async emit(kind: EventKind, subject: string, detail?: string): Promise<BerthEvent> {
    const e = makeEvent(kind, subject, detail, this.now());
    await this.events
      .append(e)
      .catch((err: Error) => this.deps.log.warn({ error: err.message }, 'cannot write the event log'));
    await this.ingest();
    return e;
  }

  /** Takes the events written since the cursor (by this process or any other) into the batches. */
  ingest(): Promise<void> {
    const work = async () => {
      const t = this.now().getTime();
      const events = await this.tail.next();
      if (events.length === 0) return;
      for (const e of events)
        for (const [name, ch] of Object.entries(this.settings.channels))
          this.states.set(name, admit(this.states.get(name) ?? { open: [] }, ch, e, t));
      this.saveStateSoon();
      this.schedule();
    };
    this.busy = this.busy
      .then(work)
      .catch((err: Error) => this.deps.log.error({ error: err.message }, 'cannot read the event log'));
    return this.busy;
  }

  async reload(): Promise<Diagnostic[]> {
    const r = await readSettings(this.deps.settingsPath);
    if (r.settings) this.settings = r.settings;
    return r.diagnostics;
  }

  health(): ChannelHealth[] {
    return Object.keys(this.settings.channels).map((channel) => ({
      ...(this.lastResult.get(channel) ?? { channel, ok: true }),
      queued: this.outbox.all().filter((e) => e.channel === channel).length,
    }));
  }

  async test(only?: string): Promise<{ channel: string; result: SendResult }[]> {
    const out: { channel: string; result: SendResult }[] = [];
    for (const [name, ch] of Object.entries(this.settings.channels)) {
      if (only && name !== only) continue;
      const result = await sendTest(name, ch, this.sendDeps);
      this.record(name, result);
      out.push({ channel: name, result });
    }
    await this.saveHealth();
    return out;
  }

  tick(): Promise<void> {
    const work = () =>
      this.work().catch((err: Error) => this.deps.log.error({ error: err.message }, 'notifications failed'));
    this.busy = this.busy.then(work);
    return this.busy;
  }

  close(): void {
    this.closed = true;
    this.stopWatching();
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      void this.saveState();
    }
    clearTimeout(this.timer);
  }

  private async work(): Promise<void> {
    const t = this.now();
    // What is sent must not be told again after a restart: the cursor is saved first.
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    await this.saveState();
    for (const [name, ch] of Object.entries(this.settings.channels)) {
      const st = this.states.get(name);
      if (!st?.batch || !batchDue(st, ch, t, this.timing)) continue;
      await this.outbox.add(name, render(st.batch, this.deps.hostname), t.getTime());
      this.states.set(name, { open: st.open });
    }
    // In order per channel; a channel that just failed waits for its retry, the others go on.
    const failing = new Set<string>();
    for (const e of this.outbox.due(t.getTime())) {
      if (failing.has(e.channel)) continue;
      if (!(await this.deliver(e))) failing.add(e.channel);
    }
    await this.saveHealth();
    this.schedule();
  }

  /** Sends one outbox entry; true when it is done with (sent, or dropped as undeliverable). */
  private async deliver(e: OutboxEntry): Promise<boolean> {
    const ch = this.settings.channels[e.channel];
    if (!ch) {
      await this.outbox.drop(e);
      return true;
    }
    const dropped = this.outbox.dropped;
    const extra = dropped ? `\n(${dropped} older messages could not be kept and were dropped)` : '';
    const r = await send(ch, { ...e.message, body: e.message.body + extra }, this.sendDeps);
    this.record(e.channel, r);
    if (r.ok) {
      this.outbox.dropped = Math.max(0, this.outbox.dropped - dropped);
      await this.outbox.delivered(e);
      return true;
    }
    if (!r.retry) {
      this.deps.log.error(
        { channel: e.channel, error: r.error },
        'notification refused by the server; dropped',
      );
      await this.outbox.drop(e);
      return true;
    }
    this.deps.log.warn(
      { channel: e.channel, error: r.error },
      'notification not delivered; trying again later',
    );
    await this.outbox.failed(e, r.error, this.now().getTime());
    return false;
  }

  private record(channel: string, r: SendResult): void {
    const at = this.now().toISOString();
    const was = this.lastResult.get(channel);
    const failingSince = was && !was.ok ? (was.failingSince ?? at) : at;
    this.lastResult.set(channel, {
      channel,
      ok: r.ok,
      at,
      queued: 0,
      ...(r.ok ? {} : { error: r.error, failingSince }),
    });
  }

  /** The next wake-up: the earliest batch to send or entry to retry; none while nothing waits. */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    const times: number[] = [];
    for (const st of this.states.values())
      if (st.batch)
        times.push(
          Math.min(st.batch.lastAt + this.timing.settleMs, st.batch.firstAt + this.timing.maxHoldMs),
        );
    const due = this.outbox.nextDue();
    if (due !== undefined) times.push(due);
    if (times.length === 0) return;
    const now = this.now().getTime();
    // At least a second apart; a batch held by quiet hours is looked at again each minute.
    const wait = Math.min(Math.max(Math.min(...times) - now, 1000), 60_000);
    this.timer = setTimeout(() => void this.tick(), wait);
    this.timer.unref();
  }

  /** Saved at most every half second while events pour in; a crash before it tells some again, never loses one. */
  private saveStateSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.saveState();
    }, 500);
    this.saveTimer.unref();
  }

  private saveState(): Promise<void> {
    const state: SavedState = {
      open: Object.fromEntries([...this.states].map(([k, s]) => [k, s.open])),
      ...(this.tail.position() ? { cursor: this.tail.position()! } : {}),
    };
    return writeJson(statePath(this.deps.dataDir), state).catch(() => {});
  }

  private saveHealth(): Promise<void> {
    return writeJson(healthPath(this.deps.dataDir), this.health()).catch(() => {});
  }
}
