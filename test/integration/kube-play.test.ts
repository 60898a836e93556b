// berth export kube, consumed for real: `podman kube play` (a real reader of the same
// manifests) runs the exported app, with its Secret, its claim and its port, in a network
// namespace this test makes; the page it serves carries the env value and the secret.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { appPaths } from '../../src/render/paths.js';
import { ensureTestImages } from '../harness/appliance.js';
import { runBerth } from '../helpers.js';

const run = promisify(execFile);
const NETNS = 'berth-kube-play';
const env = {
  ...process.env,
  CONTAINERS_CONF: join(import.meta.dirname, '../../image-build/containers-host.conf'),
};
const inNs = (cmd: string[]) => run('nsenter', [`--net=/run/netns/${NETNS}`, ...cmd], { env });
let dir: string;

const RECIPE = `name: kube-hello
image: localhost/berth/busybox:1.35.0
command: [sh, -c, 'mkdir -p /w && echo "$GREETING $TOKEN" > /w/index.html && exec httpd -f -p 80 -h /w']
ports: ['8080:80']
volumes:
  data: {target: /data}
env:
  GREETING: hello from \${hostname}
  TOKEN: \${secret:token}
health: {cmd: 'test -f /w/index.html', interval: 5s}
`;

beforeAll(async () => {
  await ensureTestImages();
  dir = mkdtempSync(join(tmpdir(), 'berth-kube-'));
  mkdirSync(join(dir, 'recipes'));
  writeFileSync(join(dir, 'recipes/kube-hello.yaml'), RECIPE);
  // The secret as berth's first apply would have made it.
  const secrets = appPaths(join(dir, 'data'), 'kube-hello').secretsDir;
  mkdirSync(secrets, { recursive: true });
  writeFileSync(join(secrets, 'token'), 's3cret-token\n');
  await run('ip', ['netns', 'add', NETNS]);
  await run('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
});

afterAll(async () => {
  await inNs(['podman', 'kube', 'play', '--down', join(dir, 'play.yaml')]).catch(() => {});
  await run('podman', ['volume', 'rm', '-f', 'kube-hello-data'], { env }).catch(() => {});
  await run('podman', ['secret', 'rm', 'kube-hello-secrets'], { env }).catch(() => {});
  await run('ip', ['netns', 'del', NETNS]).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('podman kube play of an exported app', () => {
  it('runs the pod, and it answers with its env value and its secret', async () => {
    const r = await runBerth(['export', 'kube', 'kube-hello', '--out', join(dir, 'out')], {
      BERTH_RECIPES_DIR: join(dir, 'recipes'),
      BERTH_DATA_DIR: join(dir, 'data'),
      BERTH_HOSTNAME: 'nas',
    });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/kube-hello-secrets holds the app's secrets in plain text/);
    // podman 4.3's kube play stores a Secret document as YAML but reads a secret as a JSON
    // map of key → base64 value: the Secret's data goes into podman's secret store that way.
    const docs = parseAllDocuments(readFileSync(join(dir, 'out/kube-hello.yaml'), 'utf8')).map(
      (d) => d.toJS() as { kind: string },
    );
    const secret = docs.find((d) => d.kind === 'Secret')! as { kind: string; data?: Record<string, string> };
    writeFileSync(join(dir, 'secret.json'), JSON.stringify(secret.data));
    await run('podman', ['secret', 'create', 'kube-hello-secrets', join(dir, 'secret.json')], { env });
    writeFileSync(
      join(dir, 'play.yaml'),
      docs
        .filter((d) => d !== secret)
        .map((d) => stringify(d))
        .join('---\n'),
    );
    await inNs(['podman', 'kube', 'play', join(dir, 'play.yaml')]);
    const { stdout: infra } = await run(
      'podman',
      ['pod', 'inspect', '--format', '{{.InfraContainerID}}', 'kube-hello-pod-0'],
      { env },
    );
    const { stdout: ip } = await run(
      'podman',
      ['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', infra.trim()],
      { env },
    );
    expect(ip.trim()).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // Polled for at most 20 s from inside the namespace, where the pod's bridge is.
    const { stdout: page } = await inNs([
      process.execPath,
      '-e',
      `(async () => { for (let i = 0; i < 40; i++) { try { const r = await fetch('http://${ip.trim()}/', { signal: AbortSignal.timeout(2000) }); process.stdout.write(await r.text()); return; } catch { await new Promise((s) => setTimeout(s, 500)); } } process.exit(1); })()`,
    ]);
    expect(page.trim()).toBe('hello from nas s3cret-token');
    const { stdout: vol } = await run(
      'podman',
      ['volume', 'inspect', '--format', '{{.Name}}', 'kube-hello-data'],
      { env },
    );
    expect(vol.trim()).toBe('kube-hello-data');
  });
});
