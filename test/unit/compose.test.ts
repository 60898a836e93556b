// berth import compose, piece by piece (interpolation, word splitting, ports, images, keys)
// and whole (load → convert → recipes checked as `berth validate` checks them), with files
// Compose rejects, hostile documents and secrets that must never be printed.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertCompose } from '../../src/compose/convert.js';
import { port, qualifyImage } from '../../src/compose/convert.js';
import { formatComposeMessage, importCompose } from '../../src/compose/import.js';
import { interpolate } from '../../src/compose/interpolate.js';
import { splitWords } from '../../src/compose/words.js';
import type { CheckContext } from '../../src/recipe/check.js';
import { composeWorkdir } from '../compose-import.js';
import { CHECK_CTX } from '../helpers.js';

const { work, imp } = composeWorkdir();

describe('interpolation', () => {
  const vars = new Map([
    ['A', 'a'],
    ['EMPTY', ''],
  ]);
  it.each([
    ['$A ${A}', 'a a'],
    ['${B:-dflt} ${EMPTY:-x} ${EMPTY-y}', 'dflt x '],
    ['${A:+alt} ${B:+alt}', 'alt '],
    ['$$A $${A}', '$A ${A}'],
    ['${B:-${A}}', 'a'],
    ['cost: 5$', 'cost: 5$'],
  ])('%j → %j', (text, want) => expect(interpolate(text, vars).value).toBe(want));

  it('says a required variable is missing, with its message', () => {
    expect(interpolate('${B:?set B in .env}', vars).error).toBe('B is required: set B in .env');
    expect(interpolate('${B', vars).error).toMatch(/not closed/);
    expect(interpolate('$B', vars).unset).toEqual(['B']);
  });
});

describe('pieces', () => {
  it.each([
    ['nginx -g "daemon off;"', ['nginx', '-g', 'daemon off;']],
    ["sh -c 'echo $HOME' x\\ y", ['sh', '-c', 'echo $HOME', 'x y']],
    ['a "b \\"c\\""', ['a', 'b "c"']],
  ])('splits %j as Compose does', (text, want) => expect(splitWords(text)).toEqual(want));

  it.each([
    ['8080:80', ['8080:80/tcp']],
    ['127.0.0.1:53:53/udp', ['127.0.0.1:53:53/udp']],
    ['[::1]:8080:80', ['[::1]:8080:80/tcp']],
    ['9000-9001:9000-9001', ['9000:9000/tcp', '9001:9001/tcp']],
    [{ target: 80, published: '8081', protocol: 'tcp', host_ip: '0.0.0.0' }, ['0.0.0.0:8081:80/tcp']],
    ['80', ['80:80/tcp'], /no host port .*published on the same host port 80/],
    ['53/udp', ['53:53/udp'], /same host port 53/],
    ['1-2:1-3', /differ in length/],
  ])('port %j', (p, want, note?: RegExp) => {
    const r = port(p);
    if (want instanceof RegExp) expect(r).toMatch(want);
    else expect(r).toEqual({ ports: want, ...(note ? { note: expect.stringMatching(note) } : {}) });
  });

  it.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['jellyfin/jellyfin:10.10.3', 'docker.io/jellyfin/jellyfin:10.10.3'],
    ['ghcr.io/immich-app/immich-server:v1.121.0', 'ghcr.io/immich-app/immich-server:v1.121.0'],
    ['localhost:5000/x@sha256:abc', 'localhost:5000/x@sha256:abc'],
  ])('image %s → %s', (image, want) => expect(qualifyImage(image).ref).toBe(want));
});

describe('berth import compose', () => {
  it('converts a web app with its database, and writes one recipe per service that berth accepts', async () => {
    const r = await imp(
      `name: shop
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
    command: nginx -g "daemon off;"
    environment:
      DB_HOST: db
      MODE: \${MODE:-prod}
      LITERAL: "$\${NOT_A_VAR}"
    depends_on:
      db: {condition: service_healthy}
    volumes: ["html:/usr/share/nginx/html", "/srv/shop/conf:/etc/nginx/conf.d:ro"]
    restart: unless-stopped
    stop_grace_period: 1m30s
    deploy: {resources: {limits: {memory: 256m}}}
  db:
    image: postgres:16.6
    environment: ["POSTGRES_PASSWORD=\${DB_PASSWORD}"]
    healthcheck: {test: ["CMD-SHELL", "pg_isready"], interval: 10s, retries: 5}
volumes:
  html:
`,
      { env: 'DB_PASSWORD=very-secret-value\n' },
    );
    expect(r.text).not.toMatch(/error/);
    expect(r.written.map((f) => f.split('/').pop())).toEqual(['web.yaml', 'db.yaml']);
    const web = readFileSync(join(r.out, 'web.yaml'), 'utf8');
    expect(web).toContain('image: docker.io/library/nginx:1.27');
    expect(web).toMatch(/ports:\n {2}- 8080:80\/tcp/);
    expect(web).toMatch(/command:\n {2}- nginx\n {2}- -g\n {2}- daemon off;/);
    expect(web).toContain('LITERAL: $${NOT_A_VAR}');
    expect(web).toMatch(/depends_on:\n {2}- db: healthy/);
    expect(web).toMatch(/host: \/srv\/shop\/conf\n {4}readonly: true/);
    expect(web).toContain('stop_timeout: 1m30s');
    expect(web).toContain('memory: 256M');
    expect(web).toMatch(/networks:\n {2}- shop/);
    expect(readFileSync(join(r.out, 'db.yaml'), 'utf8')).toMatch(
      /health:\n {2}cmd: pg_isready\n {2}interval: 10s\n {2}retries: 5/,
    );
    // The secret's value never appears in what berth says.
    expect(r.text).not.toContain('very-secret-value');
    expect(r.text).toMatch(/POSTGRES_PASSWORD looks like a secret/);
  });

  it('rejects what Compose rejects, at the line and column, and writes nothing', async () => {
    const r = await imp('services:\n  web:\n    image: nginx:1\n    portz: ["80:80"]\n');
    expect(r.text).toMatch(/compose\.yaml:4:5: error: services\.web\.portz: unknown key 'portz'/);
    expect(r.written).toEqual([]);
    expect(readdirSync(r.out)).toEqual([]);
  });

  it('says every key it cannot express at its line, loudly what gives power over the host, and writes nothing', async () => {
    const r = await imp(`services:
  tool:
    image: alpine:3.20
    privileged: true
    cap_add: [SYS_ADMIN]
    devices: ["/dev/dri:/dev/dri"]
    volumes: ["/var/run/docker.sock:/var/run/docker.sock", "./data:/data"]
    tmpfs: /tmp
    pid: host
    ports: ["80"]
`);
    expect(r.written).toEqual([]);
    for (const want of [
      /:4:5: POWER OVER THE HOST: services\.tool\.privileged: runs privileged/,
      /:5:5: POWER OVER THE HOST: services\.tool\.cap_add: gets extra Linux capabilities SYS_ADMIN/,
      /POWER OVER THE HOST: services\.tool\.devices: gets host devices \/dev\/dri/,
      /:7:\d+: POWER OVER THE HOST: services\.tool\.volumes\[0\]: gets the container engine's socket \(\/var\/run\/docker\.sock\): podman's API is given at \/var\/run\/docker\.sock \(podman_socket: true\)/,
      /:7:\d+: info: services\.tool\.volumes\[1\]: \.\/data \(this project's data\) became the app's volume data/,
      /:9:5: error: services\.tool\.pid: a recipe has no pid key/,
      /:10:\d+: warning: services\.tool\.ports\[0\]: container port 80 has no host port .* same host port 80/,
    ])
      expect(r.text).toMatch(want);
  });

  it('never changes a meaning silently: read_only strings, clashing mount names, shared volumes, external networks, env file order', async () => {
    let r = await imp(
      `services:
  a:
    image: x/y:1
    env_file: [a.env, ./env/b.env]
    environment: {Y: own}
    volumes:
      - {type: bind, source: /srv/a, target: /etc/app/config, read_only: "true"}
      - /srv/b:/opt/config
`,
      { files: { 'a.env': 'X=1\nY=a\n', 'env/b.env': 'X=2\n' } },
    );
    expect(r.text).not.toMatch(/error/);
    const a = readFileSync(join(r.out, 'a.yaml'), 'utf8');
    expect(a).toMatch(/X: "2"/);
    expect(a).toMatch(/Y: own/);
    expect(a).toMatch(/config:\n {4}target: \/etc\/app\/config\n {4}host: \/srv\/a\n {4}readonly: true/);
    expect(a).toMatch(/config-2:\n {4}target: \/opt\/config/);
    r = await imp(`services:
  a: {image: "x/y:1", volumes: ["data:/d"], networks: [outside]}
  b: {image: "x/y:1", volumes: ["data:/d"]}
volumes: {data: {}}
networks: {outside: {external: true}}
`);
    expect(r.text).toMatch(/services\.a\.volumes\[0\]: volume data is shared with b/);
    expect(r.text).toMatch(/services\.a\.networks: network outside is external in Compose/);
    expect(r.written).toEqual([]);
  });

  it('turns what once crashed into messages: a bind with no source, variables nested 20,000 deep', async () => {
    let r = await imp('services:\n  a:\n    image: x/y:1\n    volumes: [{type: bind, target: /x}]\n');
    expect(r.text).toMatch(/a bind mount needs a source/);
    r = await imp(
      `services:\n  a:\n    image: x/y:1\n    environment: {A: "${'${A:-'.repeat(20000)}x${'}'.repeat(20000)}"}\n`,
    );
    expect(r.text).toMatch(/variables nest deeper than 16 levels/);
    expect(r.written).toEqual([]);
  });

  it('says what it leaves out at the top level: include', async () => {
    const r = await imp('include: [other.yaml]\nservices:\n  a: {image: "x/y:1"}\n');
    expect(r.text).toMatch(
      /compose\.yaml:1:1: error: include: include is not supported: import each included file on its own/,
    );
    expect(r.written).toEqual([]);
  });

  it('copies an env file only from beside the compose file or under the allowed roots, never from the data dir', async () => {
    const base = join(work, 'places');
    const ctx: CheckContext = { allowedRoots: [join(base, 'srv')], dataDir: join(base, 'srv/berth-data') };
    const secret = join(ctx.dataDir, 'apps/vault/.secrets/env');
    mkdirSync(dirname(secret), { recursive: true });
    writeFileSync(secret, 'VAULT_TOKEN=s3cr3t-of-another-app\n');
    mkdirSync(join(base, 'srv/shared'), { recursive: true });
    writeFileSync(join(base, 'srv/shared/common.env'), 'COMMON=1\n');
    writeFileSync(join(base, 'elsewhere.env'), 'ELSEWHERE=1\n');
    const app = (envFile: string) => `services:\n  a:\n    image: x/y:1\n    env_file: [${envFile}]\n`;
    let k = 0;
    for (const [envFile, why] of [
      [relative(join(work, `envplace${k + 1}`), secret), /is in berth's data dir \(.*berth-data\)/],
      [secret, /is in berth's data dir/],
      ['link.env', /is in berth's data dir/], // a link beside the compose file, to the secret
      [join(base, 'elsewhere.env'), /is outside the compose file's folder .* and the allowed roots/],
    ] as const) {
      const dir = join(work, `envplace${++k}`);
      mkdirSync(dir);
      symlinkSync(secret, join(dir, 'link.env'));
      writeFileSync(join(dir, 'compose.yaml'), app(envFile));
      const r = await importCompose(join(dir, 'compose.yaml'), { outDir: dir, profiles: [], ctx, env: {} });
      const text = r.messages.map(formatComposeMessage).join('\n');
      expect(text).toMatch(/compose\.yaml:4:\d+: error: services\.a\.env_file\[0\]: the env file /);
      expect(text).toMatch(why);
      expect(text).not.toContain('s3cr3t');
      expect(r.written).toEqual([]);
    }
    const ok = await imp(app(`${join(base, 'srv/shared/common.env')}, local.env`), {
      ctx,
      files: { 'local.env': 'LOCAL=1\n' },
    });
    expect(ok.text).not.toMatch(/error/);
    expect(readFileSync(join(ok.out, 'a.yaml'), 'utf8')).toMatch(/COMMON: "1"\n {2}LOCAL: "1"/);
  });

  it('names, and never prints, the values it takes from the environment of the command', async () => {
    const r = await imp(
      'services:\n  a:\n    image: x/y:1\n    environment: {DB_PASSWORD: "${DB_PASSWORD}", LANG: "${LANG:-C}", B: "${FROM_DOTENV}"}\n',
      { procEnv: { DB_PASSWORD: 'shell-secret-value' }, env: 'FROM_DOTENV=dotenv-value\n' },
    );
    expect(r.text).toMatch(
      /compose\.yaml:4:\d+: warning: the value of DB_PASSWORD was taken from the environment of this command \(not shown here\)/,
    );
    expect(r.text).not.toMatch(/LANG|FROM_DOTENV/);
    expect(r.text).not.toContain('shell-secret-value');
    expect(readFileSync(join(r.out, 'a.yaml'), 'utf8')).toContain('DB_PASSWORD: shell-secret-value');
  });

  it('names the missing required variables in one message, with what to write, and never prints a value', async () => {
    const r = await imp(
      'services:\n  a:\n    image: x/y:1\n    environment: {DOMAIN: "${DOMAIN:?put DOMAIN in .env}", MAIL: "${MAIL:?}", SET: "${SET:?}"}\n',
      { procEnv: { SET: 'v4lue' } },
    );
    expect(r.text).toMatch(
      /compose\.yaml:4:\d+: error: required variables have no value: DOMAIN \(put DOMAIN in \.env\), MAIL; write them in a file \(DOMAIN=… MAIL=…, one per line\) and import again with --env-file FILE/,
    );
    expect(r.messages.filter((m) => m.level === 'error')).toHaveLength(1);
    expect(r.text).not.toContain('v4lue');
    expect(r.written).toEqual([]);
  });

  it('takes only services without a profile, unless --profile names theirs; resolves extends', async () => {
    const yaml = `services:
  base: {image: x/base:1, environment: {A: "1"}, profiles: [never]}
  app: {extends: base, environment: {B: "2"}, profiles: []}
  debug: {image: x/debug:1, profiles: [debug]}
`;
    let r = await imp(yaml);
    expect(r.apps.map((a) => a.app)).toEqual(['app']);
    expect(readFileSync(join(r.out, 'app.yaml'), 'utf8')).toMatch(/env:\n {2}A: "1"\n {2}B: "2"/);
    r = await imp(yaml, { profiles: ['debug'] });
    expect(r.apps.map((a) => a.app).sort()).toEqual(['app', 'debug']);
  });

  it('checks the recipes beside the recipes dir: a port taken there stops the import', async () => {
    const out = join(work, 'shared-recipes');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'other.yaml'), 'name: other\nimage: docker.io/x/y:1\nports: ["8080:80"]\n');
    const r = await imp('services:\n  web: {image: "nginx:1", ports: ["8080:80"]}\n', { out });
    expect(r.text).toMatch(
      /compose\.yaml:2:\d+: error: services\.web\.ports: host port 8080\/tcp is already taken by app .other. .*\(the recipe.s ports\[0\]/,
    );
    expect(readdirSync(out)).toEqual(['other.yaml']);
  });

  it('refuses hostile documents cleanly: an alias bomb, a huge file, bad UTF-8, deep nesting', async () => {
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\nservices: {}\n`;
    for (const doc of [
      bomb,
      `services:\n  a:\n    image: x/y:1\n    labels: {k: "${'x'.repeat(1100 * 1024)}"}\n`,
      `${'['.repeat(5000)}${']'.repeat(5000)}\n`,
    ]) {
      const r = await imp(doc);
      expect(r.written).toEqual([]);
      expect(r.messages.some((m) => m.level === 'error')).toBe(true);
    }
    const dir = join(work, 'bad-utf8');
    mkdirSync(dir);
    writeFileSync(join(dir, 'compose.yaml'), Buffer.from([0x73, 0x3a, 0xff, 0xfe]));
    const r = await importCompose(join(dir, 'compose.yaml'), {
      outDir: dir,
      profiles: [],
      ctx: { ...CHECK_CTX, dataDir: join(work, 'data') },
      env: {},
    });
    expect(r.messages.map(formatComposeMessage).join('\n')).toMatch(/not UTF-8/);
  });

  it('converts pure data without touching the disk (convertCompose)', () => {
    const c = convertCompose(
      { services: { My_App: { image: 'nginx:1', network_mode: 'host' } } },
      {
        file: 'f',
        dir: '/',
        profiles: [],
        allowedRoots: ['/srv'],
        project: 'p',
        locate: () => undefined,
        envFilePlaces: { dir: '/', allowedRoots: ['/srv'], dataDir: '/var/lib/berth' },
        realDir: '/',
        dataDir: '/var/lib/berth',
        binds: new Map(),
        vars: new Map(),
        stat: () => undefined,
        realPath: () => undefined,
        readFile: () => undefined,
      },
    );
    expect(c.apps).toEqual([
      {
        service: 'My_App',
        name: 'my-app',
        takes: [],
        seeds: [],
        dirs: [],
        recipe: { name: 'my-app', image: 'docker.io/library/nginx:1', network: 'host' },
      },
    ]);
    expect(c.messages.map((m) => m.level)).toEqual(['loud']);
  });
});
