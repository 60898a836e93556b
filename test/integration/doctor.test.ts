// berth doctor against the real parts: a systemd user manager, real podman starting a real
// container (with --init, as the recipe asks), and real sockets: the apps' own (running)
// processes hold their ports without being conflicts; a stranger holding one is named.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Appliance,
  ensureTestImages,
  httpGet,
  startAppliance,
  webRecipe,
} from '../harness/appliance.js';

interface Report {
  ok: boolean;
  checks: { id: string; status: 'ok' | 'warn' | 'fail'; summary: string; fix?: string }[];
}

let box: Appliance;

const hostApp = `name: dr-host
image: localhost/berth/busybox:1.35.0
init: true
network: host
command: [httpd, -f, -p, "127.0.0.1:18503", -h, /]
stop_timeout: 2s
advertise:
  - {type: _http._tcp, port: 18503}
`;

async function doctor(): Promise<{ code: number; report: Report }> {
  const r = await box.berth(['doctor', '--json'], { allowFail: true });
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

beforeAll(async () => {
  await ensureTestImages();
  box = await startAppliance('dr');
}, 180_000);

afterAll(async () => {
  await box?.stop();
});

describe('berth doctor on a real host', () => {
  it('all ok or warn with the real manager, podman runtime and running apps holding their own ports', async () => {
    await box.writeRecipe('a.yaml', webRecipe('dr', 'a', 18501));
    await box.writeRecipe('host.yaml', hostApp);
    await box.berth(['apply']);
    expect((await httpGet('http://127.0.0.1:18501/name.txt')).body.trim()).toBe('a');
    await httpGet('http://127.0.0.1:18503/');

    const { code, report } = await doctor();
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(byId.systemd!.summary).toMatch(/^systemd user manager \d+\S* answers on unix:path=/);
    expect(byId.runtime).toMatchObject({ status: 'ok' });
    expect(byId.runtime!.summary).toMatch(/started a container from .* with --init$/);
    expect(byId.catatonit).toMatchObject({ status: 'ok', summary: '/usr/libexec/podman/catatonit' });
    expect(byId.recipes).toMatchObject({
      status: 'ok',
      summary: expect.stringMatching(/: 2 recipes, 2 valid, 0 invalid$/),
    });
    // dr-host's httpd listens on 18503 itself (host network), so at least that one is the app's own.
    expect(byId.ports).toMatchObject({ status: 'ok' });
    expect(byId.ports!.summary).toMatch(
      /: none held by another program; [1-9]\d* held by the apps' own running processes$/,
    );
    expect(byId.advertiser!.summary).toMatch(/^ciao: /);
    for (const id of ['podman', 'unit-dir', 'data-dir', 'space-data', 'space-images'])
      expect(byId[id]).toBeDefined();
  });

  it('names a process of another program that holds a port a recipe needs, and exits 1', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(18502, '127.0.0.1', resolve));
    try {
      await box.writeRecipe('b.yaml', webRecipe('dr', 'b', 18502));
      const { code, report } = await doctor();
      expect(code).toBe(1);
      expect(report.ok).toBe(false);
      const port = report.checks.find((c) => c.id === 'port-18502-tcp-dr-b');
      expect(port).toMatchObject({ status: 'fail' });
      expect(port!.summary).toContain(`(pid ${process.pid}) on 127.0.0.1`);
      expect(report.checks.filter((c) => c.status === 'fail')).toHaveLength(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await box.removeRecipe('b.yaml');
    }
  });
});
