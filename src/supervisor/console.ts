// The one line an appliance prints where people look: every active kernel console (the
// monitor's tty0 and a serial console alike), after the first apply.
import { readFile, writeFile } from 'node:fs/promises';

export function readyLine(running: number, failed: number): string {
  return `berth: ready, ${running} apps running, ${failed} failed`;
}

export async function writeToConsoles(line: string): Promise<void> {
  const active = await readFile('/sys/class/tty/console/active', 'utf8').catch(() => 'console');
  const ttys = active.trim().split(/\s+/).filter(Boolean);
  await Promise.all(ttys.map((t) => writeFile(`/dev/${t}`, `\r\n${line}\r\n`).catch(() => undefined)));
}
