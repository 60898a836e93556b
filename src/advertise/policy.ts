// Which services an app advertises right now: only while its unit is active, and healthy
// when it has a health check, so a TV box never lists a service that is not there.
import { networkInterfaces } from 'node:os';
import type { App } from '../recipe/app.js';
import { expandTemplate } from '../recipe/template.js';
import type { ServiceAd } from './types.js';

export interface AppRunState {
  active: boolean;
  /** podman's health status, when the app has a health check. */
  health?: string;
}

/** DNS-SD instance names are at most 63 bytes. */
function instanceName(name: string): string {
  let out = name;
  while (Buffer.byteLength(out) > 63) out = out.slice(0, -1);
  return out;
}

export function adsFor(app: App, state: AppRunState, hostname: string): ServiceAd[] {
  if (!app.enabled || !state.active) return [];
  if (app.health && state.health !== 'healthy') return [];
  return app.advertise.map((a) => ({
    name: instanceName(
      a.name ? expandTemplate(a.name, { hostname, app: app.name }) : `${app.name} on ${hostname}`,
    ),
    type: a.type,
    port: a.port,
    txt: a.txt,
  }));
}

/** The host's own record, so macOS Finder shows the server with a server icon. */
export function deviceInfoAd(hostname: string): ServiceAd {
  return { name: instanceName(hostname), type: '_device-info._tcp', port: 9, txt: { model: 'RackMac' } };
}

/** Default interfaces: every non-loopback one, except container bridges and their veths. */
export function defaultInterfaces(): string[] {
  return Object.entries(networkInterfaces())
    .filter(
      ([name, addrs]) =>
        !/^(lo|podman|cni-|veth|docker|br-)/.test(name) && (addrs ?? []).some((a) => !a.internal),
    )
    .map(([name]) => name);
}
