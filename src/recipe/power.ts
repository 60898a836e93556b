// What a recipe gives an app over the host, in words: `berth plan` shows it loudly, so
// nothing is granted without a person seeing it.
import type { App } from './app.js';

export function powerOverHost(app: App): string[] {
  return [
    ...(app.privileged ? ['runs PRIVILEGED: it has full access to this machine (privileged: true)'] : []),
    ...(app.podmanSocket
      ? ["gets podman's API socket (podman_socket: true): it can start, stop and read every container here"]
      : []),
    ...app.hostPaths.map(
      (h) =>
        `sees the host's ${h.path} at ${h.target}${h.readonly ? ' (read-only)' : ', and can WRITE there'} (host_paths)`,
    ),
    ...app.securityOpt.map((o) => `runs with security option ${o} (security_opt)`),
    ...(app.capabilities.length
      ? [`gets Linux capabilities ${app.capabilities.join(', ')} (capabilities)`]
      : []),
    ...app.devices.map((d) => `gets the host device ${d.path} (devices)`),
  ];
}
