// A property of berth import compose: for generated compose services, import → export
// quadlet → the `podman run` that podman's own Quadlet generator (5.4, the appliance's)
// makes means what the compose service says: its ports, environment (literal `$` included),
// mounts (named volumes in berth's data dir, binds under the allowed roots), user and command.
// Bounded: a fixed seed and number of runs.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { importCompose } from '../../src/compose/import.js';
import { renderQuadlet } from '../../src/export/quadlet.js';
import { parseRecipeText } from '../../src/recipe/parse.js';
import { appPaths } from '../../src/render/paths.js';
import { RENDER_CTX } from '../helpers.js';
import { extractQuadlet, generated, meaning } from '../quadlet-run.js';

const root = join(import.meta.dirname, '..', '..');
const cache = process.env.BERTH_IMAGE_CACHE ?? join(root, 'image-build', 'cache');
let work: string;
let quadlet: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-compose-quadlet-'));
  quadlet = extractQuadlet(cache, work);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
/** An env value as a person writes it in compose: `$$` is a literal `$`. */
const envText = fc
  .array(
    fc.oneof(fc.stringMatching(/^[A-Za-z0-9 _./:%"'\\-]{1,6}$/), fc.constant('$$'), fc.constant('$${X}')),
    {
      minLength: 1,
      maxLength: 4,
    },
  )
  .map((parts) => parts.join(''));
const service = fc.record({
  ports: fc.uniqueArray(
    fc.record({
      host: fc.integer({ min: 20000, max: 20999 }),
      container: fc.integer({ min: 1, max: 65535 }),
      proto: fc.constantFrom('tcp', 'udp'),
    }),
    { selector: (p) => `${p.host}/${p.proto}`, maxLength: 3 },
  ),
  env: fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,7}$/), envText, { maxKeys: 4 }),
  named: fc.uniqueArray(word, { maxLength: 2 }),
  binds: fc.uniqueArray(fc.tuple(word, fc.boolean()), { selector: ([w]) => w, maxLength: 2 }),
  user: fc.option(fc.tuple(fc.integer({ min: 0, max: 65000 }), fc.integer({ min: 0, max: 65000 }))),
  command: fc.array(fc.stringMatching(/^[A-Za-z0-9_./=:-]{1,8}$/), { maxLength: 4 }),
});

describe('compose → recipe → Quadlet → podman run', () => {
  it('means what the compose service says (ports, env, mounts, user, command)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(service, async (svc) => {
        const dir = join(work, `c${++n}`);
        mkdirSync(dir);
        const def: Record<string, unknown> = {
          image: 'docker.io/library/alpine:3.20',
          ports: svc.ports.map((p) => `${p.host}:${p.container}/${p.proto}`),
          environment: svc.env,
          volumes: [
            ...svc.named.map((v) => `v${v}:/named/${v}`),
            ...svc.binds.map(([b, ro]) => `/srv/b${b}:/bound/${b}${ro ? ':ro' : ''}`),
          ],
          ...(svc.user ? { user: `${svc.user[0]}:${svc.user[1]}` } : {}),
          ...(svc.command.length ? { command: svc.command } : {}),
        };
        const compose = {
          services: { app: def },
          ...(svc.named.length ? { volumes: Object.fromEntries(svc.named.map((v) => [`v${v}`, {}])) } : {}),
        };
        writeFileSync(join(dir, 'compose.yaml'), stringify(compose));
        const ctx = { allowedRoots: ['/srv'], dataDir: RENDER_CTX.dataDir };
        const r = await importCompose(join(dir, 'compose.yaml'), {
          outDir: dir,
          profiles: [],
          ctx,
          env: {},
          dryRun: true,
        });
        expect(r.messages.filter((m) => m.level === 'error')).toEqual([]);
        const parsed = parseRecipeText(r.recipes[0]!.file, r.recipes[0]!.text, ctx);
        expect(parsed.diagnostics).toEqual([]);
        const files = renderQuadlet(parsed.app!, RENDER_CTX);
        const volumes = new Map(
          files
            .filter((f) => f.name.endsWith('.volume'))
            .map(
              (f) => [/^VolumeName=(.*)$/m.exec(f.text)![1]!, /^Device=(.*)$/m.exec(f.text)![1]!] as const,
            ),
        );
        const run = meaning(generated(quadlet, work, files, 'berth-app.service'), volumes);
        const data = appPaths(RENDER_CTX.dataDir, 'app');
        expect(run.flags.filter((f) => f.startsWith('--publish=')).sort()).toEqual(
          svc.ports.map((p) => `--publish=${p.host}:${p.container}/${p.proto}`).sort(),
        );
        expect(run.flags.filter((f) => f.startsWith('--env=')).sort()).toEqual(
          Object.entries(svc.env)
            .map(([k, v]) => `--env=${k}=${v.replaceAll('$$', '$')}`)
            .sort(),
        );
        expect(run.flags.filter((f) => f.startsWith('--volume=')).sort()).toEqual(
          [
            ...svc.named.map((v) => `--volume=${data.volume(`v${v}`)}:/named/${v}`),
            ...svc.binds.map(([b, ro]) => `--volume=/srv/b${b}:/bound/${b}${ro ? ':ro' : ''}`),
          ].sort(),
        );
        expect(run.flags.filter((f) => f.startsWith('--user='))).toEqual(
          svc.user ? [`--user=${svc.user[0]}:${svc.user[1]}`] : [],
        );
        expect(run.command).toEqual(svc.command);
      }),
      { seed: 19, numRuns: 40 },
    );
  }, 120_000);
});
