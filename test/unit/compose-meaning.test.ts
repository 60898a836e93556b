// berth import compose takes compose files as people have them: what a relative bind, a
// placeholder path, a required secret, a merge key, a container-only port, a shared volume
// and a compose secret mean is kept, with a safe default said aloud; hostile inputs are
// still refused, and nothing is moved or written unless all of it converts.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { looksPlaceholder } from '../../src/compose/binds.js';
import { importCompose } from '../../src/compose/import.js';
import { composeUrl, fetchComposeUrl, findComposeFile } from '../../src/compose/source.js';
import { importSummary } from '../../src/compose/summary.js';
import type { CheckContext } from '../../src/recipe/check.js';
import { parseRecipeText } from '../../src/recipe/parse.js';
import { composeWorkdir } from '../compose-import.js';

const { work, imp } = composeWorkdir('berth-compose-meaning-');
let k = 0;
/** Allowed roots and a data dir of the test's own (an import may make folders and secrets there). */
function places(): CheckContext {
  const base = join(work, `places${++k}`);
  mkdirSync(join(base, 'srv'), { recursive: true });
  return { allowedRoots: [join(base, 'srv')], dataDir: join(base, 'data') };
}
const recipe = (out: string, app: string, ctx: CheckContext) => {
  const r = parseRecipeText(join(out, `${app}.yaml`), readFileSync(join(out, `${app}.yaml`), 'utf8'), ctx);
  expect(r.diagnostics).toEqual([]);
  return r.app!;
};

describe('binds as people write them', () => {
  it('a relative bind is an app volume; a small file beside the compose file is a recipe file', async () => {
    const ctx = places();
    const r = await imp(
      'services:\n  web:\n    image: x/web:1\n    volumes: ["./data:/data", "./vw-data/:/vw", "./init.sql:/docker-entrypoint-initdb.d/init.sql:ro"]\n',
      { ctx, files: { 'init.sql': 'CREATE TABLE t (x int); -- ${not a var}\n' } },
    );
    expect(r.text).not.toMatch(/error/);
    expect(r.text).toMatch(
      /:4:\d+: info: services\.web\.volumes\[0\]: \.\/data \(this project's data\) became the app's volume data/,
    );
    const app = recipe(r.out, 'web', ctx);
    expect(app.volumes.map((v) => [v.name, v.target, v.host])).toEqual([
      ['data', '/data', undefined],
      ['vw-data', '/vw', undefined],
    ]);
    expect(app.files.map((f) => [f.target, f.template])).toEqual([
      // A literal ${ in the file stays literal in the recipe ($${).
      ['/docker-entrypoint-initdb.d/init.sql', 'CREATE TABLE t (x int); -- $${not a var}\n'],
    ]);
  });

  it('a placeholder path is an app volume with a warning naming it; --bind maps one to a folder of yours', async () => {
    const ctx = places();
    const yaml =
      'services:\n  media:\n    image: x/m:1\n    volumes: ["/path/to/config:/config", "/path/to/your/music/folder:/music:ro", "~/Pictures:/pics", "/DATA/AppData//cfg:/cfg"]\n';
    let r = await imp(yaml, { ctx });
    expect(r.text).not.toMatch(/error/);
    for (const [i, src, vol] of [
      [0, '/path/to/config', 'config'],
      [1, '/path/to/your/music/folder', 'music'],
      [2, '~/Pictures', 'pics'],
      [3, '/DATA/AppData//cfg', 'cfg'],
    ] as const)
      expect(r.text).toContain(
        `warning: services.media.volumes[${i}]: ${src} is a placeholder: it became the app's volume ${vol}`,
      );
    expect(recipe(r.out, 'media', ctx).volumes.find((v) => v.name === 'music')?.readonly).toBe(true);
    const music = join(ctx.allowedRoots[0]!, 'music');
    r = await imp(yaml, { ctx, binds: new Map([['/path/to/your/music/folder', music]]) });
    expect(r.text).toContain(`/path/to/your/music/folder is ${music} (--bind)`);
    expect(recipe(r.out, 'media', ctx).volumes.find((v) => v.target === '/music')?.host).toBe(music);
    r = await imp(yaml, { ctx, binds: new Map([['/path/to/config', '/etc/x']]) });
    expect(r.text).toMatch(/--bind \/path\/to\/config=\/etc\/x: \/etc\/x is not under the allowed roots/);
    expect(r.written).toEqual([]);
  });

  it("never takes the host's own paths for placeholders, and never reads out of the compose file's folder", async () => {
    const ctx = places();
    let r = await imp(
      'services:\n  wg:\n    image: x/wg:1\n    volumes: ["/lib/modules:/lib/modules:ro", "/run/dbus:/host/dbus"]\n',
      { ctx },
    );
    expect(r.text).toMatch(
      /POWER OVER THE HOST: services\.wg\.volumes\[0\]: gets the host's own \/lib\/modules \(host_paths\), read-only/,
    );
    expect(r.text).toMatch(
      /volumes\[1\]: gets the host's own \/run\/dbus \(host_paths\), and can WRITE there/,
    );
    expect(recipe(r.out, 'wg', ctx).hostPaths).toEqual([
      { path: '/lib/modules', target: '/lib/modules', readonly: true },
      { path: '/run/dbus', target: '/host/dbus', readonly: false },
    ]);
    r = await imp('services:\n  top:\n    image: x/top:1\n    volumes: ["/:/host/root:ro"]\n', { ctx });
    expect(r.text).toMatch(
      /error: services\.top\.volumes\[0\]: bind mount \/ is a host path outside the allowed roots/,
    );
    expect(r.written).toEqual([]);
    const outside = join(work, 'outside-secret');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'key'), 'k3y');
    r = await imp('services:\n  a:\n    image: x/a:1\n    volumes: ["./escape:/e", "./link.txt:/l"]\n', {
      ctx,
    });
    const dir = r.dir;
    symlinkSync(outside, join(dir, 'escape'));
    symlinkSync(join(outside, 'key'), join(dir, 'link.txt'));
    const again = await importCompose(join(dir, 'compose.yaml'), {
      outDir: r.out,
      profiles: [],
      ctx,
      env: {},
    });
    const text = again.messages.map((m) => m.text).join('\n');
    expect(text).toMatch(/\.\/escape leads out of the compose file's folder/);
    expect(text).toMatch(/\.\/link\.txt leads out of the compose file's folder/);
    expect(text).not.toContain('k3y');
    expect(again.written).toEqual([]);
    expect(looksPlaceholder('/srv/media')).toBe(false);
  });

  it('a volume shared by services becomes one folder of the project, made by the import', async () => {
    const ctx = places();
    const r = await imp(
      'name: cloud\nservices:\n  app: {image: "x/nc:1", volumes: ["nextcloud:/var/www/html"]}\n  cron: {image: "x/nc:1", volumes: ["nextcloud:/var/www/html"]}\nvolumes: {nextcloud: {}}\n',
      { ctx },
    );
    expect(r.text).not.toMatch(/error/);
    const host = join(ctx.allowedRoots[0]!, 'cloud', 'nextcloud');
    expect(r.text).toContain(`volume nextcloud is shared with cron: it became the folder ${host}`);
    for (const a of ['app', 'cron']) expect(recipe(r.out, a, ctx).volumes[0]!.host).toBe(host);
    expect(statSync(host).isDirectory()).toBe(true);
  });
});

describe('--move-data and --copy-data', () => {
  const yaml = 'services:\n  kuma:\n    image: x/kuma:1\n    volumes: ["./data:/app/data"]\n';
  const files = { 'data/kuma.db': 'db', 'data/sub/x.txt': 'x' };

  it('without them, a folder with files is left where it is and the import says how to take it', async () => {
    const ctx = places();
    const r = await imp(yaml, { ctx, files });
    expect(r.text).toMatch(
      /warning: .*\.\/data became the app's volume data, which starts empty: \.\/data holds 2 entries, left where they are; import again with --move-data/,
    );
    expect(existsSync(join(ctx.dataDir, 'apps/kuma/data'))).toBe(false);
  });

  it('--move-data moves the files into the volume, whole; --copy-data leaves them beside the compose file too', async () => {
    let ctx = places();
    let r = await imp(yaml, { ctx, files, data: 'move' });
    expect(r.written).toHaveLength(1);
    const vol = join(ctx.dataDir, 'apps/kuma/data');
    expect(readFileSync(join(vol, 'sub/x.txt'), 'utf8')).toBe('x');
    expect(existsSync(join(r.dir, 'data'))).toBe(false);
    expect(readdirSync(r.dir).filter((f) => f.includes('moved-to-berth'))).toEqual([]);
    ctx = places();
    r = await imp(yaml, { ctx, files, data: 'copy' });
    expect(readFileSync(join(ctx.dataDir, 'apps/kuma/data/kuma.db'), 'utf8')).toBe('db');
    expect(readFileSync(join(r.dir, 'data/kuma.db'), 'utf8')).toBe('db');
    expect(importSummary(r).join('\n')).toMatch(/Data taken:\n {2}.*\/data → .*apps\/kuma\/data \(copied\)/);
  });

  it('refuses to move into a volume that already holds data, and moves nothing', async () => {
    const ctx = places();
    mkdirSync(join(ctx.dataDir, 'apps/kuma/data'), { recursive: true });
    writeFileSync(join(ctx.dataDir, 'apps/kuma/data/old.db'), 'old');
    const r = await imp(yaml, { ctx, files, data: 'move' });
    expect(r.text).toMatch(/already holds data \(1 entries\): nothing was moved/);
    expect(r.written).toEqual([]);
    expect(readFileSync(join(r.dir, 'data/kuma.db'), 'utf8')).toBe('db');
    expect(readdirSync(join(ctx.dataDir, 'apps/kuma/data'))).toEqual(['old.db']);
  });

  it('--dry-run says what it would do and does nothing', async () => {
    const ctx = places();
    const r = await imp(yaml, { ctx, files, data: 'move', dryRun: true });
    expect(r.written).toEqual([]);
    expect(readdirSync(r.out)).toEqual([]);
    expect(existsSync(join(r.dir, 'data/kuma.db'))).toBe(true);
    const text = importSummary(r, { dryRun: true }).join('\n');
    expect(text).toMatch(/^service +app +recipe +action +mapped\nkuma +kuma +.*kuma\.yaml +0 +1/);
    expect(text).toMatch(/Data that would be taken:/);
    expect(text).toMatch(/--- .*kuma\.yaml \(not written: --dry-run\)\n# kuma: imported by berth/);
  });
});

describe('variables and secrets', () => {
  it('a required secret with no value becomes one generated berth secret, the same for every app that uses it', async () => {
    const ctx = places();
    const r = await imp(
      `services:
  server:
    image: x/auth:1
    environment: {PG_PASS: "\${PG_PASS:?database password required}", AUTHENTIK_SECRET_KEY: "\${AUTHENTIK_SECRET_KEY:?secret key required}"}
  db:
    image: x/pg:16
    environment: {POSTGRES_PASSWORD: "\${PG_PASS}"}
    healthcheck: {test: ["CMD-SHELL", "pg_isready"]}
`,
      { ctx },
    );
    expect(r.text).not.toMatch(/error/);
    expect(r.text).toMatch(
      /info: PG_PASS is required and has no value: berth generates it as the secret PG_PASS/,
    );
    const server = recipe(r.out, 'server', ctx);
    expect(server.env.find((e) => e.name === 'PG_PASS')).toMatchObject({ secret: true });
    expect(readFileSync(join(r.out, 'server.yaml'), 'utf8')).toContain('PG_PASS: ${secret:PG_PASS}');
    // Every use of the variable is the same secret, as Compose gives one value to every use.
    expect(readFileSync(join(r.out, 'db.yaml'), 'utf8')).toContain('POSTGRES_PASSWORD: ${secret:PG_PASS}');
    const own = (app: string) => readFileSync(join(ctx.dataDir, 'apps', app, '.secrets', 'PG_PASS'), 'utf8');
    expect(own('db')).toBe(own('server'));
    // One app only: made by its first apply, as berth always does.
    expect(existsSync(join(ctx.dataDir, 'apps/server/.secrets/AUTHENTIK_SECRET_KEY'))).toBe(false);
  });

  it('seeds the same value into every app that requires the secret', async () => {
    const ctx = places();
    const r = await imp(
      'services:\n  app: {image: "x/a:1", environment: {DB_PASSWORD: "${DB_PASSWORD:?}"}}\n  db: {image: "x/pg:1", environment: {POSTGRES_PASSWORD: "${DB_PASSWORD:?}"}}\n',
      { ctx },
    );
    expect(r.written).toHaveLength(2);
    const value = (app: string) => join(ctx.dataDir, 'apps', app, '.secrets', 'DB_PASSWORD');
    expect(readFileSync(value('app'), 'utf8')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(readFileSync(value('app'), 'utf8')).toBe(readFileSync(value('db'), 'utf8'));
    expect(statSync(value('db')).mode & 0o777).toBe(0o600);
    expect(r.text).not.toContain(readFileSync(value('app'), 'utf8'));
  });

  it('refuses a generated secret where it would be shown (a command line)', async () => {
    const r = await imp('services:\n  a: {image: "x/a:1", command: ["run", "--token", "${API_TOKEN:?}"]}\n', {
      ctx: places(),
    });
    expect(r.text).toMatch(
      /error: services\.a\.command: API_TOKEN must be given a value: berth generates secrets for environment variables and files only/,
    );
    expect(r.written).toEqual([]);
  });

  it('compose secrets from files become berth secrets at /run/secrets, and X_FILE keeps working', async () => {
    const ctx = places();
    const r = await imp(
      `services:
  proxy:
    image: x/proxy:1
    environment: ["CF_API_KEY_FILE=/run/secrets/cf_api_key"]
    secrets: [cf_api_key, {source: admin-pw, target: /etc/admin.pw}]
secrets:
  cf_api_key: {file: ./secrets/cf.txt}
  admin-pw: {file: ./secrets/pw.txt}
`,
      { ctx, files: { 'secrets/cf.txt': 'cf-s3cret\n', 'secrets/pw.txt': 'pw-s3cret' } },
    );
    expect(r.text).not.toMatch(/error/);
    expect(r.text).not.toContain('s3cret');
    const app = recipe(r.out, 'proxy', ctx);
    expect(app.files.map((f) => [f.target, f.template]).sort()).toEqual([
      ['/etc/admin.pw', '${secret:admin_pw}'],
      ['/run/secrets/cf_api_key', '${secret:cf_api_key}'],
    ]);
    expect(app.env.find((e) => e.name === 'CF_API_KEY_FILE')).toBeDefined();
    const seeded = (n: string) => readFileSync(join(ctx.dataDir, 'apps/proxy/.secrets', n), 'utf8');
    expect(seeded('cf_api_key')).toBe('cf-s3cret');
    expect(seeded('admin_pw')).toBe('pw-s3cret');
    expect(readFileSync(join(r.out, 'proxy.yaml'), 'utf8')).not.toContain('s3cret');
  });

  it('a missing env file is said, with the example beside it; the app is imported', async () => {
    const r = await imp('services:\n  a: {image: "x/a:1", env_file: [.env.app]}\n', {
      ctx: places(),
      files: { '.env.app.example': 'X=1\n' },
    });
    expect(r.text).toMatch(
      /warning: services\.a\.env_file\[0\]: the env file \.env\.app is not there: .* make it from \.env\.app\.example beside it/,
    );
    expect(r.written).toHaveLength(1);
  });
});

describe('YAML as real app stores write it', () => {
  it('merge keys and anchors resolve as Compose resolves them', async () => {
    const r = await imp(
      `x-env: &env
  TZ: Europe/Berlin
  LOG: info
x-base: &base
  image: x/app:1
  restart: unless-stopped
services:
  web:
    <<: *base
    environment:
      <<: *env
      LOG: debug
  worker:
    << : [*base]
    environment: *env
`,
      { ctx: places() },
    );
    expect(r.text).not.toMatch(/error/);
    const web = readFileSync(join(r.out, 'web.yaml'), 'utf8');
    expect(web).toMatch(/TZ: Europe\/Berlin/);
    expect(web).toMatch(/LOG: debug/);
    expect(web).toMatch(/restart: always/);
    expect(readFileSync(join(r.out, 'worker.yaml'), 'utf8')).toMatch(/LOG: info/);
  });

  it('counts what aliases expand to: hundreds of aliases import, a billion laughs is refused', async () => {
    const services = Array.from(
      { length: 300 },
      (_, i) => `  s${i}:\n    <<: *base\n    environment: *env`,
    ).join('\n');
    const many = `x-env: &env {A: "1", B: "2", C: "3"}\nx-base: &base {image: "x/app:1", restart: always}\nservices:\n${services}\n`;
    let r = await imp(many, { ctx: places(), dryRun: true });
    expect(r.messages.filter((m) => m.level === 'error')).toEqual([]);
    expect(r.recipes).toHaveLength(300);
    const levels = Array.from({ length: 12 }, (_, i) =>
      i === 0
        ? 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
        : `l${i}: &l${i} [${Array(10)
            .fill(`*l${i - 1}`)
            .join(',')}]`,
    );
    r = await imp(`${levels.join('\n')}\nservices: {}\n`);
    expect(r.text).toMatch(/the document's aliases \(\*name\) expand to more than 200000 values/);
  });
});

describe('ports and images', () => {
  it('a container port alone is published on the same host port, with a warning', async () => {
    const ctx = places();
    const r = await imp('services:\n  api: {image: "x/api:1", ports: ["8000", "53/udp"]}\n', { ctx });
    expect(r.text).toMatch(/warning: services\.api\.ports\[0\]: container port 8000 has no host port/);
    expect(recipe(r.out, 'api', ctx).ports.map((p) => `${p.host}:${p.container}/${p.protocol}`)).toEqual([
      '8000:8000/tcp',
      '53:53/udp',
    ]);
  });

  it('an image with a build from a URL is used as Compose uses it; an unset version tag becomes latest, said', async () => {
    const ctx = places();
    const r = await imp(
      'services:\n  rss:\n    image: freshrss/freshrss:latest\n    build: {context: "https://github.com/FreshRSS/FreshRSS.git#latest"}\n  n8n:\n    image: docker.n8n.io/n8nio/n8n:${N8N_VERSION}\n',
      { ctx },
    );
    expect(r.text).not.toMatch(/error/);
    expect(r.text).toMatch(/warning: services\.rss\.build: the image is used, and the build from https:/);
    expect(r.text).toMatch(/variable N8N_VERSION is not set/);
    expect(recipe(r.out, 'n8n', ctx).image).toBe('docker.n8n.io/n8nio/n8n:latest');
  });
});

describe('where the compose file comes from', () => {
  it('reads https, or http from this machine only; a GitHub page as its raw file', () => {
    expect(composeUrl('https://github.com/org/app/blob/main/docker/compose.yaml').href).toBe(
      'https://raw.githubusercontent.com/org/app/main/docker/compose.yaml',
    );
    expect(composeUrl('http://127.0.0.1:8080/c.yaml').href).toBe('http://127.0.0.1:8080/c.yaml');
    expect(() => composeUrl('http://example.com/c.yaml')).toThrow(/only https URLs are read/);
    expect(() => composeUrl('file:///etc/shadow')).toThrow(/only https URLs are read/);
    expect(() => composeUrl('not a url')).toThrow(/not a URL/);
  });

  it('downloads a compose file (bounded in size) into a private folder, removed afterwards', async () => {
    const big = 'x'.repeat(1024 * 1024 + 1);
    const server = createServer((req, res) => {
      if (req.url === '/big.yaml') return res.end(big);
      if (req.url === '/gone.yaml') return res.writeHead(404).end();
      res.end('services:\n  web: {image: "nginx:1.27", ports: ["8000"]}\n');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const got = await fetchComposeUrl(`${base}/compose.yaml`);
      expect(statSync(got.file).mode & 0o777).toBe(0o600);
      const r = await importCompose(got.file, {
        outDir: join(work, 'url-out'),
        profiles: [],
        ctx: places(),
        env: {},
        dryRun: true,
      });
      expect(r.recipes.map((x) => x.text).join('')).toMatch(/8000:8000\/tcp/);
      await got.cleanup();
      expect(existsSync(got.file)).toBe(false);
      await expect(fetchComposeUrl(`${base}/big.yaml`)).rejects.toThrow(/larger than 1048576 bytes/);
      await expect(fetchComposeUrl(`${base}/gone.yaml`)).rejects.toThrow(/the server answered 404/);
    } finally {
      server.close();
    }
  });

  it('finds the compose file in a folder, as Compose looks for it', () => {
    const dir = join(work, 'folder-source');
    mkdirSync(dir, { recursive: true });
    expect(() => findComposeFile(dir)).toThrow(/no compose file in this folder/);
    writeFileSync(join(dir, 'docker-compose.yml'), 'services: {}\n');
    expect(findComposeFile(dir)).toBe(join(dir, 'docker-compose.yml'));
    writeFileSync(join(dir, 'compose.yaml'), 'services: {}\n');
    expect(findComposeFile(dir)).toBe(join(dir, 'compose.yaml'));
  });
});

describe('hostile binds', () => {
  it("refuses the host's secrets and berth's own settings, and a folder that holds them", async () => {
    for (const src of ['/etc/shadow', '/etc', '/root/.ssh', '/etc/berth/notify.yaml']) {
      const r = await imp(`services:\n  a:\n    image: x/a:1\n    volumes: ["${src}:/x:ro"]\n`, {
        ctx: places(),
      });
      expect(r.text, src).toMatch(
        /error: services\.a\.volumes: .*one of the host's secrets or berth's own settings: it is never given to an app/,
      );
      expect(r.written).toEqual([]);
    }
  });
});

describe('compose configs', () => {
  it('become recipe files, from a file beside the compose file or written inline', async () => {
    const ctx = places();
    const r = await imp(
      `services:
  web:
    image: x/web:1
    configs: [site, {source: inline, target: /etc/app/app.conf}]
configs:
  site: {file: ./site.conf}
  inline: {content: "port = 80\\nname = $\${x}\\n"}
`,
      { ctx, files: { 'site.conf': 'server { listen 80; }\n' } },
    );
    expect(r.text).not.toMatch(/error/);
    expect(r.text).toMatch(
      /info: services\.web\.configs\[0\]: config site became a recipe file at \/site, as in Compose/,
    );
    const app = recipe(r.out, 'web', ctx);
    expect(app.files.map((f) => [f.target, f.template]).sort()).toEqual([
      ['/etc/app/app.conf', 'port = 80\nname = $${x}\n'],
      ['/site', 'server { listen 80; }\n'],
    ]);
  });
});
