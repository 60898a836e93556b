// What the advertiser publishes: DNS-SD services over mDNS, per app.

export interface ServiceAd {
  /** Instance name, e.g. "Media on nas". */
  name: string;
  /** DNS-SD type with protocol, e.g. "_smb._tcp". */
  type: string;
  port: number;
  txt: Record<string, string>;
}

export interface PublishedAd extends ServiceAd {
  app: string;
  /** The name actually announced (differs from `name` after a conflict was resolved). */
  announcedAs: string;
}

/** Publishes each app's services; `set` replaces an app's set (goodbyes for what is gone). */
export interface Advertiser {
  readonly kind: 'ciao' | 'avahi';
  set(app: string, ads: readonly ServiceAd[]): Promise<void>;
  published(): PublishedAd[];
  /** Goodbyes for everything, then release the network. */
  close(): Promise<void>;
}

export const adKey = (a: ServiceAd) => `${a.type}|${a.port}|${a.name}|${JSON.stringify(a.txt)}`;

/** "_smb._tcp" → { service: "smb", protocol: "tcp" } */
export function splitType(type: string): { service: string; protocol: 'tcp' | 'udp' } {
  const m = /^_([a-z0-9-]+)\._(tcp|udp)$/.exec(type);
  if (!m) throw new Error(`not a DNS-SD type: ${type}`);
  return { service: m[1]!, protocol: m[2] as 'tcp' | 'udp' };
}

/** Runs `set` calls for one app one after another: two at once would publish a service twice. */
export class PerAppQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run(app: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.tails.get(app) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.tails.set(app, tail);
    void tail.then(() => {
      if (this.tails.get(app) === tail) this.tails.delete(app);
    });
    return next;
  }
}
