// The compose importer is a door for hostile input: generated documents (valid-looking and
// not), the bad-recipe corpus's tricks. Every case ends in a clean result — written or a
// list of messages — never a throw, and a failed import writes nothing. Bounded: a fixed
// number of runs, each document small.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatComposeMessage, importCompose } from '../../src/compose/import.js';
import type { CheckContext } from '../../src/recipe/check.js';

const work = mkdtempSync(join(tmpdir(), 'berth-compose-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// Roots and a data dir of the test's own: an import may make a shared folder or seed a secret.
const CTX: CheckContext = { allowedRoots: [join(work, 'srv')], dataDir: join(work, 'data') };

const nasty = fc.constantFrom(
  '',
  '..',
  '../../etc/passwd',
  '/var/run/docker.sock',
  '$${X}',
  '${X:?boom}',
  '${',
  'a\u0000b',
  '\u001b[2J',
  'x'.repeat(300),
  '%n',
  '"; rm -rf /',
  '-v=/:/host',
  '80',
  '8080:80',
  '1-65535:1-65535',
  'nginx',
  '/srv/a:/b:ro',
);
const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null), nasty);
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 4 }),
  ),
})).v;
const KEYS = [
  'image',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'ports',
  'volumes',
  'network_mode',
  'networks',
  'depends_on',
  'healthcheck',
  'restart',
  'devices',
  'cap_add',
  'privileged',
  'user',
  'working_dir',
  'labels',
  'shm_size',
  'sysctls',
  'extends',
  'profiles',
  'deploy',
  'build',
  'tmpfs',
  'bogus',
];
const service = fc.dictionary(fc.constantFrom(...KEYS), fc.oneof(value, nasty), { maxKeys: 8 });
const compose = fc.record({
  services: fc.dictionary(
    fc.oneof(fc.constantFrom('web', 'db', 'My_App', '-x', 'a.b'), fc.string({ maxLength: 6 })),
    service,
    { maxKeys: 3 },
  ),
  volumes: fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.constant(null), { maxKeys: 2 }), {
    nil: undefined,
  }),
});

describe('the compose importer under generated input', () => {
  it('never throws, and writes all of it or nothing', async () => {
    let i = 0;
    await fc.assert(
      fc.asyncProperty(compose, async (doc) => {
        const dir = join(work, `c${++i}`);
        mkdirSync(join(dir, 'out'), { recursive: true });
        writeFileSync(join(dir, 'compose.yaml'), stringify(doc));
        const r = await importCompose(join(dir, 'compose.yaml'), {
          outDir: join(dir, 'out'),
          profiles: [],
          ctx: CTX,
          env: {},
        });
        const failed = r.messages.some((m) => m.level === 'error');
        expect(readdirSync(join(dir, 'out')).length).toBe(failed ? 0 : r.written.length);
        for (const m of r.messages) expect(formatComposeMessage(m)).not.toMatch(/[\u0000-\u001f]/);
        rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: 2000, seed: 20261126 },
    );
  });

  it('refuses raw garbage and YAML tricks with a message', async () => {
    const docs = [
      '{{{{',
      '!!python/object:os.system "echo"',
      '<<: *nope\n',
      'services: !!binary aGVsbG8=\n',
      'services:\n  a:\n    image: x/y:1\n    image: x/z:1\n',
      '\uFEFFservices: []\n',
    ];
    for (const [k, d] of docs.entries()) {
      const dir = join(work, `g${k}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'compose.yaml'), d);
      const r = await importCompose(join(dir, 'compose.yaml'), {
        outDir: dir,
        profiles: [],
        ctx: CTX,
        env: {},
      });
      expect(r.written).toEqual([]);
      expect(r.messages.some((m) => m.level === 'error')).toBe(true);
    }
  });
});
