// The rest of doctor's checks, each with its fault injected: the systemd manager missing,
// a directory berth cannot write, low disk, invalid recipes, podman's runtime failing; the
// advertiser choice; the runner's timeouts and bound; the report's forms.
import { constants } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseAdvertiser, wantsAvahi } from '../../src/advertise/choose.js';
import { advertiserResult, decideAdvertiser } from '../../src/doctor/advertiser.js';
import { makeFacts, runChecks } from '../../src/doctor/checks.js';
import { checkAllowedRoots, checkWritableDir, nearestExisting } from '../../src/doctor/dirs.js';
import { checkManager, connectRealManager } from '../../src/doctor/manager.js';
import { checkPodmanVersion, checkRuntime, FALLBACK_IMAGE } from '../../src/doctor/podman.js';
import { loadRecipeFacts, recipesResult } from '../../src/doctor/recipes.js';
import { doctorJson, formatReport } from '../../src/doctor/report.js';
import { checkImageSpace, checkSpace, DEFAULT_GRAPH_ROOT } from '../../src/doctor/space.js';
import type { Check, CheckResult } from '../../src/doctor/types.js';
import type { Runner } from '../../src/process/run.js';
import { put, recipe, tempDir, fakeDeps } from './doctor-fixtures.js';

const oneSentence = (s: string | undefined) => expect(s).toMatch(/^[A-Z][^\n]*\.$/);

describe('the systemd manager', () => {
  it('not there: fail, saying where it looked, and one sentence of what to do', async () => {
    const dir = await tempDir();
    const deps = fakeDeps({
      dir,
      env: { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
      connectManager: connectRealManager,
    });
    const r = await checkManager(deps);
    expect(r.status).toBe('fail');
    expect(r.summary).toBe(
      'no systemd system manager on unix:path=/nonexistent/bus: connect ENOENT /nonexistent/bus',
    );
    oneSentence(r.fix);
  });

  it('the user manager with --user, and its version when it answers', async () => {
    const dir = await tempDir();
    const deps = fakeDeps({ dir, env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x/bus' } });
    deps.config.user = true;
    expect(await checkManager(deps)).toEqual({
      id: 'systemd',
      status: 'ok',
      summary: 'systemd user manager 252 answers on unix:path=/x/bus',
    });
    const missing = await checkManager({
      ...deps,
      connectManager: connectRealManager,
      env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
    });
    expect(missing.summary).toMatch(/^no systemd user manager on unix:path=\/nonexistent\/bus: /);
    oneSentence(missing.fix);
  });
});

describe('directories berth writes', () => {
  it('a directory on a read-only filesystem fails', async () => {
    const dir = await tempDir();
    const units = join(dir, 'units');
    await put(join(units, '.keep'), '');
    const deps = fakeDeps({
      dir,
      access: async (p, mode) => {
        if (p === units && mode! & constants.W_OK) throw Object.assign(new Error('EROFS'), { code: 'EROFS' });
      },
    });
    const r = await checkWritableDir(deps, 'unit-dir', 'unit dir', units);
    expect(r).toMatchObject({ status: 'fail', summary: `unit dir ${units} is on a read-only filesystem` });
    oneSentence(r.fix);
  });

  it('a directory not there yet is checked at its nearest parent, and says berth creates it', async () => {
    const dir = await tempDir();
    const target = join(dir, 'a', 'b', 'data');
    const ok = await checkWritableDir(fakeDeps({ dir }), 'data-dir', 'data dir', target);
    expect(ok).toEqual({
      id: 'data-dir',
      status: 'ok',
      summary: `data dir ${target} does not exist yet; berth creates it in ${dir}, which is writable`,
    });
    const denied = fakeDeps({
      dir,
      access: async () => {
        throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      },
    });
    expect((await checkWritableDir(denied, 'data-dir', 'data dir', target)).summary).toBe(
      `data dir ${target} does not exist and ${dir}, where berth would create it, is not writable (EACCES)`,
    );
  });

  it('a file where a directory should be fails', async () => {
    const dir = await tempDir();
    await put(join(dir, 'data'), 'x');
    expect(
      (await checkWritableDir(fakeDeps({ dir }), 'data-dir', 'data dir', join(dir, 'data'))).status,
    ).toBe('fail');
  });

  it('missing allowed roots are a warning', async () => {
    const dir = await tempDir();
    await put(join(dir, 'srv', '.keep'), '');
    const deps = fakeDeps({ dir });
    deps.config.allowedRoots = [join(dir, 'srv'), join(dir, 'mnt')];
    const r = await checkAllowedRoots(deps);
    expect(r).toMatchObject({
      status: 'warn',
      summary: `allowed root missing: ${join(dir, 'mnt')} (present: ${join(dir, 'srv')})`,
    });
    oneSentence(r.fix);
  });
});

describe('free space', () => {
  it('warns under 2 GiB, saying how much is free', async () => {
    const dir = await tempDir();
    const deps = fakeDeps({ dir, statfs: async () => ({ bavail: 300, bsize: 4096 * 1024 }) });
    const r = await checkSpace(deps, 'space-data', 'data dir', dir);
    expect(r).toMatchObject({ status: 'warn', summary: `data dir ${dir}: only 1.2 GiB free` });
    oneSentence(r.fix);
    expect((await checkSpace(fakeDeps({ dir }), 'space-data', 'data dir', dir)).status).toBe('ok');
  });

  it("reads podman's image store from podman info, else the default", async () => {
    const dir = await tempDir();
    const seen: string[] = [];
    const statfs = async (p: string) => (seen.push(p), { bavail: 1n, bsize: 1n });
    const runner: Runner = async () => ({
      code: 0,
      stdout: JSON.stringify({ store: { graphRoot: dir } }),
      stderr: '',
    });
    const withInfo = fakeDeps({ dir, statfs, runner });
    expect((await checkImageSpace(withInfo, makeFacts(withInfo))).summary).toBe(
      `podman's image store ${dir}: only 1 bytes free`,
    );
    const noPodman = fakeDeps({ dir, statfs });
    await checkImageSpace(noPodman, makeFacts(noPodman));
    expect(seen[1]).toBe((await nearestExisting(DEFAULT_GRAPH_ROOT)).path);
  });
});

describe('the recipes summary', () => {
  it('counts and points at each invalid file and line', async () => {
    const dir = await tempDir();
    await put(join(dir, 'recipes', 'a.yaml'), recipe('a'));
    await put(join(dir, 'recipes', 'b.yaml'), recipe('b', 'volume: {}\n'));
    await put(join(dir, 'recipes', 'c.yaml'), 'name: c\nimage: busybox\n');
    const deps = fakeDeps({ dir });
    const r = recipesResult(deps, await loadRecipeFacts(deps));
    const d = join(dir, 'recipes');
    expect(r).toMatchObject({
      status: 'warn',
      summary: `${d}: 3 recipes, 1 valid, 2 invalid: ${d}/b.yaml:4 ${d}/c.yaml:2`,
    });
    oneSentence(r.fix);
  });

  it('a recipes dir that is not there is a warning', async () => {
    const dir = await tempDir();
    const deps = fakeDeps({ dir });
    expect(recipesResult(deps, await loadRecipeFacts(deps)).status).toBe('warn');
  });
});

describe('the advertiser', () => {
  it('is chosen as the supervisor chooses', () => {
    const table: [string | undefined, boolean, boolean, string][] = [
      [undefined, false, true, 'avahi'],
      [undefined, false, false, 'ciao'],
      ['auto', true, true, 'ciao'],
      ['avahi', true, true, 'avahi'],
      ['avahi', false, false, 'error'],
      ['ciao', false, true, 'ciao'],
      ['off', false, true, 'off'],
      ['', false, false, 'ciao'],
      ['bonjour', false, true, 'error'],
    ];
    for (const [setting, user, avahiOnBus, kind] of table)
      expect([setting, user, avahiOnBus, chooseAdvertiser({ setting, user, avahiOnBus }).kind]).toEqual([
        setting,
        user,
        avahiOnBus,
        kind,
      ]);
    expect([
      wantsAvahi(undefined, false),
      wantsAvahi('auto', true),
      wantsAvahi('avahi', true),
      wantsAvahi('off', false),
    ]).toEqual([true, false, true, false]);
  });

  it('doctor looks for Avahi only when the choice depends on it, and fails a choice that cannot work', async () => {
    const dir = await tempDir();
    let asked = 0;
    const avahiOnBus = async () => (asked++, false);
    expect(
      (await decideAdvertiser(fakeDeps({ dir, avahiOnBus, env: { BERTH_ADVERTISER: 'ciao' } }))).kind,
    ).toBe('ciao');
    expect(asked).toBe(0);
    const choice = await decideAdvertiser(fakeDeps({ dir, avahiOnBus, env: { BERTH_ADVERTISER: 'avahi' } }));
    expect(asked).toBe(1);
    const r = advertiserResult(choice);
    expect(r).toMatchObject({
      status: 'fail',
      summary: 'BERTH_ADVERTISER=avahi, but avahi-daemon is not on the system bus',
    });
    oneSentence(r.fix);
  });
});

describe('podman and its runtime (a scripted runner; the real one is in test/integration/doctor.test.ts)', () => {
  const scripted =
    (
      answers: Record<string, { code: number; stdout?: string; stderr?: string }>,
      calls: string[][] = [],
    ): Runner =>
    async (argv) => {
      calls.push([...argv]);
      const key = Object.keys(answers).find((k) => argv.join(' ').includes(k));
      const a = key ? answers[key]! : { code: 1 };
      return { code: a.code, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
    };

  it('the version; podman missing or old', async () => {
    const dir = await tempDir();
    const ok = fakeDeps({
      dir,
      runner: scripted({ '--version': { code: 0, stdout: 'podman version 4.3.1\n' } }),
    });
    expect((await checkPodmanVersion(ok)).summary).toBe('podman 4.3.1 (/usr/bin/podman)');
    const old = fakeDeps({
      dir,
      runner: scripted({ '--version': { code: 0, stdout: 'podman version 3.4.4\n' } }),
    });
    expect((await checkPodmanVersion(old)).status).toBe('warn');
    const missing = await checkPodmanVersion(fakeDeps({ dir }));
    expect(missing.status).toBe('fail');
    oneSentence(missing.fix);
  });

  it("tries a recipe's image that is present, with --init when a recipe uses it", async () => {
    const dir = await tempDir();
    await put(
      join(dir, 'recipes', 'a.yaml'),
      recipe('a', 'init: true').replace('busybox:1.35.0', 'samba:12'),
    );
    const calls: string[][] = [];
    const runner = scripted(
      {
        'exists localhost/berth/samba:12': { code: 0 },
        ' run ': { code: 0 },
        info: { code: 0, stdout: '{"host":{"ociRuntime":{"name":"runc"}}}' },
      },
      calls,
    );
    const deps = fakeDeps({ dir, runner });
    expect(await checkRuntime(deps, makeFacts(deps))).toEqual({
      id: 'runtime',
      status: 'ok',
      summary: 'runc started a container from localhost/berth/samba:12 with --init',
    });
    expect(calls.find((c) => c[1] === 'run')).toEqual([
      '/usr/bin/podman',
      'run',
      '--rm',
      '--network=none',
      '--pull=never',
      '--init',
      '--entrypoint=true',
      'localhost/berth/samba:12',
    ]);
  });

  it('no image present: a warning that the runtime could not be tried', async () => {
    const dir = await tempDir();
    const deps = fakeDeps({ dir });
    const r = await checkRuntime(deps, makeFacts(deps));
    expect(r).toMatchObject({ status: 'warn' });
    expect(r.summary).toContain(FALLBACK_IMAGE);
    oneSentence(r.fix);
  });

  it('a runtime that cannot start the container fails; a missing container-init names catatonit', async () => {
    const dir = await tempDir();
    await put(join(dir, 'recipes', 'a.yaml'), recipe('a', 'init: true'));
    const runner = scripted({
      'image exists': { code: 0 },
      ' run ': {
        code: 125,
        stderr:
          'Error: container-init binary not found on the host: stat /usr/libexec/podman/catatonit: no such file or directory\n',
      },
    });
    const deps = fakeDeps({ dir, runner });
    const r = await checkRuntime(deps, makeFacts(deps));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(
      /could not start a container from localhost\/berth\/busybox:1\.35\.0 with --init: Error: container-init binary not found/,
    );
    expect(r.fix).toBe('Install the Debian package catatonit (podman --init needs it).');
  });
});

describe('running the table', () => {
  it('a check that hangs is a failure after its timeout; the others still report, in table order', async () => {
    const dir = await tempDir();
    const checks: Check[] = [
      { id: 'hangs', timeoutMs: 50, run: () => new Promise<CheckResult>(() => {}) },
      { id: 'throws', run: async () => Promise.reject(new Error('boom')) },
      { id: 'fine', run: async () => ({ id: 'fine', status: 'ok', summary: 'fine' }) },
      { id: 'live', live: true, run: async () => ({ id: 'live', status: 'ok', summary: 'live' }) },
    ];
    const results = await runChecks(fakeDeps({ dir, staticOnly: true }), checks);
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['hangs', 'fail'],
      ['throws', 'fail'],
      ['fine', 'ok'],
    ]);
    expect(results[0]!.summary).toBe('hangs: no answer within 0.05 s');
  });

  it('runs at most four checks at a time', async () => {
    const dir = await tempDir();
    let running = 0;
    let most = 0;
    const checks: Check[] = Array.from({ length: 10 }, (_, i) => ({
      id: `c${i}`,
      run: async () => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return { id: `c${i}`, status: 'ok' as const, summary: '' };
      },
    }));
    expect(await runChecks(fakeDeps({ dir }), checks)).toHaveLength(10);
    expect(most).toBe(4);
  });
});

describe('the report', () => {
  const results: CheckResult[] = [
    { id: 'podman', status: 'ok', summary: 'podman 4.3.1' },
    { id: 'catatonit', status: 'fail', summary: 'missing', fix: 'Install catatonit.' },
    { id: 'allowed-roots', status: 'warn', summary: '/mnt missing', fix: 'Create /mnt.' },
  ];

  it('one line per check, the fix under each warn and fail, and a count', () => {
    expect(formatReport(results)).toEqual([
      'ok    podman         podman 4.3.1',
      'fail  catatonit      missing',
      '                     → Install catatonit.',
      'warn  allowed-roots  /mnt missing',
      '                     → Create /mnt.',
      '1 failure, 1 warning in 3 checks',
    ]);
    expect(formatReport(results.slice(0, 1)).at(-1)).toBe('all 1 check passed');
  });

  it('JSON: {checks, ok}; warnings do not fail', () => {
    expect(doctorJson(results).ok).toBe(false);
    expect(doctorJson([results[0]!, results[2]!])).toEqual({ checks: [results[0], results[2]], ok: true });
  });
});
