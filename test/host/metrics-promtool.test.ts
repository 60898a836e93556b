// /metrics as Prometheus' own checker reads it: `promtool check metrics` (Debian's, unpacked
// by image-build/promtool.sh) finds no problem in what berth serves for a set of apps.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { renderMetrics } from '../../src/metrics/render.js';

const run = promisify(execFile);

function check(promtool: string, text: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(promtool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => resolve({ code, out }));
    p.stdin.end(text);
  });
}

it('promtool check metrics passes', async () => {
  const promtool = (
    await run('bash', [join(import.meta.dirname, '..', '..', 'image-build', 'promtool.sh')])
  ).stdout.trim();
  const apps = Array.from({ length: 30 }, (_, i) => ({
    app: `app-${i}`,
    state: i % 7 ? 'active' : 'failed',
    up: i % 7 !== 0,
    ...(i % 3 ? {} : { healthy: i % 2 === 0 }),
    restarts: i % 4,
    memoryBytes: 1e6 * i,
    cpuSeconds: i / 10,
    lastUpdateSeconds: 1_765_000_000 + i,
  }));
  const text = renderMetrics({
    apps,
    disks: [{ path: '/var/lib/berth', freeBytes: 5e9, sizeBytes: 2e10 }],
    passes: { total: 12, failed: 1, lastSeconds: 0.25 },
    channels: [{ channel: 'phone', ok: true }],
    invalidRecipes: 1,
    smart: [
      {
        disk: 'sda',
        healthy: true,
        temperatureC: 34,
        asleep: false,
        mounts: [{ mount: '/srv/media', freeBytes: 1e12 }],
      },
      { disk: 'sdb', healthy: false, asleep: true, mounts: [{ mount: '/mnt/backup', freeBytes: 2e11 }] },
      {
        disk: 'nvme0n1',
        healthy: true,
        temperatureC: 41,
        mounts: [
          { mount: '/', freeBytes: 3e10 },
          { mount: '/var', freeBytes: 3e10 },
        ],
      },
    ],
  });
  const r = await check(promtool, text);
  expect(r.out).toBe('');
  expect(r.code).toBe(0);
}, 60_000);
