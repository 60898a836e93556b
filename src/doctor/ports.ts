// Host ports the recipes need that another process already holds, naming that process.
// The app's own processes (it may be running already) and, for mDNS, avahi-daemon when berth
// publishes through it are not conflicts.
import type { AdvertiserChoice } from '../advertise/choose.js';
import { belongsTo, berthContainerOf, type Holder, socketHolders } from './holders.js';
import { type PortNeed, portNeeds } from './needs.js';
import { parseWebSetting, type WebListen } from '../web/listen.js';
import { type BoundSocket, boundSockets, overlaps } from './procnet.js';
import type { CheckResult, DoctorDeps, DoctorFacts } from './types.js';

interface Conflict {
  need: PortNeed;
  socket: BoundSocket;
  holders: Holder[];
}

/** Why a holder is fine: the app's own process, or avahi-daemon answering mDNS for berth. */
async function acceptedHolder(
  procRoot: string,
  need: PortNeed,
  holders: Holder[],
  advertiser: AdvertiserChoice,
): Promise<'own' | 'avahi' | undefined> {
  for (const h of holders) if (await belongsTo(procRoot, h.pid, need.app)) return 'own';
  if (need.app === 'berth' && advertiser.kind === 'avahi' && holders.some((h) => h.comm === 'avahi-daemon'))
    return 'avahi';
  return undefined;
}

async function describe(procRoot: string, c: Conflict): Promise<string> {
  const at = c.socket.address === '0.0.0.0' || c.socket.address === '::' ? '' : ` on ${c.socket.address}`;
  if (c.holders.length === 0) return `a process this user cannot see (socket inode ${c.socket.inode})${at}`;
  const names = await Promise.all(
    c.holders.slice(0, 3).map(async (h) => {
      const container = await berthContainerOf(procRoot, h.pid);
      return `${h.comm} (pid ${h.pid}${container ? `, container ${container}` : ''})`;
    }),
  );
  return `${names.join(', ')}${at}`;
}

function fixFor(c: Conflict, who: string): string {
  const { need } = c;
  if (need.app === 'berth')
    return c.holders.some((h) => h.comm === 'avahi-daemon')
      ? 'Set BERTH_ADVERTISER=avahi so berth publishes through avahi-daemon instead of answering mDNS itself.'
      : `Stop ${who} (two mDNS responders on one host answer for each other), or set BERTH_ADVERTISER=off.`;
  return `Stop ${who}, or change ${need.app}'s recipe so it does not need ${need.port}/${need.protocol}.`;
}

export async function checkPorts(deps: DoctorDeps, facts: DoctorFacts): Promise<CheckResult[]> {
  const [{ apps }, advertiser] = await Promise.all([facts.recipes(), facts.advertiser()]);
  let web: WebListen;
  try {
    web = parseWebSetting(deps.env.BERTH_WEB, deps.config.user);
  } catch {
    // A bad BERTH_WEB: the supervisor runs without the page, so it needs no port.
  }
  const needs = portNeeds(apps, advertiser, web);
  if (needs.length === 0) return [{ id: 'ports', status: 'ok', summary: 'the recipes need no host ports' }];
  const sockets = await boundSockets(deps.procRoot);
  const candidates = needs.flatMap((need) =>
    sockets
      .filter((s) => s.protocol === need.protocol && s.port === need.port && overlaps(need.bind, s.address))
      .map((socket) => ({ need, socket })),
  );
  const holders = await socketHolders(deps.procRoot, new Set(candidates.map((c) => c.socket.inode)));
  const conflicts: Conflict[] = [];
  const theirOwn = new Set<PortNeed>();
  for (const c of candidates) {
    const hs = holders.get(c.socket.inode) ?? [];
    const accepted = await acceptedHolder(deps.procRoot, c.need, hs, advertiser);
    if (accepted === 'own') theirOwn.add(c.need);
    else if (!accepted) conflicts.push({ ...c, holders: hs });
  }
  if (conflicts.length === 0) {
    const n = needs.length;
    const own = theirOwn.size
      ? `; ${theirOwn.size} held by the app${theirOwn.size === 1 ? "'s" : "s'"} own running processes`
      : '';
    return [
      {
        id: 'ports',
        status: 'ok',
        summary: `${n} host port${n === 1 ? '' : 's'} the recipes need: none held by another program${own}`,
      },
    ];
  }
  const out: CheckResult[] = [];
  const seen = new Set<string>();
  for (const c of conflicts) {
    const id = `port-${c.need.port}-${c.need.protocol}-${c.need.app}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const who = await describe(deps.procRoot, c);
    const bind = c.need.bind ? `${c.need.bind}:` : '';
    out.push({
      id,
      status: c.need.shared ? 'warn' : 'fail',
      summary: `port ${bind}${c.need.port}/${c.need.protocol}, which ${c.need.app} needs (${c.need.why}), is held by ${who}`,
      fix: fixFor(
        c,
        c.holders.length ? `${c.holders[0]!.comm} (pid ${c.holders[0]!.pid})` : 'the process holding it',
      ),
    });
  }
  return out;
}
