// The open live pages (Server-Sent Events clients), bounded so that no client can make the
// supervisor hold memory for it: a client that does not read what it is sent is dropped once
// its unsent data passes a small bound; one address may hold only a few live pages; and when
// all places are taken the oldest page is let go, so a new visitor is still served. A push
// is framed once per page host and the same buffer is written to every page of that host.
import type { ServerResponse } from 'node:http';

export interface LiveLimits {
  /** Live pages at most (then the oldest is let go for a new one). */
  maxClients: number;
  /** Live pages one remote address may hold at once (more are refused with 429). */
  perAddress: number;
  /** Unsent bytes a page may have queued; past this it is dropped. */
  maxUnsentBytes: number;
}

export const LIVE_LIMITS: LiveLimits = { maxClients: 256, perAddress: 16, maxUnsentBytes: 256 * 1024 };

interface Page {
  res: ServerResponse;
  address: string;
  host: string;
}

/** An SSE event: one `data:` line per line of the payload, whatever ends its lines (LF, CR, CRLF). */
export function sseEvent(event: string, payload: string): string {
  return `event: ${event}\n${payload
    .split(/\r\n|\r|\n/)
    .map((l) => `data: ${l}`)
    .join('\n')}\n\n`;
}

export class LivePages {
  /** In the order they opened: the first is the oldest. */
  private readonly pages = new Map<ServerResponse, Page>();

  constructor(
    private readonly limits: LiveLimits,
    private readonly onCount: (n: number) => void = () => {},
  ) {}

  get size(): number {
    return this.pages.size;
  }

  /** Whether `address` may open one more live page. */
  admits(address: string): boolean {
    let n = 0;
    for (const p of this.pages.values()) if (p.address === address) n++;
    return n < this.limits.perAddress;
  }

  /** Takes an open event stream (headers sent); lets the oldest go if all places are taken. */
  add(res: ServerResponse, address: string, host: string): void {
    while (this.pages.size >= this.limits.maxClients) {
      const oldest = this.pages.keys().next().value!;
      this.drop(oldest, false);
    }
    this.pages.set(res, { res, address, host });
    this.onCount(this.pages.size);
    res.on('close', () => this.drop(res, false));
  }

  /** Writes to every page what `frame` makes for its host (made once per host). */
  send(frame: (host: string) => string): void {
    const framed = new Map<string, Buffer>();
    for (const p of [...this.pages.values()]) {
      let buf = framed.get(p.host);
      if (!buf) framed.set(p.host, (buf = Buffer.from(frame(p.host))));
      this.write(p.res, buf);
    }
  }

  /** Writes unless the page's unsent data would pass the bound: then it is dropped instead. */
  private write(res: ServerResponse, buf: Buffer): void {
    if (res.writableLength + buf.length > this.limits.maxUnsentBytes) this.drop(res, true);
    else res.write(buf);
  }

  private drop(res: ServerResponse, stuck: boolean): void {
    if (!this.pages.delete(res)) return;
    this.onCount(this.pages.size);
    // A page that does not read cannot be sent a goodbye: its connection is cut. One let go
    // for a newer page ends cleanly, told to come back in a minute rather than at once (it
    // would take a newer page's place in turn), and is cut if it does not take the end.
    if (stuck || res.writableLength > 0) res.destroy();
    else {
      res.end('retry: 60000\n\n');
      res.socket?.setTimeout(10_000);
    }
  }

  closeAll(): void {
    for (const res of [...this.pages.keys()]) this.drop(res, false);
  }
}
