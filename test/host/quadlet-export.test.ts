// berth export quadlet, checked by the real Quadlet generator of the appliance's podman 5.4
// (from the trixie tree the image build caches): for every shipped recipe, catalog recipe
// and golden fixture, the `podman run` that Quadlet generates from the exported files must
// mean what berth's own unit runs: the same image, command, ports, volumes (the same data
// dirs), environment, network, devices, capabilities, health check, user and limits.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuadletError, renderQuadlet } from '../../src/export/quadlet.js';
import type { App } from '../../src/recipe/app.js';
import { loadRecipes } from '../../src/recipe/load.js';
import { podmanRunArgs } from '../../src/render/podman-args.js';
import { CHECK_CTX, RENDER_CTX, runBerth, validApp } from '../helpers.js';
import { extractQuadlet, generated, meaning } from '../quadlet-run.js';

const root = join(import.meta.dirname, '..', '..');
const cache = process.env.BERTH_IMAGE_CACHE ?? join(root, 'image-build', 'cache');
let work: string;
let quadlet: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-quadlet-'));
  quadlet = extractQuadlet(cache, work);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function allApps(): Promise<App[]> {
  const shipped = await loadRecipes(
    [join(root, 'recipes'), join(root, 'recipes', 'catalog', 'apps')],
    CHECK_CTX,
  );
  const fixtures = join(root, 'test', 'fixtures', 'render');
  const golden = readdirSync(fixtures)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => validApp(readFileSync(join(fixtures, f), 'utf8'), f));
  return [...shipped.apps, ...golden].map((a) => ({ ...a, enabled: true }));
}

describe('berth export quadlet, through the real Quadlet generator', async () => {
  const apps = await allApps();
  const ctx = {
    ...RENDER_CTX,
    presentDevices: new Set(apps.flatMap((a) => a.devices.map((d) => d.path)).filter((p) => existsSync(p))),
  };

  it.each(apps.map((a) => [a.name, a] as const))('%s: the same podman run as berth', (_n, given) => {
    let app = given;
    if (app.command?.includes('')) {
      // Quadlet loses an empty argument and all after it: berth refuses rather than export it.
      expect(() => renderQuadlet(app, ctx)).toThrow(QuadletError);
      expect(() => renderQuadlet(app, ctx)).toThrow(/empty argument/);
      app = { ...app, command: app.command!.filter((c) => c !== '') };
    }
    const files = renderQuadlet(app, ctx);
    const volumes = new Map(
      files
        .filter((f) => f.name.endsWith('.volume'))
        .map((f) => [/^VolumeName=(.*)$/m.exec(f.text)![1]!, /^Device=(.*)$/m.exec(f.text)![1]!] as const),
    );
    const quadletRun = meaning(generated(quadlet, work, files, `berth-${app.name}.service`), volumes);
    const berthRun = meaning(podmanRunArgs(app, ctx, 'h'));
    expect(quadletRun.image).toBe(app.image);
    expect(quadletRun.command).toEqual(berthRun.command);
    expect(quadletRun.flags).toEqual(berthRun.flags.filter((f) => !f.startsWith('--label=berth.hash')));
  });

  it('berth export quadlet --all writes the files of every app it can, and names the one it cannot', async () => {
    const dir = mkdtempSync(join(work, 'cli-'));
    mkdirSync(join(dir, 'recipes'));
    writeFileSync(
      join(dir, 'recipes/ok.yaml'),
      'name: ok\nimage: docker.io/library/redis:7.4.1\nvolumes: {data: {target: /data}}\n',
    );
    writeFileSync(
      join(dir, 'recipes/empty-arg.yaml'),
      'name: empty-arg\nimage: docker.io/library/redis:7.4.1\ncommand: [a, "", b]\n',
    );
    const r = await runBerth(['export', 'quadlet', '--all', '--out', join(dir, 'out')], {
      BERTH_RECIPES_DIR: join(dir, 'recipes'),
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/not exported: empty-arg \(.*empty-arg\.yaml\): an empty argument/);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['berth-ok.container', 'ok-data.volume']);
    const usage = await runBerth(['export', 'helm'], {});
    expect(usage.code).toBe(2);
  });

  it('writes the .volume and .network files the container names, and no [Install] for a disabled app', () => {
    const app = apps.find((a) => a.name === 'immich-db')!;
    const files = renderQuadlet({ ...app, enabled: false }, ctx);
    expect(files.map((f) => f.name)).toEqual([
      'berth-immich-db.container',
      'immich-db-data.volume',
      'immich.network',
    ]);
    expect(files[0]!.text).not.toContain('[Install]');
  });
});
