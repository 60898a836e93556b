// Per-app memory and CPU over the last hour, from systemd's own accounting of each app's
// unit. Sampled only while a page is open: an idle supervisor does no polling.
import { appOfUnit } from '../render/paths.js';
import type { ServiceManager } from '../systemd/manager.js';
import type { Samples } from './page.js';

export const SAMPLE_MS = 10_000;
/** An hour of samples. */
export const KEEP = 360;

export class Sampler {
  private readonly series = new Map<string, Samples & { lastCpu?: number; lastAt?: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly systemd: ServiceManager,
    private readonly units: () => readonly string[],
    private readonly onSample: () => void,
    private readonly everyMs = SAMPLE_MS,
  ) {}

  /** Samples while `wanted` says a page is open; call on each change of open pages. */
  setActive(active: boolean): void {
    if (active && !this.timer) {
      void this.sample();
      this.timer = setInterval(() => void this.sample(), this.everyMs);
    } else if (!active && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  get(app: string): Samples | undefined {
    const s = this.series.get(app);
    return s ? { memory: s.memory, cpu: s.cpu, accounted: s.accounted } : undefined;
  }

  all(): Map<string, Samples> {
    return new Map([...this.series.keys()].map((k) => [k, this.get(k)!]));
  }

  private async sample(): Promise<void> {
    if (!this.systemd.accounting) return;
    const now = Date.now();
    for (const unit of this.units()) {
      const app = appOfUnit(unit);
      if (!app) continue;
      const a = await this.systemd.accounting(unit).catch(() => undefined);
      if (!a) continue;
      const s = this.series.get(app) ?? { memory: [], cpu: [], accounted: false };
      s.accounted ||= a.memory !== undefined || a.cpuNsec !== undefined;
      if (a.memory !== undefined) s.memory = [...s.memory, a.memory].slice(-KEEP);
      if (a.cpuNsec !== undefined) {
        if (s.lastCpu !== undefined && s.lastAt !== undefined && now > s.lastAt)
          s.cpu = [...s.cpu, Math.max(0, ((a.cpuNsec - s.lastCpu) / 1e6 / (now - s.lastAt)) * 100)].slice(
            -KEEP,
          );
        s.lastCpu = a.cpuNsec;
        s.lastAt = now;
      }
      this.series.set(app, s);
    }
    this.onSample();
  }

  stop(): void {
    this.setActive(false);
  }
}
