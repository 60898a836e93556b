// The /metrics gatherer reads cheaply: one state listing per scrape, unit figures kept for the
// TTL, podman's health read again only when a check ran since, history read again only when
// its file changes, and scrapes that overlap share one gather.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { metricsGatherer, type MetricsSources } from '../../src/metrics/gather.js';
import type { App } from '../../src/recipe/app.js';
import type { ServiceManager } from '../../src/systemd/manager.js';
import { historyPath } from '../../src/updates/record.js';

const app = (name: string, health = false) => ({ name, ...(health ? { health: {} } : {}) }) as unknown as App;

function fakes(dataDir: string) {
  const calls = { list: 0, figures: 0, invocation: 0, inspect: 0 };
  let run = 'a1';
  const systemd = {
    async activeStates(units: readonly string[]) {
      calls.list++;
      return new Map(
        units.map((u) => [u, { name: u, loadState: 'loaded', activeState: 'active', subState: 'running' }]),
      );
    },
    async figures() {
      calls.figures++;
      return { nRestarts: 2, activeEnterUsec: 1, memory: 1024, cpuNsec: 3e9 };
    },
    async invocation() {
      calls.invocation++;
      return run;
    },
  } as unknown as ServiceManager;
  const src: MetricsSources = {
    dataDir,
    systemd,
    podman: {
      inspect: async () => {
        calls.inspect++;
        return { State: { Health: { Status: 'healthy' } } } as never;
      },
    },
    apps: () => [app('web', true), app('db')],
    passes: () => ({ total: 1, failed: 0 }),
    channels: () => [],
    invalidRecipes: () => 0,
  };
  return { src, calls, checkRan: () => (run = `${run}x`) };
}

describe('metricsGatherer', () => {
  let dir: string;
  let t: number;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-gather-'));
    t = 1000;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads states each scrape, figures once per TTL, health only after a check ran', async () => {
    const { src, calls, checkRan } = fakes(dir);
    const gather = metricsGatherer(src, { ttlMs: 5000, now: () => t });
    const first = await gather();
    expect(first.apps).toEqual([
      { app: 'web', state: 'active', up: true, healthy: true, restarts: 2, memoryBytes: 1024, cpuSeconds: 3 },
      { app: 'db', state: 'active', up: true, restarts: 2, memoryBytes: 1024, cpuSeconds: 3 },
    ]);
    await gather();
    expect(calls).toEqual({ list: 2, figures: 2, invocation: 1, inspect: 1 });
    t += 6000;
    await gather();
    expect(calls).toEqual({ list: 3, figures: 4, invocation: 2, inspect: 1 });
    checkRan();
    t += 6000;
    await gather();
    expect(calls).toEqual({ list: 4, figures: 6, invocation: 3, inspect: 2 });
  });

  it('shares one gather between overlapping scrapes', async () => {
    const { src, calls } = fakes(dir);
    const gather = metricsGatherer(src, { ttlMs: 0, now: () => t });
    const [a, b] = await Promise.all([gather(), gather()]);
    expect(a).toBe(b);
    expect(calls.list).toBe(1);
  });

  it("reads an app's history again when its file changes", async () => {
    const { src } = fakes(dir);
    const gather = metricsGatherer(src, { now: () => t });
    expect((await gather()).apps[0]!.lastUpdateSeconds).toBeUndefined();
    const file = historyPath(dir, 'web');
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(
      file,
      `${JSON.stringify({ app: 'web', at: '2026-01-01T00:00:00Z', result: 'updated' })}\n`,
    );
    expect((await gather()).apps[0]!.lastUpdateSeconds).toBe(Date.parse('2026-01-01T00:00:00Z') / 1000);
  });
});
