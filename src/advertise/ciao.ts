// DNS-SD over mDNS with @homebridge/ciao, an RFC 6762/6763 responder in this process:
// probing, conflict resolution (renaming "Name (2)"), announcements and goodbyes.
//
// Host names: a host name is a unique record, and ciao (like RFC 6762 probing) lets only
// one service claim it. So <hostname>.local belongs to the host's _device-info record, and
// each app service points at its own <hostname>-<app>.local, with the same addresses.
import ciao, { type CiaoService, type Responder } from '@homebridge/ciao';
import { adKey, type Advertiser, PerAppQueue, type PublishedAd, type ServiceAd, splitType } from './types.js';

export interface CiaoOptions {
  /** Interfaces to answer on; ciao must be told them (inside a network namespace it picks none by itself). */
  interfaces: string[];
  /** The host's name: <hostname>.local. */
  hostname: string;
}

interface Entry {
  ad: ServiceAd;
  service: CiaoService;
}

/** The target host of an app's service (see above); the host's own record keeps <hostname>. */
export function serviceHost(hostname: string, app: string, index: number): string {
  if (app.startsWith('_')) return hostname;
  return index === 0 ? `${hostname}-${app}` : `${hostname}-${app}-${index + 1}`;
}

export class CiaoAdvertiser implements Advertiser {
  readonly kind = 'ciao' as const;
  private responder: Responder | undefined;
  private readonly apps = new Map<string, Map<string, Entry>>();
  private readonly queue = new PerAppQueue();

  constructor(private readonly opts: CiaoOptions) {}

  private getResponder(): Responder {
    this.responder ??= ciao.getResponder({ interface: this.opts.interfaces });
    return this.responder;
  }

  set(app: string, ads: readonly ServiceAd[]): Promise<void> {
    return this.queue.run(app, () => this.apply(app, ads));
  }

  private async apply(app: string, ads: readonly ServiceAd[]): Promise<void> {
    const current = this.apps.get(app) ?? new Map<string, Entry>();
    const wanted = new Map(ads.map((a) => [adKey(a), a]));
    for (const [key, e] of current) {
      if (wanted.has(key)) continue;
      current.delete(key);
      await e.service.end(); // goodbye packets (TTL 0)
      await e.service.destroy();
    }
    let index = 0;
    for (const [key, ad] of wanted) {
      const host = serviceHost(this.opts.hostname, app, index++);
      if (current.has(key)) continue;
      const { service: type, protocol } = splitType(ad.type);
      const service = this.getResponder().createService({
        name: ad.name,
        type,
        protocol: protocol as never,
        port: ad.port,
        hostname: host,
        // ciao writes an empty TXT as zero-length data where RFC 6763 6.1 wants one zero
        // byte; clients echo the latter and ciao then sees a conflict. So never empty.
        txt: Object.keys(ad.txt).length > 0 ? ad.txt : { txtvers: '1' },
      });
      current.set(key, { ad, service });
      await service.advertise();
    }
    if (current.size > 0) this.apps.set(app, current);
    else this.apps.delete(app);
  }

  published(): PublishedAd[] {
    return [...this.apps].flatMap(([app, m]) =>
      [...m.values()].map((e) => ({
        ...e.ad,
        app,
        announcedAs: e.service.getFQDN().split('._')[0] ?? e.ad.name,
      })),
    );
  }

  async close(): Promise<void> {
    for (const app of [...this.apps.keys()]) await this.set(app, []);
    await this.responder?.shutdown();
    this.responder = undefined;
  }
}
