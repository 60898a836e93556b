// /metrics text: families with HELP and TYPE once, base units, label values escaped, the
// last line ended; families with no samples left out.
import { describe, expect, it } from 'vitest';
import { type MetricsFacts, renderMetrics } from '../../src/metrics/render.js';

const facts: MetricsFacts = {
  apps: [
    {
      app: 'web',
      state: 'active',
      up: true,
      healthy: true,
      restarts: 0,
      memoryBytes: 12_582_912,
      cpuSeconds: 1.5,
    },
    { app: 'db', state: 'failed', up: false, restarts: 5, lastUpdateSeconds: 1_765_000_000 },
  ],
  disks: [{ path: '/var/lib/berth', freeBytes: 5e9, sizeBytes: 2e10 }],
  passes: { total: 12, failed: 1, lastSeconds: 0.25 },
  channels: [{ channel: 'phone', ok: false }],
  invalidRecipes: 0,
};

describe('renderMetrics', () => {
  const text = renderMetrics(facts);
  it('gives each family its HELP and TYPE once, before its samples', () => {
    expect(text).toContain(
      '# HELP berth_app_up 1 when the app\'s unit is active.\n# TYPE berth_app_up gauge\nberth_app_up{app="web"} 1\nberth_app_up{app="db"} 0\n',
    );
    for (const m of text.matchAll(/^# TYPE (\S+)/gm)) expect(text.split(`# TYPE ${m[1]} `)).toHaveLength(2);
  });
  it('says counters with _total and base units', () => {
    expect(text).toContain(
      '# TYPE berth_app_restarts_total counter\nberth_app_restarts_total{app="web"} 0\n',
    );
    expect(text).toContain('berth_app_cpu_seconds_total{app="web"} 1.5\n');
    expect(text).toContain('berth_app_memory_bytes{app="web"} 12582912\n');
    expect(text).toContain('berth_last_pass_duration_seconds 0.25\n');
  });
  it('leaves out what is not known (no health check, no memory figure)', () => {
    expect(text).not.toContain('berth_app_healthy{app="db"}');
    expect(text).not.toContain('berth_app_memory_bytes{app="db"}');
  });
  it('escapes label values', () => {
    const odd = renderMetrics({ ...facts, disks: [{ path: 'C:\\x"y\nz', freeBytes: 1, sizeBytes: 2 }] });
    expect(odd).toContain('berth_disk_free_bytes{path="C:\\\\x\\"y\\nz"} 1\n');
  });
  it('ends with a newline and has only valid names', () => {
    expect(text.endsWith('\n')).toBe(true);
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#')))
      expect(line).toMatch(
        /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="(?:[^"\\]|\\.)*"(,[a-z_]+="(?:[^"\\]|\\.)*")*\})? \S+$/,
      );
  });
});
