import pino from 'pino';
import { connectAvahi } from '../../advertise/avahi.js';
import { chooseAdvertiser, wantsAvahi } from '../../advertise/choose.js';
import { CiaoAdvertiser } from '../../advertise/ciao.js';
import { defaultInterfaces } from '../../advertise/policy.js';
import type { Advertiser } from '../../advertise/types.js';
import type { Config } from '../../config.js';
import { readyLine, writeToConsoles } from '../../supervisor/console.js';
import { startNotifier } from '../../notify/notifier.js';
import { startSupervisor } from '../../supervisor/supervise.js';
import { systemdNotify } from '../../supervisor/notify.js';
import { type Command, EXIT_OK, UserError } from '../command.js';
import { connectRuntime } from '../connect.js';
import { parseWebSetting, type WebListen } from '../../web/listen.js';

/** Who answers mDNS: the choice doctor also reports (src/advertise/choose.ts). */
async function makeAdvertiser(config: Config): Promise<Advertiser | undefined> {
  const setting = process.env.BERTH_ADVERTISER;
  const avahi = wantsAvahi(setting, config.user) ? await connectAvahi() : undefined;
  const choice = chooseAdvertiser({ setting, user: config.user, avahiOnBus: Boolean(avahi) });
  if (choice.kind === 'error') throw new UserError(choice.message);
  if (choice.kind === 'off') return undefined;
  if (choice.kind === 'avahi') return avahi;
  return new CiaoAdvertiser({
    interfaces: config.advertiseInterfaces ?? defaultInterfaces(),
    hostname: config.hostname,
  });
}

export const superviseCommand: Command = {
  name: 'supervise',
  summary: 'the boot-time service: apply, then keep apps in line with the recipes dir',
  usage: 'berth supervise',
  help: 'Started by berth.service. Logs pino JSON to stdout (the journal). SIGHUP re-applies;\nSIGTERM stops berth but leaves the apps running under systemd.',
  async run({ config }) {
    const log = pino({ base: { svc: 'berth' } });
    const rt = await connectRuntime(config);
    const advertiser = await makeAdvertiser(config);
    log.info({ advertiser: advertiser?.kind ?? 'off' }, 'starting');
    let web: WebListen;
    try {
      web = parseWebSetting(process.env.BERTH_WEB, config.user);
    } catch (err) {
      // A bad setting never keeps the apps from being applied: berth runs without the page.
      log.error((err as Error).message);
    }
    // Notifications never keep the apps from being applied: without them berth runs on.
    const notifier = await startNotifier({
      dataDir: config.dataDir,
      hostname: config.hostname,
      settingsPath: config.notifyFile,
      log,
    }).catch((err: Error) => {
      log.error({ error: err.message }, 'notifications are off: they could not start');
      return undefined;
    });
    const sup = startSupervisor({
      rt,
      log,
      notify: systemdNotify,
      ...(notifier ? { notifier } : {}),
      ...(advertiser ? { advertiser } : {}),
      ...(web ? { web } : {}),
    });
    process.on('SIGHUP', () => void sup.applyNow());
    void sup.ready.then(async ({ running, failed }) => {
      const line = readyLine(running, failed);
      log.info({ running, failed }, line);
      // The system service tells the console; a user-mode (sandbox, test) berth does not.
      if (!config.user || process.env.BERTH_CONSOLE === '1') await writeToConsoles(line);
    });
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
