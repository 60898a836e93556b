import { type Command, EXIT_OK } from '../command.js';

export const lanCommand: Command = {
  name: 'lan',
  summary: 'show what this machine sees on the LAN: mDNS services, DLNA/UPnP devices, NetBIOS names',
  usage: 'berth lan [--json] [--seconds N]',
  help: 'For "why doesn\'t my TV see it?": if berth\'s own services are missing here, they are not\nbeing announced; if they are here but the TV does not list them, look at the network between.\nListens on the advertising interfaces ($BERTH_ADVERTISE_INTERFACES, default: all but loopback).',
  options: { json: { type: 'boolean' }, seconds: { type: 'string' } },
  async run({ config, options, io }) {
    const { lookAround } = await import('../../lan/discover.js');
    const seconds = Math.min(30, Math.max(1, Number(options.seconds ?? 3) || 3));
    const view = await lookAround(config.advertiseInterfaces, seconds * 1000);
    if (options.json) {
      io.out(JSON.stringify(view, null, 2));
      return EXIT_OK;
    }
    io.out(
      `Listening on ${view.interfaces.map((i) => `${i.name} (${i.address})`).join(', ') || 'no interface'} for ${seconds} s.`,
    );
    io.out(`\nmDNS / DNS-SD services (what Macs, phones, Kodi and VLC see): ${view.mdns.length}`);
    for (const s of view.mdns)
      io.out(`  ${s.instance}  ${s.host ?? '?'}:${s.port ?? '?'}  ${s.addresses.join(' ')}`);
    io.out(`\nSSDP / UPnP devices (what smart TVs list as media servers): ${view.ssdp.length}`);
    for (const d of view.ssdp) io.out(`  ${d.from}  ${d.st}  ${d.location ?? ''}`);
    if (Array.isArray(view.netbios)) {
      io.out(`\nNetBIOS names (what TV boxes and older Windows browse): ${view.netbios.length}`);
      for (const n of view.netbios) io.out(`  ${n.address}  ${n.name}<${n.suffix}>`);
    } else {
      io.out(`\nNetBIOS names: ${view.netbios.unavailable}`);
    }
    return EXIT_OK;
  },
};
