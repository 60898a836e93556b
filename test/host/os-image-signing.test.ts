// The image build refuses to make an image whose updates are unsigned unless the builder says
// so (BERTH_OS_UNSIGNED=1); it stops before any work, so this runs in a moment.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '../../image-build/os-image.sh');
const build = (env: Record<string, string>) => {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^BERTH_OS_(SIGNING_KEY|UNSIGNED)$/.test(k)),
  ) as Record<string, string>;
  return spawnSync('bash', [SCRIPT], { env: { ...base, ...env }, encoding: 'utf8', timeout: 30_000 });
};

describe('os-image.sh and update signing', () => {
  it('without a signing key and without BERTH_OS_UNSIGNED=1 it fails at once, saying both ways', () => {
    const r = build({});
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no signing key: set BERTH_OS_SIGNING_KEY=.* or BERTH_OS_UNSIGNED=1/);
    expect(r.stdout).not.toMatch(/debootstrap|reusing/);
  });
  it('a key and BERTH_OS_UNSIGNED=1 together are refused', () => {
    const r = build({ BERTH_OS_SIGNING_KEY: 'ABCDEF', BERTH_OS_UNSIGNED: '1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/contradict/);
  });
});
