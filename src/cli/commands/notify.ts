// berth events: the last events; berth notify test|check: try the channels, check notify.yaml.
import { readEvents } from '../../events/log.js';
import type { BerthEvent } from '../../events/types.js';
import { formatDiagnostic } from '../../recipe/diagnostics.js';
import { readSettings } from '../../notify/notifier.js';
import { sendTest } from '../../notify/send.js';
import { type Command, EXIT_FAILED, EXIT_OK, UsageError, UserError } from '../command.js';

/** --since: an ISO time, or a span back from now (30m, 12h, 7d). */
export function parseSince(text: string, now = Date.now()): Date {
  const span = /^(\d+)([mhd])$/.exec(text);
  if (span)
    return new Date(now - Number(span[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 'm']);
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new UsageError(
      `--since takes a time (2026-12-01T08:00) or a span back (30m, 12h, 7d), not '${text}'`,
    );
  return new Date(t);
}

const line = (e: BerthEvent) =>
  `${e.at.slice(0, 19).replace('T', ' ')}  ${e.severity.padEnd(8)}  ${e.title}${e.detail ? `: ${e.detail}` : ''}`;

export const eventsCommand: Command = {
  name: 'events',
  summary: 'list the last events: apps failing and recovering, updates, rollbacks, disks',
  usage: 'berth events [--since 12h|TIME] [--json]',
  options: { since: { type: 'string' }, json: { type: 'boolean' } },
  async run({ config, options, io }) {
    const since = typeof options.since === 'string' ? parseSince(options.since) : undefined;
    const events = await readEvents(config.dataDir, since);
    if (options.json) io.out(JSON.stringify(events, null, 2));
    else if (events.length === 0) io.out(since ? 'no events since then' : 'no events yet');
    else for (const e of events) io.out(line(e));
    return EXIT_OK;
  },
};

export const notifyCommand: Command = {
  name: 'notify',
  summary: 'send a test message to the notification channels, or check notify.yaml',
  usage: 'berth notify test [CHANNEL] | berth notify check',
  help: 'Channels are set in notify.yaml beside the recipes folder (/etc/berth/notify.yaml).',
  async run({ config, positionals, io }) {
    const [verb, channel, ...rest] = positionals;
    if ((verb !== 'test' && verb !== 'check') || rest.length > 0 || (verb === 'check' && channel))
      throw new UsageError('notify takes test [CHANNEL] or check');
    const { settings, diagnostics } = await readSettings(config.notifyFile);
    if (!settings) {
      for (const d of diagnostics) io.err(formatDiagnostic(d));
      throw new UserError(`${config.notifyFile} has errors: nothing is sent until they are fixed`);
    }
    const names = Object.keys(settings.channels);
    if (verb === 'check') {
      io.out(`${config.notifyFile}: ${names.length ? `channels ${names.join(', ')}` : 'no channels'}`);
      return EXIT_OK;
    }
    if (names.length === 0) throw new UserError(`no channels in ${config.notifyFile}`);
    if (channel && !names.includes(channel))
      throw new UserError(
        `no channel named '${channel}' in ${config.notifyFile} (there are: ${names.join(', ')})`,
      );
    let failed = 0;
    for (const name of channel ? [channel] : names) {
      const r = await sendTest(name, settings.channels[name]!, {
        hostname: config.hostname,
        fetch,
        now: () => new Date(),
      });
      if (r.ok) io.out(`${name}: sent; the server answered ${r.answer}`);
      else {
        failed++;
        io.out(`${name}: not sent: ${r.error}`);
      }
    }
    return failed ? EXIT_FAILED : EXIT_OK;
  },
};
