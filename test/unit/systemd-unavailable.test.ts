import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { DbusServiceManager, ManagerUnavailableError } from '../../src/systemd/manager.js';

describe('when systemd is not there', () => {
  it('says so in one sentence, with what to do', async () => {
    const err = await DbusServiceManager.connect({
      user: false,
      busAddress: 'unix:path=/nonexistent/bus',
    }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ManagerUnavailableError);
    expect((err as Error).message).toMatch(
      /^cannot reach systemd on the system bus \(unix:path=\/nonexistent\/bus\): .*Is systemd running as the init system\? To drive a user manager instead, add --user\.$/,
    );
  });

  it('the CLI prints that sentence and exits 1, without a stack trace', async () => {
    const out: string[] = [];
    const code = await runCli(
      ['status', '--user'],
      COMMANDS,
      { out: (t) => out.push(t), err: (t) => out.push(t), isTty: false },
      {
        DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
      },
    );
    expect(code).toBe(1);
    expect(out.join('\n')).toMatch(/^berth: cannot reach systemd on the user manager's session bus/);
    expect(out.join('\n')).not.toMatch(/\n\s+at /);
  });
});
