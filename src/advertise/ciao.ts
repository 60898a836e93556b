// DNS-SD over mDNS with @homebridge/ciao, an RFC 6762/6763 responder in this process:
// probing, conflict resolution (renaming "Name (2)"), announcements and goodbyes.
//
// Host names: a host name is a unique record, and ciao (like RFC 6762 probing) lets only
// one service claim it. So <hostname>.local belongs to the host's _device-info record, and
// each app service points at its own <hostname>-<app>.local, with the same addresses.
import ciao, { type CiaoService, type Responder } from '@homebridge/ciao';
import { AppAdvertiser } from './base.js';
import { type ServiceAd, splitType } from './types.js';

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

export class CiaoAdvertiser extends AppAdvertiser<Entry> {
  readonly kind = 'ciao' as const;
  private responder: Responder | undefined;

  constructor(private readonly opts: CiaoOptions) {
    super();
  }

  private getResponder(): Responder {
    this.responder ??= ciao.getResponder({ interface: this.opts.interfaces });
    return this.responder;
  }

  protected async publish(app: string, ad: ServiceAd, index: number): Promise<Entry> {
    const { service: type, protocol } = splitType(ad.type);
    const service = this.getResponder().createService({
      name: ad.name,
      type,
      protocol: protocol as never,
      port: ad.port,
      hostname: serviceHost(this.opts.hostname, app, index),
      // ciao writes an empty TXT as zero-length data where RFC 6763 6.1 wants one zero
      // byte; clients echo the latter and ciao then sees a conflict. So never empty.
      txt: Object.keys(ad.txt).length > 0 ? ad.txt : { txtvers: '1' },
    });
    await service.advertise();
    return { ad, service };
  }

  protected async withdraw(e: Entry): Promise<void> {
    await e.service.end(); // goodbye packets (TTL 0)
    await e.service.destroy();
  }

  protected announcedAs(e: Entry): string {
    return e.service.getFQDN().split('._')[0] ?? e.ad.name;
  }

  async close(): Promise<void> {
    await this.withdrawAll();
    await this.responder?.shutdown();
    this.responder = undefined;
  }
}
