// Failing apps against real parts (a systemd user manager without journald, real podman):
// status says why, logs shows output of containers that never ran long, restarts stop after
// the start limit, and the supervisor logs a failure once however often systemd restarts it.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESTART_DELAY_SEC, START_LIMIT_BURST } from '../../src/render/unit.js';
import { gaveUp, isFailing } from '../../src/status/reason.js';
import { type Supervisor, startSupervisor } from '../../src/supervisor/supervise.js';
import { type Appliance, ensureTestImages, startAppliance, until } from '../harness/appliance.js';

const IMAGE = 'localhost/berth/busybox:1.35.0';
const MESSAGE = 'berth-test: cannot open /data/db.sqlite: permission denied';
let box: Appliance;

const failing = (name: string) => `name: fl-${name}
image: ${IMAGE}
command: [sh, -c, "echo starting; echo '${MESSAGE}' >&2; exit 3"]
stop_timeout: 2s
`;

const unitState = (app: string) => box.runtime.systemd.state(`berth-fl-${app}.service`);

/** Waits for the app's unit to fail for the first time (a restart counted, or failed/restarting now). */
const firstFailure = (app: string) =>
  until(`fl-${app} fails`, async () => {
    const s = await unitState(app);
    return (s.nRestarts > 0 || isFailing(s)) && s;
  });

beforeAll(async () => {
  await ensureTestImages();
  box = await startAppliance('fl');
}, 180_000);

afterAll(async () => {
  await box?.stop();
});

describe('failing apps', () => {
  it("status shows the app's own last error line; status APP its last lines; logs its output", async () => {
    await box.writeRecipe('cmd.yaml', failing('cmd'));
    // The container may exit before podman reports it ready, so the start itself may fail.
    await box.berth(['apply'], { allowFail: true });
    await firstFailure('cmd');
    const table = await until(
      'status shows the message',
      async () => {
        const r = await box.berth(['status']);
        return r.stdout.includes(MESSAGE) && r.stdout;
      },
      15_000,
    );
    expect(table).toMatch(/^fl-cmd: (restarting|failed|restarted \d+ times?): berth-test: cannot open/m);

    const detail = (await box.berth(['status', 'fl-cmd'])).stdout;
    expect(detail).toMatch(/^unit: +berth-fl-cmd\.service$/m);
    expect(detail).toMatch(
      new RegExp(`^image: +${IMAGE.replaceAll('.', '\\.')} \\(pinned: [0-9a-f]{12}\\)$`, 'm'),
    );
    expect(detail).toMatch(/^recipe: +\S+cmd\.yaml$/m);
    expect(detail).toContain('output line');
    expect(detail).toMatch(/^ {2}starting$/m);
    expect(detail).toContain(`  ${MESSAGE}`);

    const json = JSON.parse((await box.berth(['status', 'fl-cmd', '--json'])).stdout) as {
      app: string;
      lastError: string;
      lines: string[];
    };
    expect(json.app).toBe('fl-cmd');
    expect(json.lastError).toBe(MESSAGE);
    expect(json.lines).toContain(MESSAGE);
    expect(json.lines.length).toBeLessThanOrEqual(20);
    const all = JSON.parse((await box.berth(['status', '--json'])).stdout) as {
      app: string;
      lastError?: string;
    }[];
    expect(all.find((a) => a.app === 'fl-cmd')?.lastError).toBe(MESSAGE);

    const logs = await box.berth(['logs', 'fl-cmd']);
    expect(logs.stdout).toContain(MESSAGE);
  });

  it("status shows podman's own error for a container that cannot start", async () => {
    await box.writeRecipe(
      'entry.yaml',
      `name: fl-entry
image: ${IMAGE}
entrypoint: [/nonexistent]
stop_timeout: 2s
`,
    );
    await box.berth(['apply'], { allowFail: true });
    await firstFailure('entry');
    const table = await until(
      "status shows podman's error",
      async () => {
        const r = await box.berth(['status']);
        return /^fl-entry: .*stat \/nonexistent: no such file or directory/m.test(r.stdout) && r.stdout;
      },
      15_000,
    );
    expect(table).toMatch(/^fl-entry: \S.*: Error: .*\/nonexistent/m);
    // No container ever ran: logs falls back to the unit's output.
    const logs = await box.berth(['logs', 'fl-entry']);
    expect(logs.stderr).toContain('never ran or is gone');
    expect(logs.stdout).toMatch(/Error: .*stat \/nonexistent: no such file or directory/);
  });

  it('a failing app stops restarting after the start limit', async () => {
    const stopped = await until(
      'systemd gives up on fl-cmd',
      async () => {
        const s = await unitState('cmd');
        return gaveUp(s) && s;
      },
      120_000,
    );
    // The restart systemd refuses is counted too.
    expect(stopped.nRestarts).toBeLessThanOrEqual(START_LIMIT_BURST + 1);
    // Longer than the restart delay: nothing restarts it any more.
    await new Promise((r) => setTimeout(r, (2 * RESTART_DELAY_SEC + 1) * 1000));
    const later = await unitState('cmd');
    expect(gaveUp(later)).toBe(true);
    expect(later.nRestarts).toBe(stopped.nRestarts);
    expect((await box.berth(['status'])).stdout).toMatch(/^fl-cmd: failed: berth-test: cannot open/m);
  }, 180_000);

  it('the supervisor logs a failure once, retries after systemd gives up, and logs the recovery', async () => {
    await box.removeRecipe('cmd.yaml');
    await box.removeRecipe('entry.yaml');
    await box.berth(['apply']);
    const lines: { level: number; msg: string; app?: string; reason?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(l) as (typeof lines)[number]);
        done();
      },
    });
    const errorsOf = (app: string) => lines.filter((l) => l.level >= 50 && l.app === app);
    await box.writeRecipe('sup.yaml', failing('sup'));
    let sup: Supervisor | undefined;
    try {
      sup = startSupervisor({
        rt: box.runtime,
        log: pino({ level: 'debug' }, sink),
        notify: async () => {},
        debounceMs: 100,
        failureOptions: { firstRetryMs: 2000, stableMs: 3000 },
      });
      await sup.ready;
      await until('fl-sup restarted twice', async () => (await unitState('sup')).nRestarts >= 2);
      await until('the failure is logged', async () =>
        errorsOf('fl-sup').some((l) => /is failing/.test(l.msg)),
      );
      const afterTwo = errorsOf('fl-sup').length;
      await until('fl-sup restarted again', async () => (await unitState('sup')).nRestarts >= 4);
      // Restarts add no error lines: one for the failure (and at most the first pass's failed start).
      expect(errorsOf('fl-sup')).toHaveLength(afterTwo);
      const failingLines = errorsOf('fl-sup').filter((l) => /is failing/.test(l.msg));
      expect(failingLines).toHaveLength(1);
      expect(failingLines[0]!.reason).toBe(MESSAGE);
      expect(lines.some((l) => /restarted by systemd/.test(l.msg))).toBe(false);

      // systemd gives up; the supervisor starts it again after its back-off.
      await until('systemd gives up on fl-sup', async () => gaveUp(await unitState('sup')), 120_000);
      await until('the supervisor retries fl-sup', async () => !gaveUp(await unitState('sup')), 30_000);
      expect(errorsOf('fl-sup').filter((l) => /is failing/.test(l.msg))).toHaveLength(1);

      // Fixed: the app stays up, and the recovery is logged once.
      await box.writeRecipe('sup.yaml', failing('sup').replace(/command: .*/, 'command: [sleep, "3600"]'));
      await until('fl-sup active', async () => (await unitState('sup')).activeState === 'active', 60_000);
      await until('the recovery is logged', async () =>
        lines.some((l) => l.app === 'fl-sup' && l.msg === 'app fl-sup recovered'),
      );
      expect(errorsOf('fl-sup').filter((l) => /is failing/.test(l.msg))).toHaveLength(1);
    } finally {
      await sup?.stop();
    }
  }, 300_000);
});
