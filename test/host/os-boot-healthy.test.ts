// The OS health gate (image-build/os/boot-healthy, plain sh) with systemctl and berth faked
// on PATH: it waits for the apps that ran before the update as berth names them (`berth os
// apps`, from berth's own recipe loader: .yml files and name: fields that differ from the
// file name), not as file names say; a berth that cannot list its apps fails the gate.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const GATE = join(import.meta.dirname, '../../image-build/os/boot-healthy');
let work: string;

async function tool(name: string, body: string) {
  await writeFile(join(work, 'bin', name), `#!/bin/sh\n${body}\n`);
  await chmod(join(work, 'bin', name), 0o755);
}

/** Runs the gate: `apps` is what berth os apps prints (or undefined: it fails), `active` the running apps. */
async function gate(o: { before: string[]; apps?: string[]; active: string[] }) {
  await writeFile(join(work, 'state', 'apps-before-update'), o.before.map((a) => `${a}\n`).join(''));
  await tool(
    'berth',
    o.apps
      ? `[ "$*" = "os apps" ] && printf '${o.apps.map((a) => `${a}\\n`).join('')}'`
      : 'echo "berth: internal error: it broke" >&2; exit 1',
  );
  await tool(
    'systemctl',
    `case "$*" in
  "show -P ActiveState berth.service") echo active ;;
  "show -P NRestarts berth.service") echo 0 ;;
  "show -P ActiveState "*) echo inactive ;;
  "is-active -q berth-"*) a=\${3#berth-}; case " ${o.active.join(' ')} " in *" \${a%.service} "*) exit 0 ;; esac; exit 3 ;;
  *) exit 1 ;;
esac`,
  );
  return new Promise<{ code: number; out: string }>((resolve) =>
    execFile(
      'sh',
      [GATE],
      {
        env: {
          PATH: `${join(work, 'bin')}:/usr/bin:/bin`,
          BERTH_OS_RELEASE: join(work, 'os-release'),
          BERTH_OS_STATE: join(work, 'state'),
          BERTH_HEALTH_LIMIT: '1',
        },
      },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    ),
  );
}

const reason = () => readFile(join(work, 'state', 'failed', '0.2.0'), 'utf8').catch(() => undefined);

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-gate-'));
  await mkdir(join(work, 'bin'));
  await mkdir(join(work, 'state'));
  await writeFile(join(work, 'os-release'), 'IMAGE_ID=berth\nIMAGE_VERSION=0.2.0\n');
});
afterEach(() => rm(work, { recursive: true, force: true }));

describe('the OS health gate', () => {
  it('passes when every app that ran before runs again', async () => {
    const r = await gate({
      before: ['web', 'jellyfin'],
      apps: ['jellyfin', 'web'],
      active: ['web', 'jellyfin'],
    });
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/version 0\.2\.0 is healthy: berth ready, 2 apps/);
  });

  it('waits for an app from a .yml recipe (or one named otherwise than its file), and fails if it is down', async () => {
    // web comes from web.yml, jellyfin from media.yaml: no <app>.yaml file exists for either.
    const r = await gate({ before: ['web', 'jellyfin'], apps: ['jellyfin', 'web'], active: ['jellyfin'] });
    expect(r.code).not.toBe(0);
    expect(await reason()).toMatch(/^the app web did not start again within 1 s/);
  }, 20_000);

  it('does not wait for an app removed since the update', async () => {
    const r = await gate({ before: ['web', 'old'], apps: ['web'], active: ['web'] });
    expect(r).toMatchObject({ code: 0 });
  });

  it('fails when berth cannot list its apps', async () => {
    const r = await gate({ before: ['web'], active: ['web'] });
    expect(r.code).not.toBe(0);
    expect(await reason()).toMatch(/^berth could not list its apps: berth: internal error: it broke/);
  });
});
