// Which advertiser the supervisor uses, as a pure decision: the supervisor and `berth doctor`
// share it, so doctor says exactly what supervise will do.
//
// BERTH_ADVERTISER=auto (default) uses avahi-daemon's D-Bus API when it runs, so the host
// never has two mDNS responders, and ciao otherwise; a user-mode berth does not use the
// host's Avahi unless told to with BERTH_ADVERTISER=avahi. "off" advertises nothing.

export const ADVERTISER_SETTINGS = ['auto', 'avahi', 'ciao', 'off'] as const;
export type AdvertiserSetting = (typeof ADVERTISER_SETTINGS)[number];

export type AdvertiserChoice =
  { kind: 'avahi' | 'ciao' | 'off'; reason: string } | { kind: 'error'; message: string };

export interface AdvertiserInput {
  /** BERTH_ADVERTISER as set (undefined or empty means auto). */
  setting: string | undefined;
  /** berth drives a user manager (--user / BERTH_USER=1). */
  user: boolean;
  /** Whether avahi-daemon owns org.freedesktop.Avahi on the system bus; only read when wantsAvahi() said to look. */
  avahiOnBus: boolean;
}

function parseSetting(setting: string | undefined): AdvertiserSetting | undefined {
  const s = setting || 'auto';
  return (ADVERTISER_SETTINGS as readonly string[]).includes(s) ? (s as AdvertiserSetting) : undefined;
}

/** Whether the caller should look for avahi-daemon on the system bus before choosing. */
export function wantsAvahi(setting: string | undefined, user: boolean): boolean {
  const s = parseSetting(setting);
  return s === 'avahi' || (s === 'auto' && !user);
}

export function chooseAdvertiser({ setting, user, avahiOnBus }: AdvertiserInput): AdvertiserChoice {
  const s = parseSetting(setting);
  if (s === undefined)
    return {
      kind: 'error',
      message: `BERTH_ADVERTISER=${setting} is not one of ${ADVERTISER_SETTINGS.join(', ')}; set one of them or unset it`,
    };
  if (s === 'off') return { kind: 'off', reason: 'BERTH_ADVERTISER=off: nothing is announced on the LAN' };
  if (s === 'ciao') return { kind: 'ciao', reason: 'BERTH_ADVERTISER=ciao: berth answers mDNS itself' };
  if (s === 'avahi')
    return avahiOnBus
      ? { kind: 'avahi', reason: 'BERTH_ADVERTISER=avahi: through avahi-daemon on the system bus' }
      : {
          kind: 'error',
          message: 'BERTH_ADVERTISER=avahi, but avahi-daemon is not on the system bus',
        };
  if (user)
    return { kind: 'ciao', reason: 'berth answers mDNS itself (a user-mode berth leaves Avahi alone)' };
  return avahiOnBus
    ? { kind: 'avahi', reason: 'through avahi-daemon, which is on the system bus' }
    : { kind: 'ciao', reason: 'berth answers mDNS itself; avahi-daemon is not on the system bus' };
}
