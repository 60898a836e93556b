// Changes to image names in one pass, one podman call at a time. podman's tag reads an
// image's names and writes them back whole, so two at once on one image lose one (seen:
// apps pinned to one image in parallel, a pin tag missing). Names asked for at about the
// same moment go to one image in one call (`podman tag ID NAME…`): a cold start of thirty
// apps on one image makes one call, not thirty.
import type { Podman } from '../podman/podman.js';

interface Waiting {
  names: Set<string>;
  settle: ((err?: Error) => void)[];
}

export class ImageNames {
  private chain: Promise<unknown> = Promise.resolve();
  private queue = new Map<string, Waiting>();
  private scheduled = false;

  constructor(private readonly podman: Podman) {}

  /** Gives the image one more name, checked after it is set. */
  tag(id: string, name: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = this.queue.get(id) ?? { names: new Set<string>(), settle: [] };
      w.names.add(name);
      w.settle.push((err) => (err ? reject(err) : resolve()));
      this.queue.set(id, w);
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.serial(() => this.flush());
      });
    });
  }

  /** Runs another change of names (an untag, a removal) after the ones before it. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async flush(): Promise<void> {
    const batch = [...this.queue];
    this.queue.clear();
    for (const [id, w] of batch) {
      const names = [...w.names];
      try {
        await this.podman.tag(id, ...names);
        // Another program may have changed the names at the same moment: check, and set once more.
        const now = await this.podman.imageNames();
        const missing = names.filter((n) => now.get(n) !== id);
        if (missing.length > 0) await this.podman.tag(id, ...missing);
        for (const s of w.settle) s();
      } catch (err) {
        for (const s of w.settle) s(err as Error);
      }
    }
  }
}
