// A pass waits for jobs on apps' units left running by a killed apply (fault injection: a
// manager whose job list is scripted; the real path runs in test/integration/runtime.test.ts).
import { describe, expect, it } from 'vitest';
import { settleJobs } from '../../src/runtime.js';
import type { ServiceManager } from '../../src/systemd/manager.js';

function scripted(lists: { unit: string; type: string }[][]): { m: ServiceManager; calls: () => number } {
  let n = 0;
  const m = { pendingJobs: async () => lists[Math.min(n++, lists.length - 1)]! } as unknown as ServiceManager;
  return { m, calls: () => n };
}

describe('settling jobs before a pass', () => {
  it("waits until no app unit's job is pending", async () => {
    const job = { unit: 'berth-web.service', type: 'restart' };
    const s = scripted([[job], [job], []]);
    await settleJobs(s.m, 5000);
    expect(s.calls()).toBe(3);
  });

  it("ignores other units' jobs and health checks", async () => {
    const s = scripted([
      [
        { unit: 'berth-web.health.service', type: 'start' },
        { unit: 'cron.service', type: 'start' },
      ],
    ]);
    await settleJobs(s.m, 5000);
    expect(s.calls()).toBe(1);
  });

  it('is bounded', async () => {
    const s = scripted([[{ unit: 'berth-web.service', type: 'start' }]]);
    await settleJobs(s.m, 300);
    expect(s.calls()).toBeGreaterThan(1);
  });
});
