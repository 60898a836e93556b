// berth export quadlet, checked by the real Quadlet generator of the appliance's podman 5.4
// (from the trixie tree the image build caches): for every shipped recipe, catalog recipe
// and golden fixture, the `podman run` that Quadlet generates from the exported files must
// mean what berth's own unit runs: the same image, command, ports, volumes (the same data
// dirs), environment, network, devices, capabilities, health check, user and limits.
import { execFileSync, spawnSync } from 'node:child_process';
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

const root = join(import.meta.dirname, '..', '..');
const cache = process.env.BERTH_IMAGE_CACHE ?? join(root, 'image-build', 'cache');
let work: string;
let quadlet: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-quadlet-'));
  const tree = existsSync(cache)
    ? readdirSync(cache).find((f) => /^trixie-base-.*\.tar$/.test(f))
    : undefined;
  if (!tree)
    throw new Error(
      `no trixie tree in ${cache} to take Quadlet from: 'npm run os-image' makes it (npm test does first)`,
    );
  execFileSync('tar', ['-C', work, '-xf', join(cache, tree), './usr/libexec/podman/quadlet']);
  quadlet = join(work, 'usr/libexec/podman/quadlet');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** systemd's word splitting of a command line, then its `%%` and `$$` unescaping. */
export function splitExec(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    let w = '';
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') i++;
        w += line[i++];
      }
      i++;
    } else while (i < line.length && line[i] !== ' ') w += line[i++];
    // `$$` is a literal `$`; a lone `$NAME` would be expanded by systemd: marked, so it never matches.
    out.push(
      w
        .replaceAll('%%', '%')
        .replace(/\$(\$|(?=[A-Za-z_{]))/g, (_m, d: string) => (d ? '$' : '<systemd expands $>')),
    );
  }
  return out;
}

const VALUE_FLAGS = new Set(
  'name cidfile env volume publish network cap-add device health-cmd health-interval health-timeout health-retries health-start-period health-on-failure label user workdir memory cpu-shares stop-timeout entrypoint env-file network-alias pull log-driver log-opt sdnotify cgroups'.split(
    ' ',
  ),
);
const SHORT: Record<string, string> = {
  '-v': '--volume',
  '-e': '--env',
  '-p': '--publish',
  '-d': '--detach',
};
const DROP =
  /^--(name|cidfile|replace|rm|detach|cgroups|sdnotify|pull|log-driver|log-opt|health-interval)(=|$)|^--label=berth\.hash=/;

/** What a `podman run` argv means, with what differs by design (names, timers, pin tags) left out. */
function meaning(argv: readonly string[], volumes: ReadonlyMap<string, string> = new Map()) {
  const flags: string[] = [];
  let i = argv[0] === 'run' ? 1 : 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    let f = SHORT[argv[i]!] ?? argv[i]!;
    if (!f.includes('=') && VALUE_FLAGS.has(f.slice(2))) f = `${f}=${argv[++i]}`;
    if (f.startsWith('--volume=')) {
      const [src, ...rest] = f.slice(9).split(':');
      f = `--volume=${[volumes.get(src!) ?? src, ...rest].join(':')}`;
    }
    if (f.startsWith('--health-cmd=')) {
      const v = f.slice(13);
      const j = v.startsWith('[') ? (JSON.parse(v) as string[]) : undefined;
      if (j?.[0] === 'CMD-SHELL') f = `--health-cmd=${j[1]}`;
    }
    // podman takes capabilities in any case; Quadlet writes them in lower case.
    if (f.startsWith('--cap-add=')) f = f.toUpperCase().replace('--CAP-ADD=', '--cap-add=');
    if (!DROP.test(f)) flags.push(f);
  }
  return { flags: flags.sort(), image: argv[i], command: argv.slice(i + 1) };
}

function generated(files: { name: string; text: string }[], unit: string): string[] {
  const dir = mkdtempSync(join(work, 'units-'));
  for (const f of files) writeFileSync(join(dir, f.name), f.text);
  const r = spawnSync(quadlet, ['-dryrun'], { env: { QUADLET_UNIT_DIRS: dir }, encoding: 'utf8' });
  const text = r.stdout.split(/^---(.*)---$/m);
  const at = text.indexOf(unit);
  if (at < 0) throw new Error(`Quadlet made no ${unit}:\n${r.stderr}`);
  const exec = /^ExecStart=(.*)$/m.exec(text[at + 1]!)?.[1];
  if (!exec) throw new Error(`no ExecStart in ${unit}:\n${text[at + 1]}`);
  return splitExec(exec).slice(1);
}

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
    const quadletRun = meaning(generated(files, `berth-${app.name}.service`), volumes);
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
