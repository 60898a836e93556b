// One short D-Bus exchange with a deadline: connection errors and timeouts become undefined,
// and the connection is always closed, so doctor never hangs on a bus or leaves one open.
import dbus from 'dbus-next';

export async function withBus<T>(
  busAddress: string,
  timeoutMs: number,
  fn: (bus: dbus.MessageBus) => Promise<T>,
): Promise<T | undefined> {
  const bus = dbus.sessionBus({ busAddress });
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<undefined>((resolve) => {
    bus.on('error', () => resolve(undefined));
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([fn(bus).catch(() => undefined), giveUp]);
  } finally {
    clearTimeout(timer);
    bus.disconnect();
  }
}
