// What every advertiser does the same way: per app, compare the services wanted with those
// published, withdraw what is gone (goodbyes), publish what is new, one app call at a time.
// Subclasses only know how to publish and withdraw one service.
import { adKey, type Advertiser, PerAppQueue, type PublishedAd, type ServiceAd } from './types.js';

export abstract class AppAdvertiser<E extends { ad: ServiceAd }> implements Advertiser {
  abstract readonly kind: Advertiser['kind'];
  private readonly apps = new Map<string, Map<string, E>>();
  private readonly queue = new PerAppQueue();

  /** Publishes one service; `index` is its place among the app's services. */
  protected abstract publish(app: string, ad: ServiceAd, index: number): Promise<E>;
  /** Withdraws one service, with goodbye packets. */
  protected abstract withdraw(entry: E): Promise<void>;
  /** The instance name actually announced (after any conflict renaming). */
  protected abstract announcedAs(entry: E): string;

  set(app: string, ads: readonly ServiceAd[]): Promise<void> {
    return this.queue.run(app, async () => {
      const current = this.apps.get(app) ?? new Map<string, E>();
      const wanted = new Map(ads.map((a) => [adKey(a), a]));
      for (const [key, e] of current) {
        if (wanted.has(key)) continue;
        current.delete(key);
        await this.withdraw(e);
      }
      let index = 0;
      for (const [key, ad] of wanted) {
        const i = index++;
        if (!current.has(key)) current.set(key, await this.publish(app, ad, i));
      }
      if (current.size > 0) this.apps.set(app, current);
      else this.apps.delete(app);
    });
  }

  published(): PublishedAd[] {
    return [...this.apps].flatMap(([app, m]) =>
      [...m.values()].map((e) => ({ ...e.ad, app, announcedAs: this.announcedAs(e) })),
    );
  }

  /** Goodbyes for everything published. */
  protected async withdrawAll(): Promise<void> {
    for (const app of [...this.apps.keys()]) await this.set(app, []);
  }

  abstract close(): Promise<void>;
}
