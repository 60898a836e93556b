// BERTH_WEB: where the status page listens. `off`, `PORT`, `ADDR:PORT` or `[ADDR6]:PORT`.
// Default: port 80 for the system service (the appliance); off for a user-mode berth (a
// sandbox, the tests), which would otherwise fight over one port.
export type WebListen = { host?: string; port: number } | undefined;

export class WebSettingError extends Error {}

export function parseWebSetting(value: string | undefined, user: boolean): WebListen {
  const v = value?.trim();
  if (v === undefined || v === '') return user ? undefined : { port: 80 };
  if (v === 'off') return undefined;
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[0-9.]+|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 0 || port > 65535)
    throw new WebSettingError(
      `BERTH_WEB='${v}' is not 'off', a port, or ADDR:PORT (e.g. 80, 0.0.0.0:8080, [::]:80)`,
    );
  const host = m[1]?.replace(/^\[|\]$/g, '');
  return { ...(host ? { host } : {}), port };
}
