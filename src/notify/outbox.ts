// The outbox: messages not yet delivered, one file each under the data dir, so an outage of
// the network, of berth or of the machine loses none. Bounded: when it is full (or the disk
// is), the oldest are dropped and counted, and the next message says how many.
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import type { Message } from './batch.js';

export const MAX_OUTBOX = 200;
/** Retries: 10 s, doubling, at most an hour apart. */
export const FIRST_RETRY_MS = 10_000;
export const MAX_RETRY_MS = 3_600_000;

export interface OutboxEntry {
  id: string;
  channel: string;
  message: Message;
  createdAt: number;
  attempts: number;
  /** Not to be sent before (ms since the epoch). */
  nextAt: number;
  lastError?: string;
}

export type OutboxFs = Pick<typeof fsp, 'mkdir' | 'readdir' | 'readFile' | 'writeFile' | 'rename' | 'rm'>;

export const outboxDir = (dataDir: string) => join(dataDir, 'notify', 'outbox');

export function retryAt(attempts: number, now: number): number {
  return now + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attempts - 1, 20));
}

export class Outbox {
  private entries: OutboxEntry[] = [];
  /** Messages dropped since the last one delivered: told in the next. */
  dropped = 0;

  constructor(
    private readonly dir: string,
    private readonly fs: OutboxFs = fsp,
    private readonly max = MAX_OUTBOX,
  ) {}

  /** Reads what a previous run left (a file cut by a crash is dropped and counted). */
  async load(): Promise<void> {
    await this.fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const names = (await this.fs.readdir(this.dir)).filter((n) => n.endsWith('.json')).sort();
    for (const n of names) {
      try {
        this.entries.push(JSON.parse(await this.fs.readFile(join(this.dir, n), 'utf8')) as OutboxEntry);
      } catch {
        this.dropped++;
        await this.fs.rm(join(this.dir, n), { force: true });
      }
    }
  }

  all(): readonly OutboxEntry[] {
    return this.entries;
  }

  /** The entries whose time has come, oldest first. */
  due(now: number): OutboxEntry[] {
    return this.entries.filter((e) => e.nextAt <= now);
  }

  /** When the next entry is due, if any. */
  nextDue(): number | undefined {
    return this.entries.length ? Math.min(...this.entries.map((e) => e.nextAt)) : undefined;
  }

  async add(channel: string, message: Message, now: number): Promise<OutboxEntry> {
    const e: OutboxEntry = {
      id: `${now.toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`,
      channel,
      message,
      createdAt: now,
      attempts: 0,
      nextAt: now,
    };
    while (this.entries.length >= this.max) await this.dropOldest();
    this.entries.push(e);
    await this.persist(e);
    return e;
  }

  async delivered(e: OutboxEntry): Promise<void> {
    this.entries = this.entries.filter((x) => x.id !== e.id);
    await this.fs.rm(this.file(e), { force: true });
  }

  async failed(e: OutboxEntry, error: string, now: number): Promise<void> {
    e.attempts++;
    e.lastError = error;
    e.nextAt = retryAt(e.attempts, now);
    await this.persist(e);
  }

  async drop(e: OutboxEntry): Promise<void> {
    await this.delivered(e);
  }

  private file(e: OutboxEntry): string {
    return join(this.dir, `${e.id}.json`);
  }

  private async dropOldest(): Promise<void> {
    const old = this.entries.shift();
    if (!old) return;
    this.dropped++;
    await this.fs.rm(this.file(old), { force: true }).catch(() => undefined);
  }

  /**
   * Written beside and renamed. A full disk drops the oldest messages until this one fits;
   * if none is left to drop, it is kept in memory only (delivered if berth keeps running).
   */
  private async persist(e: OutboxEntry): Promise<void> {
    const tmp = `${this.file(e)}.tmp`;
    for (;;) {
      try {
        await this.fs.writeFile(tmp, JSON.stringify(e), { mode: 0o600 });
        await this.fs.rename(tmp, this.file(e));
        return;
      } catch (err) {
        await this.fs.rm(tmp, { force: true }).catch(() => undefined);
        const code = (err as NodeJS.ErrnoException).code;
        if ((code !== 'ENOSPC' && code !== 'EDQUOT') || this.entries[0] === e || this.entries.length === 0)
          return;
        await this.dropOldest();
      }
    }
  }
}
