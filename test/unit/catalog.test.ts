// The catalog: every app's recipes are there, pinned, checked, commented, healthy where the
// app has a health endpoint, announced; no two apps claim a host port unless they are
// alternatives; search ranks by name first; add writes all of a stack or nothing.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { enableText } from '../../src/catalog/add.js';
import { loadCatalog } from '../../src/catalog/catalog.js';
import { searchCatalog } from '../../src/catalog/search.js';
import { loadRecipes } from '../../src/recipe/load.js';
import { CHECK_CTX, runBerth } from '../helpers.js';

const DIR = join(import.meta.dirname, '../../recipes/catalog');
const APPS = join(DIR, 'apps');
/** Apps with no health endpoint that a check inside their image could use. */
const NO_HEALTH = new Set(['adguard-home']);

describe('the catalog', async () => {
  const catalog = await loadCatalog(DIR);
  const set = await loadRecipes([APPS], CHECK_CTX);
  const byName = new Map(set.apps.map((a) => [a.name, a]));

  it('has at least 15 apps, each recipe of each app present and valid, and no recipe outside an app', () => {
    expect(catalog.apps.length).toBeGreaterThanOrEqual(15);
    expect(set.diagnostics).toEqual([]);
    const listed = catalog.apps.flatMap((a) => a.recipes).sort();
    const files = readdirSync(APPS)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -5))
      .sort();
    expect(listed).toEqual(files);
    for (const r of listed) expect(byName.get(r)?.file).toBe(join(APPS, `${r}.yaml`));
  });

  it.each(catalog.apps.map((a) => [a.name, a] as const))(
    '%s: pinned, commented, off until enabled, announced',
    (_n, app) => {
      for (const r of app.recipes) {
        const a = byName.get(r)!;
        expect(a.image).toMatch(/:[^:/]*\d[^:/]*$/); // a version tag
        expect(a.image).not.toMatch(/:latest$/);
        expect(a.enabled).toBe(false);
        if (!NO_HEALTH.has(r)) expect(a.health, `${r} has a health check`).toBeDefined();
        const head = readFileSync(a.file, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('#'));
        expect(head.length).toBeGreaterThanOrEqual(3);
      }
      const main = byName.get(app.recipes[0]!)!;
      const text = readFileSync(main.file, 'utf8');
      expect(text).toMatch(/^# Network: (host|bridge)/m);
      expect(text).toMatch(/^# Edit: /m);
      expect(main.advertise.map((d) => d.type)).toContain('_http._tcp');
    },
  );

  it('has no two apps claiming the same host port unless they are alternatives', () => {
    const claims = new Map<string, string>();
    const clashes: string[] = [];
    for (const app of catalog.apps) {
      const ports = new Set(app.hostPorts);
      for (const r of app.recipes) {
        const a = byName.get(r)!;
        for (const p of a.ports) ports.add(`${p.host}/${p.protocol}`);
        if (a.network === 'host') for (const d of a.advertise) ports.add(`${d.port}/${d.protocol}`);
      }
      for (const p of ports) {
        const other = claims.get(p);
        if (other && !app.alternatives.includes(other)) clashes.push(`${p}: ${other} and ${app.name}`);
        claims.set(p, app.name);
      }
    }
    expect(clashes).toEqual([]);
  });

  it.each([
    [['nextcloud'], ['nextcloud']],
    [['photos'], ['immich']],
    [['dns'], ['adguard-home', 'pihole']],
    [['music'], ['jellyfin', 'navidrome']],
    [
      ['ad', 'blocking'],
      ['adguard-home', 'pihole'],
    ],
    [['nothing-like-it'], []],
  ])('search %j finds %j, best first', (words, want) => {
    expect(searchCatalog(catalog.apps, words).map((a) => a.name)).toEqual(want);
  });

  it('enabling keeps the comments and the layout', () => {
    const text = readFileSync(join(APPS, 'navidrome.yaml'), 'utf8');
    const on = enableText(text);
    expect(on).toBe(text.replace('enabled: false', 'enabled: true'));
  });
});

describe('berth search and berth add', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const berth = (...argv: string[]) =>
    runBerth(argv, {
      BERTH_RECIPES_DIR: join(dir, 'recipes'),
      BERTH_DATA_DIR: join(dir, 'data'),
      BERTH_CATALOG_DIR: DIR,
    });
  const recipes = () => readdirSync(join(dir, 'recipes')).sort();

  it('adds a whole stack switched off, says what it will do, and refuses to add it twice', async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-catalog-'));
    const r = await berth('add', 'nextcloud');
    expect(r.code).toBe(0);
    expect(recipes()).toEqual(['nextcloud-db.yaml', 'nextcloud-redis.yaml', 'nextcloud.yaml']);
    expect(r.out).toContain('network: bridge and nextcloud; ports 8080→80/tcp');
    expect(r.out).toContain('starts after: nextcloud-db (healthy), nextcloud-redis (healthy)');
    expect(r.out).toMatch(/secrets made on first apply: .*nextcloud\/\.secrets\/admin_password/);
    expect(r.out).toMatch(/Added switched off/);
    const again = await berth('add', 'nextcloud');
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/nextcloud is already in .*nextcloud\.yaml/);
  });

  it('with --enable, a second DNS blocker on port 53 is refused and nothing of it is written', async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-catalog-'));
    expect((await berth('add', 'adguard-home', '--enable')).code).toBe(0);
    expect(readFileSync(join(dir, 'recipes/adguard-home.yaml'), 'utf8')).toMatch(/^enabled: true$/m);
    const r = await berth('add', 'pihole', '--enable');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/host port 53\/tcp is already taken by app 'adguard-home'/);
    expect(r.out).toMatch(/nothing was written/);
    expect(recipes()).toEqual(['adguard-home.yaml']);
  });

  it('refuses a host-network app whose ports an enabled app already uses', async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-catalog-'));
    mkdirSync(join(dir, 'recipes'));
    writeFileSync(
      join(dir, 'recipes/other.yaml'),
      'name: other\nimage: localhost/x:1\nports: ["7359:7359/udp"]\n',
    );
    const r = await berth('add', 'jellyfin', '--enable');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /jellyfin listens on 7359\/udp on the host network, which app 'other' .* already uses/,
    );
    expect(recipes()).toEqual(['other.yaml']);
  });

  it('shows loudly what gives an app power over the host, and names a near miss', async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-catalog-'));
    writeFileSync(join(dir, 'placeholder'), '');
    expect((await berth('add', 'pihole')).out).toContain('! power over the host: capabilities NET_ADMIN');
    expect((await berth('add', 'jellyfin')).out).toContain(
      "! power over the host: devices /dev/dri; the host's network",
    );
    const miss = await berth('add', 'jelyfin');
    expect(miss.code).toBe(1);
    expect(miss.out).toMatch(/no app 'jelyfin' in the catalog; did you mean jellyfin\?/);
    const s = await berth('search', 'password');
    expect(s.out).toMatch(/^vaultwarden +Vaultwarden: /m);
  });
});
