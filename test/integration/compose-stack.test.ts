// A multi-service compose stack, imported and run for real: the web service starts only once
// the api's health check passes (depends_on: service_healthy); both answer on their published
// ports. Images are made locally. network_mode: bridge (the engine's default network): in
// this sandbox netavark cannot start aardvark-dns for a named network (it asks a system
// manager through systemd-run), so names on app networks are not tried here.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Appliance, ensureTestImages, httpGet, startAppliance } from '../harness/appliance.js';

let box: Appliance;
const COMPOSE = `name: cstack
services:
  cs-web:
    image: localhost/berth/busybox:1.35.0
    init: true
    network_mode: bridge
    command: sh -c 'mkdir -p /www && echo "web after a healthy api" > /www/index.html && exec httpd -f -p 80 -h /www'
    ports: ["127.0.0.1:\${WEB_PORT:-18231}:80"]
    depends_on:
      cs-api: {condition: service_healthy}
    stop_grace_period: 2s
  cs-api:
    image: localhost/berth/busybox:1.35.0
    init: true
    network_mode: bridge
    command: >-
      sh -c 'echo "hello from $$HOSTNAME_NOTE" > /www/index.html;
      { grep -c example.lan /etc/hosts; df -k /dev/shm | tail -1 | tr -s " " | cut -d " " -f2;
      cat /proc/sys/net/ipv4/ip_unprivileged_port_start; touch /ro 2>/dev/null && echo rw || echo ro; } > /www/facts;
      exec httpd -f -p 80 -h /www'
    ports: ["127.0.0.1:18232:80"]
    # The runtime options recipes gained for compose files, run for real (ulimits aside).
    read_only: true
    tmpfs: [/www]
    shm_size: 128m
    extra_hosts: ["example.lan:192.0.2.7"]
    sysctls: {net.ipv4.ip_unprivileged_port_start: 80}
    labels: {com.example.role: api}
    environment:
      HOSTNAME_NOTE: the api
    healthcheck: {test: ["CMD", "test", "-f", "/www/index.html"], interval: 2s, retries: 3}
    stop_grace_period: 2s
`;

// A compose file as an app's README has it: its data in ./site beside it (taken with
// --move-data), a required password with no value shared by two services (one generated
// secret), a compose secret from a file, a container port alone.
const AS_PEOPLE_WRITE_IT = `name: cmean
services:
  cm-a:
    image: localhost/berth/busybox:1.35.0
    init: true
    network_mode: bridge
    command: sh -c 'echo "$$APP_PASSWORD" > /www/pw; cat /run/secrets/token > /www/token; exec httpd -f -p 18233 -h /www'
    ports: ["18233"]
    volumes: ["./site:/www"]
    environment: {APP_PASSWORD: "\${APP_PASSWORD:?the shared password}"}
    secrets: [token]
    stop_grace_period: 2s
  cm-b:
    image: localhost/berth/busybox:1.35.0
    init: true
    network_mode: bridge
    command: sh -c 'echo "$$DB_PASSWORD" > /www/pw; exec httpd -f -p 80 -h /www'
    tmpfs: [/www]
    ports: ["127.0.0.1:18234:80"]
    environment: {DB_PASSWORD: "\${APP_PASSWORD:?}"}
    stop_grace_period: 2s
secrets:
  token: {file: ./token.txt}
`;

beforeAll(async () => {
  await ensureTestImages();
  box = await startAppliance('cs');
}, 180_000);
afterAll(async () => {
  await box?.stop();
});

describe('berth import compose, then apply', () => {
  it('runs a two-service stack in order: the web starts once the api is healthy, and serves its page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cstack-'));
    writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
    const imp = await box.berth(['import', 'compose', join(dir, 'compose.yaml')]);
    expect(imp.stderr).toMatch(/2 recipes written/);
    const r = await box.berth(['apply'], { allowFail: true });
    if (r.code !== 0) {
      const why = await Promise.all(
        ['cs-api', 'cs-web'].map((a) => box.berth(['status', a], { allowFail: true })),
      );
      throw new Error(`apply failed:\n${r.stderr}\n${why.map((w) => w.stdout).join('\n')}`);
    }
    expect((await httpGet('http://127.0.0.1:18232/', 30_000)).body.trim()).toBe('hello from the api');
    // extra_hosts, shm_size (KiB), sysctls, read_only: as podman ran them. (ulimits are not
    // tried here: in this sandbox runc may not set rlimits, and refuses the container.)
    expect((await httpGet('http://127.0.0.1:18232/facts', 10_000)).body.trim().split('\n')).toEqual([
      '1',
      '131072',
      '80',
      'ro',
    ]);
    expect((await httpGet('http://127.0.0.1:18231/', 30_000)).body.trim()).toBe('web after a healthy api');
    const st = JSON.parse((await box.berth(['status', '--json'])).stdout) as {
      app: string;
      health?: string;
    }[];
    expect(st.find((a) => a.app === 'cs-api')?.health).toBe('healthy');
  }, 180_000);

  it('runs a compose file as people write it: moved data, one generated password for two apps, a compose secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cmean-'));
    writeFileSync(join(dir, 'compose.yaml'), AS_PEOPLE_WRITE_IT);
    mkdirSync(join(dir, 'site'));
    writeFileSync(join(dir, 'site', 'index.html'), 'the site that was beside the compose file\n');
    writeFileSync(join(dir, 'token.txt'), 'tok-from-a-file\n');
    const imp = await box.berth(['import', 'compose', dir, '--move-data']);
    expect(imp.stderr).toMatch(/2 recipes written/);
    expect(imp.stdout).toMatch(/APP_PASSWORD is required and has no value: berth generates it/);
    expect(imp.stdout).toMatch(/container port 18233 has no host port/);
    expect(existsSync(join(dir, 'site'))).toBe(false);
    const r = await box.berth(['apply'], { allowFail: true });
    expect(r.code, r.stderr).toBe(0);
    const get = async (url: string) => (await httpGet(url, 30_000)).body.trim();
    expect(await get('http://127.0.0.1:18233/index.html')).toBe('the site that was beside the compose file');
    const a = await get('http://127.0.0.1:18233/pw');
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await get('http://127.0.0.1:18234/pw')).toBe(a);
    expect(await get('http://127.0.0.1:18233/token')).toBe('tok-from-a-file');
    expect(imp.stdout).not.toContain(a);
  }, 180_000);
});
