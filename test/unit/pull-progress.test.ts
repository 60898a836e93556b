// The pull progress line, and the registry size lookup against a scripted registry
// (anonymous bearer token, a multi-platform index).
import { describe, expect, it } from 'vitest';
import { progressLine, pullSize } from '../../src/exec/pull-progress.js';

const MiB = 1024 * 1024;

describe('progressLine', () => {
  it.each([
    [
      { total: 10 * MiB, done: 5 * MiB, elapsedMs: 2000 },
      'pulling r  [##########..........]  5 MiB / 10 MiB  3 MiB/s  2 s left',
    ],
    [{ done: 3 * MiB, elapsedMs: 1000 }, 'pulling r  3 MiB  3 MiB/s'],
    [{ total: 10 * MiB, done: 0, elapsedMs: 100 }, 'pulling r  [....................]  0 bytes / 10 MiB'],
    [
      { total: 1 * MiB, done: 1 * MiB, elapsedMs: 1000 },
      'pulling r  [####################]  1 MiB / 1 MiB  1 MiB/s',
    ],
  ])('%o', (p, want) => {
    expect(progressLine('r', p)).toBe(want);
  });
});

describe('pullSize', () => {
  it('sums layers and config, through a token challenge and a platform index', async () => {
    const calls: string[] = [];
    const fake = (async (url: string, init?: { headers?: Record<string, string> }) => {
      calls.push(url);
      const json = (b: unknown, status = 200, headers: Record<string, string> = {}) =>
        new Response(JSON.stringify(b), { status, headers });
      if (url.startsWith('https://auth.example/token')) return json({ token: 't' });
      if (init?.headers?.authorization !== 'Bearer t')
        return json({}, 401, {
          'www-authenticate':
            'Bearer realm="https://auth.example/token",service="reg",scope="repository:library/x:pull"',
        });
      if (url.endsWith('/manifests/1.0'))
        return json({
          manifests: [
            { digest: 'sha256:arm', platform: { os: 'linux', architecture: 'arm64' } },
            { digest: 'sha256:amd', platform: { os: 'linux', architecture: 'amd64' } },
          ],
        });
      if (url.endsWith('/manifests/sha256:amd'))
        return json({ config: { size: 100 }, layers: [{ size: 1000 }, { size: 2000 }] });
      return json({}, 404);
    }) as typeof fetch;
    const size = await pullSize('docker.io/library/x:1.0', fake);
    if (process.arch === 'x64') expect(size).toBe(3100);
    expect(calls[0]).toBe('https://registry-1.docker.io/v2/library/x/manifests/1.0');
  });

  it('no total when the registry cannot be asked', async () => {
    const fail = (async () => {
      throw new Error('offline');
    }) as typeof fetch;
    expect(await pullSize('docker.io/library/x:1.0', fail)).toBeUndefined();
  });
});
