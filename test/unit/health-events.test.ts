// A health check turning unhealthy is one 'health-failing', healthy again one
// 'health-recovered'; one podman events watcher, started only once an app has a check.
import { expect, it } from 'vitest';
import type { EventKind } from '../../src/events/types.js';
import type { App } from '../../src/recipe/app.js';
import { followHealth, healthEvent } from '../../src/supervisor/health.js';

it.each([
  [undefined, 'healthy', undefined],
  [undefined, 'unhealthy', 'health-failing'],
  ['starting', 'unhealthy', 'health-failing'],
  ['unhealthy', 'unhealthy', undefined],
  ['unhealthy', 'starting', undefined],
  ['unhealthy', 'healthy', 'health-recovered'],
  ['healthy', 'healthy', undefined],
] as const)('%s → %s tells %s', (before, now, kind) => expect(healthEvent(before, now)).toBe(kind));

it('follows podman health events of the apps with a check, with one watcher', async () => {
  const watchers: ((e: Record<string, unknown>) => void)[] = [];
  const podman = {
    watchEvents: (_f: string[], on: (e: Record<string, unknown>) => void) => {
      watchers.push(on);
      return () => {};
    },
    inspect: async () => ({ State: { Health: { Status: 'healthy' } } }),
  } as never;
  const told: [EventKind, string][] = [];
  const changed: string[] = [];
  const h = followHealth(
    { podman },
    (k, a) => told.push([k, a]),
    (a) => changed.push(a),
  );
  const web = { name: 'web', health: { cmd: 'true' } } as unknown as App;
  h.sync([{ name: 'plain' } as unknown as App]);
  expect(watchers).toHaveLength(0);
  h.sync([web]);
  h.sync([web]);
  expect(watchers).toHaveLength(1);
  const event = (status: string) =>
    watchers[0]!({ HealthStatus: status, Attributes: { 'berth.app': 'web' } });
  for (const s of ['healthy', 'unhealthy', 'unhealthy', 'unhealthy', 'healthy']) event(s);
  await new Promise((r) => setTimeout(r, 10));
  expect(told).toEqual([
    ['health-failing', 'web'],
    ['health-recovered', 'web'],
  ]);
  expect(changed).toHaveLength(5);
});
