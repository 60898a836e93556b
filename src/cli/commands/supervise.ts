import pino from 'pino';
import { startSupervisor } from '../../supervisor/supervise.js';
import { systemdNotify } from '../../supervisor/notify.js';
import { type Command, EXIT_OK } from '../command.js';
import { connectRuntime } from '../connect.js';

export const superviseCommand: Command = {
  name: 'supervise',
  summary: 'the boot-time service: apply, then keep apps in line with the recipes dir',
  usage: 'berth supervise',
  help: 'Started by berth.service. Logs pino JSON to stdout (the journal). SIGHUP re-applies;\nSIGTERM stops berth but leaves the apps running under systemd.',
  async run({ config }) {
    const log = pino({ base: { svc: 'berth' } });
    const rt = await connectRuntime(config);
    const sup = startSupervisor({ rt, log, notify: systemdNotify });
    process.on('SIGHUP', () => void sup.applyNow());
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    log.info('stopping; apps keep running under systemd');
    await sup.stop();
    rt.systemd.close();
    return EXIT_OK;
  },
};
