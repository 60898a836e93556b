// Progress on a terminal: a pull's progress line is redrawn in place; every other line is
// printed as usual (after ending a line drawn in place). Off a terminal, every line as is.
import type { Io } from './command.js';

export function progressPrinter(io: Io, write: (s: string) => void = (s) => void process.stderr.write(s)) {
  let open = false;
  return (app: string, line: string) => {
    const text = `${app}: ${line}`;
    if (io.isTty && /^pulling \S+ {2}/.test(line)) {
      write(`\r\x1b[K${text}`);
      open = true;
      return;
    }
    if (open) write('\n');
    open = false;
    io.err(text);
  };
}
